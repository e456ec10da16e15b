// Package interrupt rewrites a WebAssembly module so that the host can stop
// a call into it from another goroutine, cheaply.
//
// The rewritten module defines two more globals. The first, a mutable i32
// exported as [Flag], is checked at the start of every function (unless
// the function opens with a loop) and at the head of every loop: a
// non-zero flag traps (unreachable). Any execution that runs for long
// either loops or calls functions, so it meets a check soon after the host
// sets the flag. A check is a load, a compare and a branch, where the
// engine's own termination check (wazero's close-on-context-done) is a
// call into a trampoline at every loop head, which costs Go guests, whose
// every function is a loop, about three quarters of their speed.
//
// Native code cannot be preempted by Go's scheduler, and a garbage
// collection stops the world: a guest that never returned to Go would
// stall every goroutine, the host's timer included, for as long as it ran.
// So each check also counts down the second global, and every [YieldEvery]
// checks the guest runs memory.grow 0, which the engine carries out in Go,
// where the scheduler can stop it.
//
// The module's start function, if it has one, is no longer run at
// instantiation but exported as [Start], so that the host runs it, like
// _initialize, while it can stop it. Custom sections of DWARF debug
// information are dropped: the code offsets they name have moved.
//
// Instrument walks every instruction to find the loops, so it knows the
// encoding of every instruction the host accepts (WebAssembly 2.0: the MVP,
// sign extension, saturating conversions, bulk memory, reference types,
// multi-value, SIMD) plus tail calls; a module using anything else is
// refused.
package interrupt

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Flag is the export name of the interrupt flag: set it to 1 to stop the
// instance at its next check. An instance stopped so must be discarded.
const Flag = "rapport.interrupt"

// Start is the export name given to the module's start function.
const Start = "rapport.start"

// YieldEvery is how many checks a guest runs between two returns to Go.
const YieldEvery = 1 << 14

// Version names the rewrite: hosts that keep rewritten modules across
// restarts key them by it. It changes whenever Instrument's output for
// some input does (TestVersionPinsTheRewrite holds a module's rewrite to
// the hash recorded for this version).
const Version = 1

const (
	secCustom  = 0
	secImport  = 2
	secMemory  = 5
	secGlobal  = 6
	secExport  = 7
	secStart   = 8
	secCode    = 10
	kindFunc   = 0
	kindGlobal = 3
)

// order is each known section's place in a module.
var order = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

// ErrMalformed wraps every reason a module cannot be instrumented.
var ErrMalformed = errors.New("cannot instrument module")

type section struct {
	id      byte
	payload []byte
}

