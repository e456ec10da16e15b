package extension_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/wasm"
)

// loadFailures counts the "plugin failed to load" records logged.
type loadFailures struct {
	mu sync.Mutex
	n  int
}

func (c *loadFailures) Enabled(context.Context, slog.Level) bool { return true }
func (c *loadFailures) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "plugin failed to load" {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	return nil
}
func (c *loadFailures) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *loadFailures) WithGroup(string) slog.Handler      { return c }

func (c *loadFailures) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestFailedLoadBackoff keeps a plugin whose module is not WebAssembly in
// a plugins directory and scans it at chosen times: it is tried again
// after 2 s, then 4, 8… up to 5 minutes apart, not at every scan; a
// change to its files makes the next scan try it at once, and the delay
// starts over.
func TestFailedLoadBackoff(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad")
	os.MkdirAll(p, 0o755)
	os.WriteFile(filepath.Join(p, "plugin.json"), []byte(`{"name": "bad", "version": "0.1.0", "abi": 1, "runtime": "wasm", "module": "plugin.wasm",
  "points": ["score"], "subjects": ["lead"], "inputs": {"lead": ["estimated_value"]}}`), 0o644)
	os.WriteFile(filepath.Join(p, "plugin.wasm"), []byte("not a module"), 0o644)
	e, err := wasm.NewEngine(wasm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	failures := &loadFailures{}
	r, err := extension.NewRegistry(context.Background(), extension.Config{Dirs: []string{dir}, Engine: e, Logger: slog.New(failures)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	start := time.Now()
	now := start
	extension.SetClock(r, func() time.Time { return now })
	at := func(d time.Duration, wantAttempts int) {
		t.Helper()
		now = start.Add(d)
		if err := r.Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := failures.count(); got != wantAttempts {
			t.Fatalf("at %v: %d attempts, want %d", d, got, wantAttempts)
		}
		if b, err := r.Get("bad", "0.1.0"); err != nil || !strings.HasPrefix(b.Status, "failed:") {
			t.Fatalf("at %v: %+v %v", d, b, err)
		}
	}
	if failures.count() != 1 {
		t.Fatalf("%d attempts at start", failures.count())
	}
	at(time.Second, 1)
	at(2*time.Second, 2) // next after 4 s
	at(5*time.Second, 2)
	at(6*time.Second, 3) // next after 8 s
	at(13*time.Second, 3)
	at(14*time.Second, 4) // next after 16 s
	// Far on, the delay stops doubling at 5 minutes.
	attempts, last := 4, 14*time.Second
	for d := 15 * time.Second; d < time.Hour; d += time.Second {
		now = start.Add(d)
		r.Scan(context.Background())
		if n := failures.count(); n > attempts {
			if gap := d - last; gap > 5*time.Minute {
				t.Fatalf("attempts %v apart", gap)
			}
			attempts, last = n, d
		}
	}
	if attempts > 4+5+12 { // 16 s … 256 s, then every 5 minutes
		t.Fatalf("%d attempts within an hour", attempts)
	}
	// A change to its files: tried at the next scan, then 2 s later.
	os.WriteFile(filepath.Join(p, "plugin.wasm"), []byte("still not a module"), 0o644)
	base := now.Sub(start)
	at(base, attempts+1)
	at(base+time.Second, attempts+1)
	at(base+2*time.Second, attempts+2)
}
