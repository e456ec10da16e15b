package runtimes_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/build"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/examples/leadscore"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginkit"
)

// exampleDir is the plugin the kit is proven on.
const exampleDir = "../../../../examples/leadscore"

func exampleManifest(t *testing.T) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Load(filepath.Join(exampleDir, manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLeadscoreNative(t *testing.T) {
	pluginkit.Run(t, pluginkit.Native(exampleManifest(t), leadscore.Plugin))
}

func TestLeadscoreWASM(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building the WASM module")
	}
	m := exampleManifest(t)
	pluginkit.Run(t, extension.WASMTarget(m, leadscoreModule(t, m)))
}

// TestWASMFaults runs the kit on the WASM host's own test guest, whose
// config selects a fault, to check that faults inside the sandbox reach
// the kit as the right kind of failure. (Its well-behaved mode is left out:
// it scores a missing amount NaN, which score/missing-values rightly
// reports. The guest also segments; only its score answers are judged.)
func TestWASMFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building the WASM module")
	}
	m, err := manifest.Parse([]byte(`{"name": "guest", "version": "0.0.1", "abi": 1, "runtime": "wasm", "module": "guest.wasm",
		"points": ["score", "segment"], "subjects": ["lead"], "inputs": {"lead": ["amount = custom.amount:number", "estimated_value"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	mod := guestModule(t, m)
	for _, c := range []struct{ mode, want string }{
		{"error", "refused: plugin refused the call: plugin guest@0.0.1: plugin_error: refusing on purpose"},
		{"panic", "refused: plugin refused the call: plugin guest@0.0.1: plugin_error: panic: assignment to entry in nil map"},
		{"nan", "failed (not a refusal: a crash, a trap or a bad answer): plugin guest@0.0.1: malformed: score response: value 0 is NaN"},
		{"wrongcount", "failed (not a refusal: a crash, a trap or a bad answer): plugin guest@0.0.1: malformed: score response: 101 values for 100 subjects"},
		{"crash", "failed (not a refusal: a crash, a trap or a bad answer): plugin guest@0.0.1: trap:"},
	} {
		mode, want := c.mode, c.want
		t.Run("mode="+mode, func(t *testing.T) {
			suite := pluginkit.Suite{Config: []byte(fmt.Sprintf(`{"Mode": %q}`, mode))}
			results, err := suite.Check(context.Background(), extension.WASMTarget(m, mod))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range results {
				if r.Name != "score/well-formed" {
					if r.Failed() && (r.Name == "manifest" || r.Name == "undeclared-points") {
						t.Errorf("%s: %s", r.Name, strings.Join(r.Problems, "\n\t"))
					}
					continue
				}
				if !r.Failed() || !strings.Contains(r.Problems[0], want) {
					t.Errorf("%s: problems\n\t%s\nwant the first to say %q", r.Name, strings.Join(r.Problems, "\n\t"), want)
				}
			}
		})
	}
}

var (
	moduleOnce sync.Once
	module     *wasm.Module
	moduleErr  error
)

// leadscoreModule builds examples/leadscore to WebAssembly with the code of
// `rapport plugin build` and loads it with the manifest's limits, once per
// test binary. It builds a copy of the example's source under testdata, so
// that it neither writes into examples/ nor races the example's own tests,
// which build in place.
func leadscoreModule(t *testing.T, m *manifest.Manifest) *wasm.Module {
	t.Helper()
	moduleOnce.Do(func() { module, moduleErr = buildAndLoad(m) })
	if moduleErr != nil {
		t.Fatal(moduleErr)
	}
	return module
}

var (
	guestOnce sync.Once
	guest     *wasm.Module
	guestErr  error
)

// guestModule builds core/extension/wasm/testdata/guest as that package's
// tests do (so the build cache serves both) and loads it.
func guestModule(t *testing.T, m *manifest.Manifest) *wasm.Module {
	t.Helper()
	guestOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pluginkit-guest-")
		if err != nil {
			guestErr = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "guest.wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, "./testdata/guest")
		cmd.Dir = "../../../../core/extension/wasm"
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			guestErr = fmt.Errorf("build the test guest: %v\n%s", err, b)
			return
		}
		code, err := os.ReadFile(out)
		if err != nil {
			guestErr = err
			return
		}
		// As rapport plugin build does, the module states its ABI.
		guest, guestErr = load(m, build.AppendABISection(code), wasm.Limits{Timeout: 5 * time.Second})
	})
	if guestErr != nil {
		t.Fatal(guestErr)
	}
	return guest
}

func load(m *manifest.Manifest, code []byte, limits wasm.Limits) (*wasm.Module, error) {
	e, err := wasm.NewEngine(wasm.Config{
		CacheDir: filepath.Join(os.TempDir(), "rapport-pluginkit-test-cache"),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)), // the crash mode logs its stack
	})
	if err != nil {
		return nil, err
	}
	return e.Load(context.Background(), m.Ref(), code, limits, wasm.Grants{})
}

func buildAndLoad(m *manifest.Manifest) (*wasm.Module, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		return nil, err
	}
	defer os.Remove("testdata") // only when empty: another run may be using it
	dir, err := os.MkdirTemp("testdata", "leadscore-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// The package's source (not its tests) and its manifest.
	names, err := filepath.Glob(filepath.Join(exampleDir, "*.go"))
	if err != nil {
		return nil, err
	}
	names = slices.DeleteFunc(names, func(n string) bool { return strings.HasSuffix(n, "_test.go") })
	for _, name := range append(names, filepath.Join(exampleDir, manifest.FileName)) {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(name)), b, 0o644); err != nil {
			return nil, err
		}
	}
	path, err := build.Build(ctx, build.Options{Dir: dir})
	if err != nil {
		return nil, err
	}
	code, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return load(m, code, wasm.Limits{
		MemoryPages: uint32(m.Limits.MemoryPages),
		Timeout:     time.Duration(m.Limits.TimeoutMS) * time.Millisecond,
	})
}
