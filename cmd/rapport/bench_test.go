package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/rapportcrm/rapport/core/extension/extensiontest"
)

// TestBenchScoreAnyScorer benches scorers that are only a manifest and a
// built module in a directory outside this module: the example's module
// under another name (its answers match the native example's), and the
// test guest, which asks for one attribute of the synthetic leads. With no
// Go source there is no process build to measure.
func TestBenchScoreAnyScorer(t *testing.T) {
	if _, err := run(t, "plugin", "build", "../../examples/leadscore"); err != nil {
		t.Fatal(err)
	}
	copied := t.TempDir()
	m, err := os.ReadFile("../../examples/leadscore/plugin.json")
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile("../../examples/leadscore/plugin.wasm")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(copied, "plugin.json"), bytes.Replace(m, []byte(`"leadscore"`), []byte(`"myscorer"`), 1), 0o644)
	os.WriteFile(filepath.Join(copied, "plugin.wasm"), code, 0o644)
	for _, tc := range []struct {
		name, dir    string
		sameAsNative bool
	}{
		{"the example's module, renamed", copied, true},
		{"the test guest", filepath.Join(extensiontest.Plugins(t), "faulty"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, "bench", "score", "--n", "3000", "--batch", "500", "--plugin", tc.dir, "--output", "json")
			if err != nil {
				t.Fatal(err)
			}
			var res benchResult
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if res.Items != 3000 || res.NativeItemsPerS <= 0 || res.WASMItemsPerS <= 0 || res.WASMToNative <= 0 || res.ModuleBytes != fileSize(t, tc.dir) {
				t.Errorf("bench result %+v", res)
			}
			if tc.sameAsNative && res.WASMMatchesNativeTo > 1e-9 {
				t.Errorf("the example's module differs from native by %g", res.WASMMatchesNativeTo)
			}
			if res.ProcessItemsPerS != 0 || res.ProcessInFlight != 0 {
				t.Errorf("measured a process build of a directory without Go source: %+v", res)
			}
		})
	}
}

// fileSize is the size of dir's plugin.wasm.
func fileSize(t *testing.T, dir string) int {
	t.Helper()
	st, err := os.Stat(filepath.Join(dir, "plugin.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return int(st.Size())
}
