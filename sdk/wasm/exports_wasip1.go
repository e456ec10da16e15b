//go:build wasip1

package wasm

import (
	"runtime"
	"runtime/metrics"
	"unsafe"

	"github.com/rapportcrm/rapport/sdk"
)

var (
	input  []byte
	output []byte
)

//go:wasmexport rapport_abi_version
func abiVersion() uint32 { return sdk.ABIVersion }

//go:wasmexport rapport_input
func inputBuffer(size uint32) uint32 {
	if cap(input) < int(size) || cap(input) == 0 {
		input = make([]byte, size, size+size/4+64)
	}
	input = input[:size]
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(input))))
}

// Go's background garbage collector makes no progress between exported
// calls (goroutines only run inside one), so a long-lived instance would
// grow until it hit its memory ceiling. The guest therefore collects
// explicitly once gcAfter bytes were allocated since the last collection:
// rarely enough to cost little, often enough to stay small.
const gcAfter = 16 << 20

var (
	allocated     = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	allocatedAtGC uint64
)

func collectIfNeeded() {
	metrics.Read(allocated)
	if allocated[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	if now := allocated[0].Value.Uint64(); now-allocatedAtGC > gcAfter {
		runtime.GC()
		allocatedAtGC = now
	}
}

//go:wasmexport rapport_call
func call(point, size uint32) uint64 {
	defer collectIfNeeded()
	if int(size) > len(input) {
		return packResult(sdk.AppendError(output[:0], "request larger than the input buffer"), true)
	}
	res, err := dispatch(point, input[:size], output[:0])
	if err != nil {
		output = sdk.AppendError(output[:0], err.Error())
		return packResult(output, true)
	}
	output = res
	return packResult(output, false)
}

// packResult encodes the location of out as the ABI's i64 result: bit 63
// is the error flag, bits 32–62 the pointer, bits 0–31 the length.
func packResult(out []byte, isErr bool) uint64 {
	var ptr uint64
	if cap(out) > 0 {
		ptr = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(out[:cap(out)]))))
	}
	res := ptr<<32 | uint64(uint32(len(out)))
	if isErr {
		res |= 1 << 63
	}
	return res
}

//go:wasmimport rapport log
func rapportLog(level uint32, ptr unsafe.Pointer, size uint32)

func hostLog(level, msg string) {
	l := uint32(1)
	switch level {
	case "debug":
		l = 0
	case "warn":
		l = 2
	case "error":
		l = 3
	}
	if len(msg) == 0 {
		return
	}
	rapportLog(l, unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
}