// Instrument returns code rewritten as the package documentation says. It
// does not validate the module beyond what it reads; the engine does that
// when compiling the result.
func Instrument(code []byte) ([]byte, error) {
	if len(code) < 8 || !bytes.Equal(code[:4], []byte("\x00asm")) {
		return nil, fmt.Errorf("%w: not a WebAssembly binary", ErrMalformed)
	}
	if !bytes.Equal(code[4:8], []byte{1, 0, 0, 0}) {
		return nil, fmt.Errorf("%w: binary format version %x, want 1", ErrMalformed, code[4:8])
	}
	r := &reader{b: code, pos: 8}
	var secs []section
	for !r.done() {
		id := r.byte()
		size := r.u32()
		payload := r.bytes(int(size))
		if r.err != nil {
			return nil, r.fail("section %d", id)
		}
		secs = append(secs, section{id, payload})
	}

	var importedGlobals, definedGlobals uint32
	hasMemory := false
	startFunc, hasStart := uint32(0), false
	for _, s := range secs {
		switch s.id {
		case secImport:
			n, mems, err := countImports(s.payload)
			if err != nil {
				return nil, err
			}
			importedGlobals = n
			hasMemory = hasMemory || mems > 0
		case secGlobal:
			sr := &reader{b: s.payload}
			definedGlobals = sr.u32()
			if sr.err != nil {
				return nil, sr.fail("global section")
			}
		case secMemory:
			sr := &reader{b: s.payload}
			hasMemory = hasMemory || sr.u32() > 0
		case secStart:
			sr := &reader{b: s.payload}
			startFunc, hasStart = sr.u32(), true
			if sr.err != nil {
				return nil, sr.fail("start section")
			}
		}
	}
	flag := importedGlobals + definedGlobals
	budget := flag + 1
	chk := check(flag, budget, hasMemory)

	var out []section
	addedGlobal, addedExport := false, false
	// newGlobals holds two entries: appendVec counts them as one more.
	newGlobals := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b, // flag: (mut i32) (i32.const 0)
		0x7f, 0x01, 0x41, 0x80, 0x80, 0x01, 0x0b} // budget: (mut i32) (i32.const YieldEvery)
	for _, s := range secs {
		if s.id == secCustom && isDebug(s.payload) {
			continue
		}
		if s.id == secStart {
			continue
		}
		if s.id != secCustom && !addedGlobal && order[s.id] > order[secGlobal] {
			out = append(out, section{secGlobal, appendVec(nil, 1, nil, newGlobals)})
			addedGlobal = true
		}
		if s.id != secCustom && !addedExport && order[s.id] > order[secExport] {
			exp, err := exports(nil, flag, startFunc, hasStart)
			if err != nil {
				return nil, err
			}
			out = append(out, section{secExport, exp})
			addedExport = true
		}
		switch s.id {
		case secGlobal:
			sr := &reader{b: s.payload}
			n := sr.u32()
			out = append(out, section{secGlobal, appendVec(nil, n+1, sr.b[sr.pos:], newGlobals)})
			addedGlobal = true
		case secExport:
			exp, err := exports(s.payload, flag, startFunc, hasStart)
			if err != nil {
				return nil, err
			}
			out = append(out, section{secExport, exp})
			addedExport = true
		case secCode:
			c, err := instrumentCode(s.payload, chk)
			if err != nil {
				return nil, err
			}
			out = append(out, section{secCode, c})
		default:
			out = append(out, s)
		}
	}
	if !addedGlobal {
		out = append(out, section{secGlobal, appendVec(nil, 1, nil, newGlobals)})
	}
	if !addedExport {
		exp, err := exports(nil, flag, startFunc, hasStart)
		if err != nil {
			return nil, err
		}
		out = append(out, section{secExport, exp})
	}

	res := make([]byte, 0, len(code)+len(code)/8+64)
	res = append(res, code[:8]...)
	for _, s := range out {
		res = append(res, s.id)
		res = appendU32(res, uint32(len(s.payload)))
		res = append(res, s.payload...)
	}
	return res, nil
}

// isDebug reports whether a custom section holds DWARF (".debug_…").
func isDebug(payload []byte) bool {
	r := &reader{b: payload}
	name := r.bytes(int(r.u32()))
	return r.err == nil && strings.HasPrefix(string(name), ".debug_")
}

// appendVec appends a vector of n+1 entries: n already encoded in rest,
// then extra.
func appendVec(b []byte, n uint32, rest []byte, extra ...[]byte) []byte {
	b = appendU32(b, n+uint32(len(extra)))
	b = append(b, rest...)
	for _, e := range extra {
		b = append(b, e...)
	}
	return b
}

// exports returns the export section payload with the flag (and the start
// function) added, refusing a module that already uses their names.
func exports(payload []byte, flag, start uint32, hasStart bool) ([]byte, error) {
	var n uint32
	var rest []byte
	if payload != nil {
		r := &reader{b: payload}
		n = r.u32()
		for i := uint32(0); i < n && r.err == nil; i++ {
			name := r.bytes(int(r.u32()))
			r.byte()
			r.u32()
			if s := string(name); s == Flag || s == Start {
				return nil, fmt.Errorf("%w: it already exports %q, a name the host reserves", ErrMalformed, s)
			}
		}
		if r.err != nil || !r.done() {
			return nil, r.fail("export section")
		}
		rest = payload[(&reader{b: payload}).skipU32():]
	}
	extra := [][]byte{exportEntry(Flag, kindGlobal, flag)}
	if hasStart {
		extra = append(extra, exportEntry(Start, kindFunc, start))
	}
	return appendVec(nil, n, rest, extra...), nil
}

func exportEntry(name string, kind byte, idx uint32) []byte {
	b := appendU32(nil, uint32(len(name)))
	b = append(b, name...)
	b = append(b, kind)
	return appendU32(b, idx)
}

