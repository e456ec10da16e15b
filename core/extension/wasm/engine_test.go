package wasm

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/extension/build"
	"github.com/rapportcrm/rapport/sdk"
)

var (
	guestOnce sync.Once
	guestWasm []byte
	guestErr  error
)

// guest compiles testdata/guest to WebAssembly once per test run.
func guest(t testing.TB) []byte {
	t.Helper()
	guestOnce.Do(func() {
		dir, err := os.MkdirTemp("", "guest-")
		if err != nil {
			guestErr = err
			return
		}
		out := filepath.Join(dir, "guest.wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, "./testdata/guest")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			guestErr = errors.New(string(b))
			return
		}
		guestWasm, guestErr = os.ReadFile(out)
	})
	if guestErr != nil {
		t.Fatal(guestErr)
	}
	// As rapport plugin build does: a Go guest runs nothing before
	// _initialize, so it states its ABI in a custom section.
	return build.AppendABISection(guestWasm[:len(guestWasm):len(guestWasm)])
}

func load(t testing.TB, limits Limits) *Module {
	t.Helper()
	e, err := NewEngine(Config{CacheDir: filepath.Join(os.TempDir(), "rapport-wasm-test-cache")})
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.Load(context.Background(), "guest@test", guest(t), limits, Grants{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

func request(n int, mode string) *sdk.ScoreRequest {
	amount := make([]float64, n)
	for i := range amount {
		amount[i] = float64(i * 10)
	}
	return &sdk.ScoreRequest{
		Batch:  sdk.Batch{SubjectType: "lead", Count: n, Columns: []sdk.Column{{Name: "amount", Numbers: amount}}},
		Config: []byte(`{"Mode":"` + mode + `"}`),
	}
}

func TestScoreThroughTheABI(t *testing.T) {
	m := load(t, Limits{})
	for _, n := range []int{0, 1, 1000} {
		resp, err := m.Score(context.Background(), request(n, ""))
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if len(resp.Values) != n {
			t.Fatalf("n=%d: %d values", n, len(resp.Values))
		}
		for i := 0; i < n; i++ {
			// The guest computes log1p(amount); the host checks it independently.
			if want := math.Log1p(float64(i * 10)); math.Abs(resp.Values[i]-want) > 1e-12 || resp.Contribution(i, 0) != resp.Values[i] {
				t.Fatalf("value[%d] = %v, want %v", i, resp.Values[i], want)
			}
			if (resp.Values[i] > 5) != (resp.Label(i) == "hot") {
				t.Fatalf("label[%d] = %q for %v", i, resp.Label(i), resp.Values[i])
			}
		}
	}
}

// TestFaultsAreContained runs every misbehaviour the sandbox must survive
// and checks that each yields a Fault with the right cause and that the
// module still scores afterwards.
func TestFaultsAreContained(t *testing.T) {
	// The loop needs a short deadline; the memory bomb a long one, so that
	// it reaches its (small) ceiling first even under the race detector.
	short := load(t, Limits{Timeout: 2 * time.Second, MemoryPages: 512})
	long := load(t, Limits{Timeout: time.Minute, MemoryPages: 256})
	for _, c := range []struct{ mode, cause string }{
		{"loop", "timeout"},
		{"bomb", "memory"},
		// Refused a grow while far below the ceiling: still "memory".
		{"big", "memory"},
		{"crash", "trap"},
		{"panic", "plugin_error"},
		{"error", "plugin_error"},
		{"wrongcount", "malformed"},
		{"nan", "malformed"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			m := short
			if c.mode == "bomb" || c.mode == "big" {
				m = long
			}
			start := time.Now()
			_, err := m.Score(context.Background(), request(10, c.mode))
			var f *Fault
			if !errors.As(err, &f) || f.Cause != c.cause {
				t.Fatalf("err = %v, want cause %s", err, c.cause)
			}
			if f.Module != "guest@test" {
				t.Errorf("fault names %q", f.Module)
			}
			if time.Since(start) > 50*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			resp, err := m.Score(context.Background(), request(3, ""))
			if err != nil || len(resp.Values) != 3 {
				t.Fatalf("module broken after %s: %v", c.mode, err)
			}
		})
	}
}

func TestConcurrentCalls(t *testing.T) {
	m := load(t, Limits{Instances: 4})
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < 20; k++ {
				n := 50 + g
				resp, err := m.Score(context.Background(), request(n, ""))
				if err != nil {
					errs <- err
					return
				}
				if resp.Values[n-1] != math.Log1p(float64((n-1)*10)) {
					errs <- errors.New("wrong value under concurrency")
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestLoadRejectsNonPlugins(t *testing.T) {
	e, _ := NewEngine(Config{})
	// A valid but empty module: (module) — no exports.
	empty := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	if _, err := e.Load(context.Background(), "empty", empty, Limits{}, Grants{}); err == nil {
		t.Error("empty module accepted")
	}
	if _, err := e.Load(context.Background(), "junk", []byte("not wasm"), Limits{}, Grants{}); err == nil {
		t.Error("junk accepted")
	}
}

// spinningStart is a module with the three ABI exports and a start
// function that never returns:
//
//	(module
//	  (memory (export "memory") 1)
//	  (func $spin (loop (br 0)))
//	  (func (export "rapport_abi_version") (result i32) (i32.const 1))
//	  (func (export "rapport_input") (param i32) (result i32) (i32.const 0))
//	  (func (export "rapport_call") (param i32 i32) (result i64) (i64.const 0))
//	  (start $spin))
var spinningStart = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	// types: () -> (), () -> i32, (i32) -> i32, (i32 i32) -> i64
	0x01, 0x13, 0x04, 0x60, 0x00, 0x00, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7e,
	// functions
	0x03, 0x05, 0x04, 0x00, 0x01, 0x02, 0x03,
	// memory: min 1
	0x05, 0x03, 0x01, 0x00, 0x01,
	// exports
	0x07, 0x3f, 0x04,
	0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00,
	0x13, 'r', 'a', 'p', 'p', 'o', 'r', 't', '_', 'a', 'b', 'i', '_', 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x00, 0x01,
	0x0d, 'r', 'a', 'p', 'p', 'o', 'r', 't', '_', 'i', 'n', 'p', 'u', 't', 0x00, 0x02,
	0x0c, 'r', 'a', 'p', 'p', 'o', 'r', 't', '_', 'c', 'a', 'l', 'l', 0x00, 0x03,
	// start: function 0
	0x08, 0x01, 0x00,
	// code
	0x0a, 0x18, 0x04,
	0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b,
	0x04, 0x00, 0x41, 0x01, 0x0b,
	0x04, 0x00, 0x41, 0x00, 0x0b,
	0x04, 0x00, 0x42, 0x00, 0x0b,
}

// TestStartFunctionHasADeadline loads a module whose start function
// loops: the load fails, naming the deadline, instead of hanging.
func TestStartFunctionHasADeadline(t *testing.T) {
	e, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.Load(context.Background(), "spin", spinningStart, Limits{Timeout: 50 * time.Millisecond}, Grants{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "did not finish within 50ms") {
			t.Fatalf("err = %v, want the initialisation deadline", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Load did not return: the start function was not stopped")
	}
}
