package extension_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/process"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/examples/leadscore"
)

// TestBackgroundLoading loads three plugins in the background: a WASM
// scorer, a module that is no WebAssembly, and a process plugin whose
// program cannot start until the test opens a gate (and then exits). The
// slow one is listed as loading and keeps Wait waiting, without holding
// up the scorer, whose first call waits for its load and scores; once the
// gate opens, every load has ended, the broken ones as failed.
func TestBackgroundLoading(t *testing.T) {
	dir := t.TempDir()
	if err := copyPlugin(filepath.Join(plugins(t), "leadscore"), filepath.Join(dir, "leadscore")); err != nil {
		t.Fatal(err)
	}
	write := func(name, file, content string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, file), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("broken", "plugin.json", `{"name": "broken", "version": "0.1.0", "abi": 1, "runtime": "wasm", "module": "plugin.wasm",
  "points": ["score"], "subjects": ["lead"], "inputs": {"lead": ["estimated_value"]}}`, 0o644)
	write("broken", "plugin.wasm", "not a module", 0o644)
	gate := filepath.Join(t.TempDir(), "gate")
	write("slow", "slow.sh", "#!/bin/sh\nwhile [ ! -e '"+gate+"' ]; do sleep 0.01; done\nexit 3\n", 0o755)
	write("slow", "plugin.json", `{"name": "slow", "version": "0.1.0", "abi": 1, "runtime": "process", "command": ["slow.sh"],
  "points": ["score"], "subjects": ["lead"], "inputs": {"lead": ["estimated_value"]}}`, 0o644)

	e, err := wasm.NewEngine(wasm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := extension.NewRegistry(ctx, extension.Config{Dirs: []string{dir}, Engine: e, ProcessStart: process.StartBoot, Background: true,
		ProcessStartTimeout: 5 * time.Minute}) // the test opens the gate itself; under -race its steps before that can take over 30 s
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	status := func() map[string]string {
		out := map[string]string{}
		for _, p := range r.List() {
			out[p.Ref()] = p.Status
		}
		return out
	}
	if s := status(); len(s) != 3 || s["slow@0.1.0"] != "loading" {
		t.Fatalf("right after the registry opened: %v, want slow@0.1.0 loading among 3", s)
	}
	if !slices.Contains(r.Loading(), "slow@0.1.0") {
		t.Fatalf("Loading() = %v, want slow@0.1.0 in it", r.Loading())
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := r.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait while a plugin loads: %v", err)
	}

	// The scorer answers while the slow plugin still loads.
	leads := leadscore.Synthetic(10)
	req := leadscore.NewColumns(len(leads)).Fill(leads)
	p, err := r.Get("leadscore", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.Score(ctx, p, req)
	if err != nil || len(resp.Values) != len(leads) {
		t.Fatalf("scoring while another plugin loads: %v, %v", resp, err)
	}
	for i := range leads {
		var contrib [leadscore.NumFactors]float64
		if want := leadscore.ScoreLead(&leads[i], &contrib); !close(resp.Values[i], want) {
			t.Fatalf("lead %d: %v, want %v (scored natively)", i, resp.Values[i], want)
		}
	}
	// A call to the slow plugin gives up with its context.
	slow, err := r.Get("slow", "0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	short2, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	_, err = r.Score(short2, slow, req)
	if errcode.Of(err) != errcode.PluginFailed || !strings.Contains(err.Error(), "still loading") {
		t.Fatalf("a call to a loading plugin with a deadline: %v", err)
	}

	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	long, cancel3 := context.WithTimeout(ctx, time.Minute)
	defer cancel3()
	if err := r.Wait(long); err != nil {
		t.Fatal(err)
	}
	s := status()
	if s["leadscore@1.0.0"] != "ready" || !strings.HasPrefix(s["broken@0.1.0"], "failed: ") || !strings.HasPrefix(s["slow@0.1.0"], "failed: ") {
		t.Fatalf("after the loads: %v", s)
	}
	if l := r.Loading(); len(l) != 0 {
		t.Fatalf("Loading() = %v after Wait", l)
	}
	// The call that waited on the slow plugin's load now fails at once.
	_, err = r.Score(ctx, slow, req)
	if errcode.Of(err) != errcode.PluginFailed || !strings.Contains(err.Error(), "not ready") {
		t.Fatalf("a call to a plugin whose load failed: %v", err)
	}
}