// countImports counts the imported globals and memories.
func countImports(payload []byte) (globals, memories uint32, err error) {
	r := &reader{b: payload}
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.bytes(int(r.u32())) // module
		r.bytes(int(r.u32())) // name
		switch kind := r.byte(); kind {
		case 0: // function: type index
			r.u32()
		case 1: // table: reference type, limits
			r.byte()
			r.limits()
		case 2: // memory: limits
			r.limits()
			memories++
		case 3: // global: value type, mutability
			r.byte()
			r.byte()
			globals++
		case 4: // tag: attribute, type index
			r.byte()
			r.u32()
		default:
			return 0, 0, fmt.Errorf("%w: import of unknown kind %d", ErrMalformed, kind)
		}
	}
	if r.err != nil || !r.done() {
		return 0, 0, r.fail("import section")
	}
	return globals, memories, nil
}

// check is the code inserted at each function's start and loop's head:
//
//	global.get flag; if; unreachable; end
//	budget = budget − 1
//	if budget == 0 { budget = YieldEvery; drop(memory.grow 0) }
//
// The second part only when the module has a memory to grow.
func check(flag, budget uint32, hasMemory bool) []byte {
	b := appendU32([]byte{0x23}, flag)
	b = append(b, 0x04, 0x40, 0x00, 0x0b)
	if !hasMemory {
		return b
	}
	b = appendU32(append(b, 0x23), budget)
	b = appendU32(append(b, 0x41, 0x01, 0x6b, 0x24), budget) // i32.const 1; i32.sub; global.set
	b = appendU32(append(b, 0x23), budget)
	b = append(b, 0x45, 0x04, 0x40, 0x41, 0x80, 0x80, 0x01, 0x24) // i32.eqz; if; i32.const YieldEvery; global.set
	b = appendU32(b, budget)
	return append(b, 0x41, 0x00, 0x40, 0x00, 0x1a, 0x0b) // i32.const 0; memory.grow 0; drop; end
}

