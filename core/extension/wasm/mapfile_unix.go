//go:build unix

package wasm

import (
	"os"
	"syscall"
)

// mapFile returns the file at path mapped read-only, and what unmaps it.
// Reading a module into the heap costs a page fault on fresh memory per
// 4 KiB, which on a virtual machine is most of the reading; a mapping
// shares the pages the system already holds.
//
// The mapping reflects later changes to the file, and a read past an end
// that another program truncated faults: callers read it with
// debug.SetPanicOnFault (see guarded).
func mapFile(path string) ([]byte, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := st.Size()
	if size == 0 || size != int64(int(size)) {
		b, err := os.ReadFile(path)
		return b, func() {}, err
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		b, err := os.ReadFile(path)
		return b, func() {}, err
	}
	return b, func() { syscall.Munmap(b) }, nil
}
