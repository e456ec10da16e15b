package wasm

import (
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// ceilingMemory backs one instance's linear memory and enforces the memory
// ceiling itself, remembering when it refused to grow. The runtime's own
// limit is set above the ceiling (limitPages), so that every grow past it
// reaches Reallocate: a guest whose allocator gets -1 from memory.grow
// usually traps next (AssemblyScript and Go abort, C returns NULL and
// crashes), and that trap is then reported as "memory", wherever the
// memory stood when the last grow was refused (a guest that doubles its
// memory fails at half the ceiling).
type ceilingMemory struct {
	buf     []byte
	limit   uint64
	refused *atomic.Bool
}

// Reallocate grows the memory to size bytes, or refuses (nil) past the
// ceiling. Bytes beyond the old length are zero: the buffer never shrinks,
// so they were never exposed.
func (c *ceilingMemory) Reallocate(size uint64) []byte {
	if size > c.limit {
		c.refused.Store(true)
		return nil
	}
	if size <= uint64(cap(c.buf)) {
		c.buf = c.buf[:size]
		return c.buf
	}
	capacity := min(max(size, 2*uint64(cap(c.buf))), c.limit)
	grown := make([]byte, size, capacity)
	copy(grown, c.buf)
	c.buf = grown
	return grown
}

// Free drops the memory.
func (c *ceilingMemory) Free() { c.buf = nil }

// allocator returns the allocator of an instance's memory, limited to
// pages and setting refused when it refuses to grow.
func allocator(pages uint32, refused *atomic.Bool) experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(capacity, _ uint64) experimental.LinearMemory {
		limit := uint64(pages) * 65536
		return &ceilingMemory{buf: make([]byte, 0, min(capacity, limit)), limit: limit, refused: refused}
	})
}

// limitPages is the runtime's memory limit for a ceiling of pages: twice
// the ceiling (so a guest's doubling grow still reaches ceilingMemory),
// within WebAssembly's 4 GiB.
func limitPages(pages uint32) uint32 {
	return uint32(min(2*uint64(pages), 65536))
}