func instrumentCode(payload []byte, chk []byte) ([]byte, error) {
	r := &reader{b: payload}
	n := r.u32()
	out := appendU32(make([]byte, 0, len(payload)+len(payload)/8), n)
	var body []byte
	for i := uint32(0); i < n; i++ {
		size := r.u32()
		fn := r.bytes(int(size))
		if r.err != nil {
			return nil, r.fail("code section, function %d", i)
		}
		var err error
		body, err = instrumentBody(body[:0], fn, chk)
		if err != nil {
			return nil, fmt.Errorf("%w (function body %d)", err, i)
		}
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	if !r.done() {
		return nil, r.fail("code section: bytes after the last function")
	}
	return out, nil
}

// instrumentBody copies one function body (locals, then instructions) to
// out with chk inserted after the locals and after each loop's block type.
func instrumentBody(out, fn, chk []byte) ([]byte, error) {
	r := &reader{b: fn}
	groups := r.u32()
	for g := uint32(0); g < groups && r.err == nil; g++ {
		r.u32()
		r.byte()
	}
	if r.err != nil {
		return nil, r.fail("locals")
	}
	out = append(out, fn[:r.pos]...)
	// A body that opens with a loop (every function Go compiles does)
	// meets the loop's check at once: one check is enough.
	if r.pos >= len(fn) || fn[r.pos] != 0x03 {
		out = append(out, chk...)
	}
	copied := r.pos
	for !r.done() {
		op := r.byte()
		switch {
		case op == 0x03: // loop
			r.blockType()
			out = append(out, fn[copied:r.pos]...)
			out = append(out, chk...)
			copied = r.pos
		case op == 0x02 || op == 0x04: // block, if
			r.blockType()
		case op == 0x0c || op == 0x0d || op == 0x10 || op == 0x12 || op == 0xd2 || // br, br_if, call, return_call, ref.func
			(op >= 0x20 && op <= 0x26) || op == 0x3f || op == 0x40: // locals, globals, table.get/set, memory.size/grow
			r.u32()
		case op == 0x0e: // br_table
			for k := r.u32(); k > 0 && r.err == nil; k-- {
				r.u32()
			}
			r.u32()
		case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
			r.u32()
			r.u32()
		case op == 0x1c: // select with types
			r.bytes(int(r.u32()))
		case op >= 0x28 && op <= 0x3e: // loads and stores
			r.memarg()
		case op == 0x41 || op == 0x42 || op == 0xd0: // i32.const, i64.const, ref.null
			r.leb()
		case op == 0x43:
			r.bytes(4)
		case op == 0x44:
			r.bytes(8)
		case op <= 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x1a || op == 0x1b ||
			(op >= 0x45 && op <= 0xc4) || op == 0xd1:
			// no immediates
		case op == 0xfc:
			r.prefixedFC()
		case op == 0xfd:
			r.prefixedFD()
		default:
			return nil, fmt.Errorf("%w: instruction 0x%02x at byte %d is not supported", ErrMalformed, op, r.pos-1)
		}
		if r.err != nil {
			return nil, r.fail("instruction 0x%02x", op)
		}
	}
	if len(fn) == 0 || fn[len(fn)-1] != 0x0b {
		return nil, fmt.Errorf("%w: function body does not end with end", ErrMalformed)
	}
	return append(out, fn[copied:]...), nil
}

// reader reads a module's encoding; the first failure sticks in err.
type reader struct {
	b   []byte
	pos int
	err error
}

var errShort = errors.New("unexpected end")

func (r *reader) done() bool { return r.err != nil || r.pos >= len(r.b) }

func (r *reader) fail(format string, args ...any) error {
	err := r.err
	if err == nil {
		err = errors.New("trailing bytes")
	}
	return fmt.Errorf("%w: %s: %v", ErrMalformed, fmt.Sprintf(format, args...), err)
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.pos >= len(r.b) {
		r.err = errShort
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.pos {
		r.err = errShort
		return nil
	}
	s := r.b[r.pos : r.pos+n]
	r.pos += n
	return s
}

// leb skips a LEB128 number of at most 10 bytes, signed or not.
func (r *reader) leb() {
	for i := 0; i < 10; i++ {
		if r.byte()&0x80 == 0 {
			return
		}
	}
	if r.err == nil {
		r.err = errors.New("LEB128 number too long")
	}
}

func (r *reader) u32() uint32 {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if v > 1<<32-1 {
				r.err = errors.New("u32 out of range")
				return 0
			}
			return uint32(v)
		}
	}
	r.err = errors.New("u32 too long")
	return 0
}

// skipU32 returns the length of the u32 at the reader's start.
func (r *reader) skipU32() int {
	r.u32()
	return r.pos
}

func (r *reader) limits() {
	flags := r.byte()
	r.leb()
	if flags&1 != 0 {
		r.leb()
	}
}

func (r *reader) blockType() {
	if r.err != nil || r.pos >= len(r.b) {
		r.err = errShort
		return
	}
	switch r.b[r.pos] {
	case 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		r.pos++
	default:
		r.leb() // a type index, as a signed 33-bit number
	}
}

func (r *reader) memarg() {
	align := r.u32()
	if align&0x40 != 0 { // multiple memories: a memory index follows
		r.u32()
	}
	r.leb() // offset
}

func (r *reader) prefixedFC() {
	switch sub := r.u32(); {
	case sub <= 7: // saturating truncations
	case sub == 8, sub == 10, sub == 12, sub == 14: // memory.init, memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	case sub <= 17: // data.drop, memory.fill, elem.drop, table.grow/size/fill
		r.u32()
	default:
		if r.err == nil {
			r.err = fmt.Errorf("instruction 0xfc %d is not supported", sub)
		}
	}
}

func (r *reader) prefixedFD() {
	switch sub := r.u32(); {
	case sub <= 11, sub == 92, sub == 93: // loads, store, load zero
		r.memarg()
	case sub == 12, sub == 13: // v128.const, i8x16.shuffle
		r.bytes(16)
	case sub >= 21 && sub <= 34: // extract and replace lane
		r.byte()
	case sub >= 84 && sub <= 91: // load and store lane
		r.memarg()
		r.byte()
	default:
		// every other SIMD instruction has no immediate
	}
}

func appendU32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
