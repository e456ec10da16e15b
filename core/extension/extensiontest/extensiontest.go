// Package extensiontest gives tests real plugins: the example lead scorer
// (examples/leadscore) built to WebAssembly with `rapport plugin build`'s
// code, and "faulty", a test guest whose config selects a misbehaviour
// (loop, bomb, crash, panic, error, wrongcount, nan), each beside its
// plugin.json in a temporary plugins directory.
package extensiontest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/build"
	"github.com/rapportcrm/rapport/core/extension/wasm"
)

var (
	once sync.Once
	dir  string
	err  error
)

// root is the repository root, found from this file's location.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Plugins returns a plugins directory holding "leadscore" and "faulty",
// building them on first use in the test binary.
func Plugins(t testing.TB) string {
	t.Helper()
	once.Do(func() { dir, err = lay() })
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func lay() (string, error) {
	d, err := os.MkdirTemp("", "rapport-plugins-")
	if err != nil {
		return "", err
	}
	mod, err := build.Build(context.Background(), build.Options{Dir: filepath.Join(root(), "examples", "leadscore")})
	if err != nil {
		return "", err
	}
	if err := CopyPlugin(filepath.Dir(mod), filepath.Join(d, "leadscore")); err != nil {
		return "", err
	}
	faulty := filepath.Join(d, "faulty")
	if err := os.MkdirAll(faulty, 0o755); err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", filepath.Join(faulty, "plugin.wasm"), "./core/extension/wasm/testdata/guest")
	cmd.Dir = root()
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New(string(out))
	}
	return d, os.WriteFile(filepath.Join(faulty, "plugin.json"), []byte(`{
  "name": "faulty", "version": "0.1.0", "abi": 1, "runtime": "wasm", "module": "plugin.wasm",
  "points": ["score"], "subjects": ["lead"], "inputs": {"lead": ["estimated_value"]},
  "config_schema": {"type": "object", "properties": {"Mode": {"type": "string"}}},
  "limits": {"timeout_ms": 1000}
}
`), 0o644)
}

// CopyPlugin copies plugin.json and plugin.wasm from one directory to another.
func CopyPlugin(from, to string) error {
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	for _, f := range []string{"plugin.json", "plugin.wasm"} {
		b, err := os.ReadFile(filepath.Join(from, f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, f), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Registry loads the plugins of dir, closed when the test ends.
func Registry(t testing.TB, dir string) *extension.Registry {
	t.Helper()
	e, err := wasm.NewEngine(wasm.Config{CacheDir: filepath.Join(os.TempDir(), "rapport-wasm-test-cache")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := extension.NewRegistry(context.Background(), extension.Config{Dirs: []string{dir}, Engine: e})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}
