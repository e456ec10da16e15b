package wasm

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/rapportcrm/rapport/sdk"
)

// statedABI reads the ABI version a module states in its custom section
// sdk.ABISection, without compiling or running anything: it walks the
// module's top-level sections. stated is false when there is no such
// section. code may be a file mapping that faults when another program
// truncates the file: that is an error, as in compile.
func statedABI(code []byte) (version uint32, stated bool, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(interface{ Addr() uintptr }); !ok {
				panic(r)
			}
			version, stated, err = 0, false, errors.New("the module's file changed while it was read")
		}
	}()
	if len(code) < 8 || string(code[:4]) != "\x00asm" {
		return 0, false, errors.New("not a WebAssembly module")
	}
	rest := code[8:]
	for len(rest) > 0 {
		id := rest[0]
		size, n := uleb(rest[1:])
		if n == 0 || uint64(len(rest)-1-n) < size {
			return 0, false, errors.New("malformed section header")
		}
		body := rest[1+n : 1+n+int(size)]
		rest = rest[1+n+int(size):]
		if id != 0 {
			continue
		}
		nameLen, n := uleb(body)
		if n == 0 || uint64(len(body)-n) < nameLen {
			return 0, false, errors.New("malformed custom section")
		}
		if string(body[n:n+int(nameLen)]) != sdk.ABISection {
			continue
		}
		v, m := uleb(body[n+int(nameLen):])
		if m == 0 || v > 1<<32-1 {
			return 0, false, fmt.Errorf("custom section %q: want an unsigned LEB128 version", sdk.ABISection)
		}
		return uint32(v), true, nil
	}
	return 0, false, nil
}

// uleb decodes an unsigned LEB128 number of at most 64 bits from b: its
// value and length, 0 when b does not hold one.
func uleb(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}
