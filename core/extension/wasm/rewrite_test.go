package wasm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/extension/wasm/internal/interrupt"
)

// TestRewriteIsKept checks the cache of rewritten modules: a load keeps
// the rewrite with its hash, a second engine reads it back instead of
// rewriting, a damaged copy is rewritten and replaced, and rewrites of
// other versions are removed.
func TestRewriteIsKept(t *testing.T) {
	dir := t.TempDir()
	code := guest(t)
	want, err := interrupt.Instrument(code)
	if err != nil {
		t.Fatal(err)
	}
	kept := filepath.Join(dir, rewriteDir, "v1-"+hexSum(code)+".wasm")
	if interrupt.Version != 1 {
		t.Fatalf("the test names version 1's file; the rewrite is at version %d", interrupt.Version)
	}
	stale := filepath.Join(dir, rewriteDir, "v0-"+hexSum(code)+".wasm")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}

	loadAndScore := func(name string) {
		t.Helper()
		e, err := NewEngine(Config{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close(context.Background())
		m, err := e.Load(context.Background(), name, code, Limits{}, Grants{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer m.Close(context.Background())
		resp, err := m.Score(context.Background(), request(3, ""))
		if err != nil || len(resp.Values) != 3 {
			t.Fatalf("%s: %v, %v", name, resp, err)
		}
	}
	checkKept := func(when string) {
		t.Helper()
		b, err := os.ReadFile(kept)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		sum := sha256.Sum256(want)
		if !bytes.Equal(b, append(append([]byte(nil), want...), sum[:]...)) {
			t.Fatalf("%s: the kept file is not the rewrite followed by its hash", when)
		}
	}

	loadAndScore("first")
	checkKept("after the first load")
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("the version 0 rewrite was not removed: %v", err)
	}

	// A second start reads the kept rewrite. To tell that it did, replace
	// it with a valid rewrite of a different module: the engine must use
	// it (and so fail the ABI check, as that module is no plugin).
	other, err := interrupt.Instrument(minimalModule())
	if err != nil {
		t.Fatal(err)
	}
	otherSum := sha256.Sum256(other)
	if err := os.WriteFile(kept, append(other, otherSum[:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(Config{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Load(context.Background(), "swapped", code, Limits{}, Grants{}); err == nil {
		t.Fatal("the engine rewrote the module instead of reading the kept rewrite")
	}
	e.Close(context.Background())

	// A damaged file (its hash no longer matches) is rewritten and replaced.
	b := append(append([]byte(nil), want...), make([]byte, sha256.Size)...)
	if err := os.WriteFile(kept, b, 0o644); err != nil {
		t.Fatal(err)
	}
	loadAndScore("after damage")
	checkKept("after damage")

	// Without a cache directory nothing is kept and loads still work.
	e, err = NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	m, err := e.Load(context.Background(), "uncached", code, Limits{}, Grants{})
	if err != nil {
		t.Fatal(err)
	}
	m.Close(context.Background())
}

// engine is an engine caching in dir (none when ""), closed when the
// test ends.
func engine(t *testing.T, dir string) *Engine {
	t.Helper()
	e, err := NewEngine(Config{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// minimalModule is an empty WebAssembly module: magic and version.
func minimalModule() []byte { return []byte{0, 'a', 's', 'm', 1, 0, 0, 0} }

// TestLoadFile loads a module from its file, and checks that a file
// truncated under the mapping gives an error, not a crash.
func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guest.wasm")
	if err := os.WriteFile(path, guest(t), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cache := range []string{"", t.TempDir()} {
		m, err := engine(t, cache).LoadFile(context.Background(), "guest@file", path, Limits{}, Grants{})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := m.Score(context.Background(), request(2, ""))
		m.Close(context.Background())
		if err != nil || len(resp.Values) != 2 {
			t.Fatalf("cache %q: %v, %v", cache, resp, err)
		}
	}
	if runtime.GOOS == "windows" {
		return
	}
	// Map the file, then truncate it: every read of the mapping faults.
	code, unmap, err := mapFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer unmap()
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	for _, cache := range []string{"", t.TempDir()} {
		_, err := engine(t, cache).Load(context.Background(), "guest@truncated", code, Limits{}, Grants{})
		if err == nil || !strings.Contains(err.Error(), "changed while it was read") {
			t.Fatalf("cache %q: loading a truncated mapping: %v", cache, err)
		}
	}
}
