// Package extensiontest gives tests real plugins: the example lead scorer
// (examples/leadscore) built to WebAssembly with `rapport plugin build`'s
// code, and "faulty", a test guest whose config selects a misbehaviour
// (loop, bomb, crash, panic, error, wrongcount, nan; and for its lead
// segmenter failbig, badkey, longkey, emptykey, garbage), each beside its
// plugin.json in a temporary plugins directory; and the same scorer built
// as a process plugin, with "sleeper", a process plugin for supervision
// tests (see ProcessPlugins).
package extensiontest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/build"
	"github.com/rapportcrm/rapport/core/extension/process"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/sdk/manifest"
)

var (
	once sync.Once
	dir  string
	err  error
)

// Root is the repository root, found from this file's location.
func Root() string { return root() }

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
	// As rapport plugin build does, the module states its ABI.
	code, err := os.ReadFile(filepath.Join(faulty, "plugin.wasm"))
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(faulty, "plugin.wasm"), build.AppendABISection(code), 0o644); err != nil {
		return "", err
	}
	return d, os.WriteFile(filepath.Join(faulty, "plugin.json"), []byte(`{
  "name": "faulty", "version": "0.1.0", "abi": 1, "runtime": "wasm", "module": "plugin.wasm",
  "points": ["score", "segment"], "subjects": ["lead"], "inputs": {"lead": ["estimated_value"]},
  "segments": {"big": {"name": "Big leads", "description": "An estimated value of 10,000 or more."}},
  "config_schema": {"type": "object", "properties": {"Mode": {"type": "string"}, "Threshold": {"type": "number"}}},
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

// Options adjust the Registry that RegistryWith opens.
type Options struct {
	// ProcessStart is when process plugins start (default lazy).
	ProcessStart process.Start
}

// RegistryWith is Registry with options.
func RegistryWith(t testing.TB, dir string, opts Options) *extension.Registry {
	t.Helper()
	e, err := wasm.NewEngine(wasm.Config{CacheDir: filepath.Join(os.TempDir(), "rapport-wasm-test-cache")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := extension.NewRegistry(context.Background(), extension.Config{Dirs: []string{dir}, Engine: e, ProcessStart: opts.ProcessStart})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

var (
	procOnce sync.Once
	procDir  string
	procErr  error

	fakeOnce sync.Once
	fakePath string
	fakeErr  error
)

// ProcessPlugins returns a plugins directory holding "leadscore", the
// example scorer built as a process plugin (its manifest rewritten to
// runtime process), and "sleeper", a process plugin that scores
// log1p(estimated_value) of leads after creating the file its config's
// "mark" names and sleeping its config's "sleep_ms" (see FakeProcess),
// with a 5 s deadline per call. Built on first use in the test binary.
func ProcessPlugins(t testing.TB) string {
	t.Helper()
	procOnce.Do(func() { procDir, procErr = layProcess() })
	if procErr != nil {
		t.Fatal(procErr)
	}
	return procDir
}

func layProcess() (string, error) {
	d, err := os.MkdirTemp("", "rapport-process-plugins-")
	if err != nil {
		return "", err
	}
	if err := BuildAs(filepath.Join(root(), "examples", "leadscore"), filepath.Join(d, "leadscore"), "process"); err != nil {
		return "", err
	}
	fake, err := buildFake()
	if err != nil {
		return "", err
	}
	sleeper := filepath.Join(d, "sleeper")
	if err := os.MkdirAll(sleeper, 0o755); err != nil {
		return "", err
	}
	b, err := os.ReadFile(fake)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(sleeper, "sleeper"), b, 0o755); err != nil {
		return "", err
	}
	return d, os.WriteFile(filepath.Join(sleeper, "plugin.json"), []byte(`{
  "name": "sleeper", "version": "0.1.0", "abi": 1, "runtime": "process", "command": ["sleeper", "good"],
  "points": ["score"], "subjects": ["lead"], "inputs": {"lead": ["estimated_value"]},
  "config_schema": {"type": "object", "properties": {"sleep_ms": {"type": "number"}, "mark": {"type": "string"}}},
  "limits": {"timeout_ms": 5000}
}
`), 0o644)
}

// FakeProcess returns the path of a test process plugin whose first
// argument selects a behaviour (good, v1, cookie, protocol, abi, garbage,
// noscore; see core/extension/process/testdata/fakeplugin), built on
// first use in the test binary.
func FakeProcess(t testing.TB) string {
	t.Helper()
	path, err := buildFake()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// buildFake builds the test process plugin once.
func buildFake() (string, error) {
	fakeOnce.Do(func() {
		d, err := os.MkdirTemp("", "rapport-fakeplugin-")
		if err != nil {
			fakeErr = err
			return
		}
		fakePath = filepath.Join(d, "fakeplugin")
		cmd := exec.Command("go", "build", "-trimpath", "-o", fakePath, "./core/extension/process/testdata/fakeplugin")
		cmd.Dir = root()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fakeErr = errors.New(string(out))
		}
	})
	return fakePath, fakeErr
}

// BuildAs builds the Go plugin in src for runtime ("wasm" or "process")
// into the directory to, with a copy of its manifest rewritten for that
// runtime: runtime and module (plugin.wasm) or command (plugin-process).
func BuildAs(src, to, runtime string) error {
	out := filepath.Join(to, "plugin.wasm")
	if runtime == "process" {
		out = filepath.Join(to, build.ProcessProgram)
	}
	if _, err := build.Build(context.Background(), build.Options{Dir: src, Runtime: runtime, Output: out}); err != nil {
		return err
	}
	return WriteManifest(filepath.Join(src, manifest.FileName), filepath.Join(to, manifest.FileName), runtime)
}

// WriteManifest copies the manifest at from to to, rewritten for runtime.
func WriteManifest(from, to, runtime string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	m["runtime"] = runtime
	delete(m, "module")
	delete(m, "command")
	switch runtime {
	case "wasm":
		m["module"] = "plugin.wasm"
	case "process":
		m["command"] = []string{build.ProcessProgram}
	default:
		return fmt.Errorf("runtime %q", runtime)
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if _, err := manifest.Parse(out); err != nil {
		return err
	}
	return os.WriteFile(to, append(out, '\n'), 0o644)
}
