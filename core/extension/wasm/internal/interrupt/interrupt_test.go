package interrupt

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// The test modules are assembled by hand; each function's comment gives
// its text form.

func vec(items ...[]byte) []byte {
	b := appendU32(nil, uint32(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

func name(s string) []byte { return append(appendU32(nil, uint32(len(s))), s...) }

func sec(id byte, payload []byte) []byte {
	return append(appendU32([]byte{id}, uint32(len(payload))), payload...)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// body is a function body with no locals but the groups given.
func body(locals []byte, code ...byte) []byte {
	b := cat(locals, code)
	return append(appendU32(nil, uint32(len(b))), b...)
}

func module(sections ...[]byte) []byte {
	return cat([]byte("\x00asm\x01\x00\x00\x00"), cat(sections...))
}

var (
	typeVoid   = []byte{0x60, 0, 0}             // () -> ()
	typeI32    = []byte{0x60, 0, 1, 0x7f}       // () -> i32
	typeI64    = []byte{0x60, 0, 1, 0x7e}       // () -> i64
	typeF64    = []byte{0x60, 0, 1, 0x7c}       // () -> f64
	typeI32I32 = []byte{0x60, 1, 0x7f, 1, 0x7f} // (i32) -> i32
	noLocals   = []byte{0}
)

// spinModule exports "spin", which loops for ever:
//
//	(memory 1)
//	(func (export "spin") (loop (br 0)))
func spinModule() []byte {
	return module(
		sec(1, vec(typeVoid)),
		sec(3, vec([]byte{0})),
		sec(5, vec([]byte{0x00, 0x01})),
		sec(7, vec(cat(name("spin"), []byte{0, 0}))),
		sec(10, vec(body(noLocals, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b))),
	)
}

// richModule uses one instruction of each encoding the walker knows and
// has a start function; every export returns a value computed from them.
func richModule() []byte {
	// Global 0 is imported (i32, immutable); global 1 is defined (mut
	// i32) and set by the start function, so the flag is global 2.
	imports := sec(2, vec(cat(name("env"), name("base"), []byte{0x03, 0x7f, 0x00})))
	types := sec(1, vec(typeVoid, typeI32, typeI64, typeF64, typeI32I32))
	// functions: 0 start, 1 sum, 2 table, 3 mem, 4 simd, 5 consts, 6 double (i32->i32)
	funcs := sec(3, vec([]byte{0}, []byte{1}, []byte{1}, []byte{1}, []byte{2}, []byte{3}, []byte{4}))
	table := sec(4, vec([]byte{0x70, 0x00, 0x01})) // funcref table, min 1
	memory := sec(5, vec([]byte{0x00, 0x01}))      // 1 page
	globals := sec(6, vec([]byte{0x7f, 0x01, 0x41, 0x00, 0x0b}))
	exports := sec(7, vec(
		cat(name("sum"), []byte{0, 1}),
		cat(name("table"), []byte{0, 2}),
		cat(name("mem"), []byte{0, 3}),
		cat(name("simd"), []byte{0, 4}),
		cat(name("consts"), []byte{0, 5}),
		cat(name("g"), []byte{3, 1}),
		cat(name("memory"), []byte{2, 0}),
	))
	start := sec(8, []byte{0x00})
	// elem: active segment 0 at offset 0 holding function 6
	elem := sec(9, vec([]byte{0x00, 0x41, 0x00, 0x0b, 0x01, 0x06}))
	code := sec(10, vec(
		// start: global 1 = global 0 + 7
		body(noLocals, 0x23, 0x00, 0x41, 0x07, 0x6a, 0x24, 0x01, 0x0b),
		// sum: local i = 10, s = 0; loop { s += i; i -= 1; br_if i != 0 }
		// then br_table on s % 3 into nested blocks, adding 1000, 2000 or 3000;
		// a typed select picks s.
		body([]byte{1, 2, 0x7f},
			0x41, 0x0a, 0x21, 0x00, // i = 10
			0x03, 0x40, // loop
			0x20, 0x01, 0x20, 0x00, 0x6a, 0x21, 0x01, // s += i
			0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, // i = i - 1 (tee)
			0x0d, 0x00, // br_if 0
			0x0b,                               // end loop
			0x02, 0x40, 0x02, 0x40, 0x02, 0x40, // block block block
			0x20, 0x01, 0x41, 0x03, 0x70, // s % 3
			0x0e, 0x02, 0x00, 0x01, 0x02, // br_table 0 1 default 2
			0x0b, 0x20, 0x01, 0x41, 0xe8, 0x07, 0x6a, 0x21, 0x01, // end; s += 1000
			0x0b, 0x20, 0x01, 0x41, 0xd0, 0x0f, 0x6a, 0x21, 0x01, // end; s += 2000
			0x0b,                                                 // end
			0x20, 0x01, 0x41, 0x00, 0x41, 0x01, 0x1c, 0x01, 0x7f, // select (result i32) s 0 1
			0x0b),
		// table: call_indirect (type 4) 21 through table slot 0, plus ref.is_null(ref.null func) + ref.is_null(ref.func 6)
		body(noLocals,
			0x41, 0x15, 0x41, 0x00, 0x11, 0x04, 0x00,
			0xd0, 0x70, 0xd1, 0x6a,
			0xd2, 0x06, 0xd1, 0x6a,
			0x0b),
		// mem: fill 8 bytes at 16 with 3, copy them to 32, store i32 0x01020304 at 40 (offset 8 from 32),
		// return load8_u(32) + load(40) + memory.size
		body(noLocals,
			0x41, 0x10, 0x41, 0x03, 0x41, 0x08, 0xfc, 0x0b, 0x00, // memory.fill
			0x41, 0x20, 0x41, 0x10, 0x41, 0x08, 0xfc, 0x0a, 0x00, 0x00, // memory.copy
			0x41, 0x20, 0x41, 0x84, 0x86, 0x88, 0x08, 0x36, 0x02, 0x08, // i32.store offset=8
			0x41, 0x20, 0x2d, 0x00, 0x00, // i32.load8_u
			0x41, 0x28, 0x28, 0x02, 0x00, 0x6a, // + i32.load
			0x3f, 0x00, 0x6a, // + memory.size
			0x0b),
		// simd: v128.const i64x2 (5, 6), i64x2.extract_lane 1 → 6, plus i32.trunc_sat_f64_s(2.5) extended
		body(noLocals, cat([]byte{0xfd, 0x0c}, le64(5, 6), []byte{
			0xfd, 0x1d, 0x01, // i64x2.extract_lane 1
			0x44, 0, 0, 0, 0, 0, 0, 4, 0x40, // f64.const 2.5
			0xfc, 0x02, // i32.trunc_sat_f64_s
			0xac, 0x7c, // i64.extend_i32_s, i64.add
			0x0b})...),
		// consts: f64 1.5 + f32 0.25 promoted + i64 −1 converted
		body(noLocals,
			0x44, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, // f64.const 1.5
			0x43, 0, 0, 0x80, 0x3e, 0xbb, // f32.const 0.25, f64.promote_f32
			0xa0,                   // f64.add
			0x42, 0x7f, 0xb9, 0xa0, // i64.const -1, f64.convert_i64_s, f64.add
			0x0b),
		// double: x * 2
		body(noLocals, 0x20, 0x00, 0x41, 0x02, 0x6c, 0x0b),
	))
	return module(types, imports, funcs, table, memory, globals, exports, start, elem, code)
}

func le64(a, b uint64) []byte {
	out := make([]byte, 16)
	for i := 0; i < 8; i++ {
		out[i] = byte(a >> (8 * i))
		out[8+i] = byte(b >> (8 * i))
	}
	return out
}

func newRuntime(t testing.TB) (context.Context, wazero.Runtime) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { r.Close(ctx) })
	return ctx, r
}

// instantiate compiles code with the global env.base = 35 provided.
func instantiate(t *testing.T, code []byte) api.Module {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { r.Close(ctx) })
	env := module(
		sec(6, vec([]byte{0x7f, 0x00, 0x41, 0x23, 0x0b})),
		sec(7, vec(cat(name("base"), []byte{3, 0}))),
	)
	if _, err := r.InstantiateWithConfig(ctx, env, wazero.NewModuleConfig().WithName("env")); err != nil {
		t.Fatal(err)
	}
	mod, err := r.InstantiateWithConfig(ctx, code, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

func TestInstrumentKeepsBehaviour(t *testing.T) {
	orig := richModule()
	inst, err := Instrument(orig)
	if err != nil {
		t.Fatal(err)
	}
	before, after := instantiate(t, orig), instantiate(t, inst)
	// The original's start ran at instantiation: g = 35 + 7. The
	// instrumented module's start is exported instead, and has not run.
	if g := before.ExportedGlobal("g").Get(); g != 42 {
		t.Fatalf("original g = %d, want 42", g)
	}
	if g := after.ExportedGlobal("g").Get(); g != 0 {
		t.Fatalf("instrumented g = %d before its start ran, want 0", g)
	}
	if _, err := after.ExportedFunction(Start).Call(context.Background()); err != nil {
		t.Fatal(err)
	}
	if g := after.ExportedGlobal("g").Get(); g != 42 {
		t.Fatalf("instrumented g = %d after its start ran, want 42", g)
	}
	// Expected values worked by hand:
	//   sum: 10+9+…+1 = 55; 55 % 3 = 1 → br_table target 1 skips the
	//        +1000 and lands before +2000: 2055; select picks s (cond 1).
	//   table: double(21) = 42, +1 (ref.null is null) +0 (ref.func is not) = 43.
	//   mem: load8_u(32) = 3 (copied fill), load(40) = 0x01020304 = 16909060, +1 page = 16909064.
	//   simd: lane 1 = 6, trunc_sat(2.5) = 2 → 8.
	//   consts: 1.5 + 0.25 − 1 = 0.75.
	want := map[string]uint64{"sum": 2055, "table": 43, "mem": 16909064, "simd": 8, "consts": math.Float64bits(0.75)}
	for fn, w := range want {
		for _, m := range []api.Module{before, after} {
			res, err := m.ExportedFunction(fn).Call(context.Background())
			if err != nil {
				t.Fatalf("%s: %v", fn, err)
			}
			if res[0] != w {
				t.Errorf("%s = %d, want %d", fn, res[0], w)
			}
		}
	}
	// The flag is the third global: one imported, one defined before it.
	if _, ok := after.ExportedGlobal(Flag).(api.MutableGlobal); !ok {
		t.Fatal("no mutable flag exported")
	}
	if got := checksIn(t, inst, 2); got != 7+1 {
		t.Errorf("%d checks, want one per function (7) and per loop (1)", got)
	}
}

// checksIn counts the inserted checks in an instrumented module.
func checksIn(t *testing.T, code []byte, flag byte) int {
	t.Helper()
	n := 0
	for i := 0; i+6 < len(code); i++ {
		if code[i] == 0x23 && code[i+1] == flag && code[i+2] == 0x04 && code[i+3] == 0x40 && code[i+4] == 0x00 && code[i+5] == 0x0b {
			n++
		}
	}
	return n
}

func TestFlagStopsALoop(t *testing.T) {
	code, err := Instrument(spinModule())
	if err != nil {
		t.Fatal(err)
	}
	// spin opens with its loop: the loop's check is its only one.
	if got := checksIn(t, code, 0); got != 1 {
		t.Errorf("%d checks, want 1", got)
	}
	ctx, r := newRuntime(t)
	mod, err := r.Instantiate(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	flag := mod.ExportedGlobal(Flag).(api.MutableGlobal)
	done := make(chan error, 1)
	go func() {
		_, err := mod.ExportedFunction("spin").Call(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("spin returned before the flag was set: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	// A garbage collection stops the world: it must get past the
	// spinning guest, which returns to Go every YieldEvery checks.
	gc := make(chan struct{})
	go func() { runtime.GC(); close(gc) }()
	select {
	case <-gc:
	case <-time.After(time.Minute):
		t.Fatal("a garbage collection waited for the spinning guest")
	}
	select {
	case err := <-done:
		t.Fatalf("spin returned before the flag was set: %v", err)
	default:
	}
	flag.Set(1)
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("spin returned without error")
		}
	case <-time.After(time.Minute):
		t.Fatal("spin did not stop after the flag was set")
	}
}

func TestInstrumentRefuses(t *testing.T) {
	spin := spinModule()
	reserved := module(
		sec(1, vec(typeVoid)),
		sec(3, vec([]byte{0})),
		sec(7, vec(cat(name(Flag), []byte{0, 0}))),
		sec(10, vec(body(noLocals, 0x0b))),
	)
	tryBlock := module(
		sec(1, vec(typeVoid)),
		sec(3, vec([]byte{0})),
		sec(10, vec(body(noLocals, 0x06, 0x40, 0x0b, 0x0b))),
	)
	for _, c := range []struct {
		name string
		code []byte
	}{
		{"empty", nil},
		{"not wasm", []byte("#!/bin/sh\necho hi\n")},
		{"version 2", append([]byte("\x00asm\x02\x00\x00\x00"), spin[8:]...)},
		{"truncated", spin[:len(spin)-3]},
		{"reserved export", reserved},
		{"legacy exceptions", tryBlock},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Instrument(c.code); !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
}

// TestRealModules instruments every plugin module in the repository and
// compiles the result.
func TestRealModules(t *testing.T) {
	paths, _ := filepath.Glob("../../../../../plugins/*/plugin.wasm")
	more, _ := filepath.Glob("../../../../../examples/*/plugin.wasm")
	paths = append(paths, more...)
	if len(paths) < 4 {
		t.Fatalf("found %d plugin modules, want the four bundled ones at least", len(paths))
	}
	ctx, r := newRuntime(t)
	for _, p := range paths {
		code, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := Instrument(code)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if raceEnabled {
			continue // instrumenting is checked; compiling takes minutes under -race
		}
		c, err := r.CompileModule(ctx, inst)
		if err != nil {
			t.Fatalf("%s: instrumented module does not compile: %v", p, err)
		}
		if _, ok := c.ExportedFunctions()["rapport_call"]; !ok {
			t.Fatalf("%s: lost its exports", p)
		}
		c.Close(ctx)
	}
}

// FuzzInstrument feeds arbitrary bytes: Instrument never panics, and a
// module the engine compiles still compiles once instrumented.
func FuzzInstrument(f *testing.F) {
	f.Add(spinModule())
	f.Add(richModule())
	f.Fuzz(func(t *testing.T, code []byte) {
		out, err := Instrument(code)
		if err != nil {
			return
		}
		ctx := context.Background()
		r := wazero.NewRuntime(ctx)
		defer r.Close(ctx)
		if _, err := r.CompileModule(ctx, code); err != nil {
			return
		}
		if _, err := r.CompileModule(ctx, out); err != nil {
			t.Fatalf("original compiles, instrumented does not: %v", err)
		}
	})
}

// TestVersionPinsTheRewrite holds the rewrite of the hand-assembled module
// to the hash recorded for [Version]. Hosts keep rewritten modules across
// restarts keyed by Version, so a change to Instrument's output that kept
// the version would have them run the old rewrite. When this fails, bump
// Version and record the new hash.
func TestVersionPinsTheRewrite(t *testing.T) {
	pinned := map[int]string{
		1: "6f5aec9f57c8447e6c42e95ca3e696f46d4f20857836543bde02df5ea1b94ea5",
	}
	out, err := Instrument(richModule())
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%x", sha256.Sum256(out))
	if want, ok := pinned[Version]; !ok || got != want {
		t.Fatalf("the rewrite of the test module hashes to %s, but version %d recorded %q: bump Version and record the hash", got, Version, want)
	}
}
