package build_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/extension/build"
)

func TestBuildExample(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a WASM module")
	}
	out, err := build.Build(context.Background(), build.Options{Dir: "../../../examples/leadscore"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x00asm\x01\x00\x00\x00")) {
		t.Fatalf("%s is not a WASM module", out)
	}
	if filepath.Base(out) != "plugin.wasm" {
		t.Errorf("wrote %s", out)
	}
	// Reproducible: a second build gives the same bytes.
	again, err := build.Build(context.Background(), build.Options{Dir: "../../../examples/leadscore"})
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := os.ReadFile(again)
	if !bytes.Equal(b, b2) {
		t.Error("two builds differ")
	}
	entries, _ := filepath.Glob("../../../examples/leadscore/_rapportmain*")
	if len(entries) != 0 {
		t.Errorf("left behind %v", entries)
	}
}

func TestBuildRefusesBadManifest(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "plugin.json"), []byte(`{"name":"x"}`), 0o644)
	if _, err := build.Build(context.Background(), build.Options{Dir: dir}); err == nil {
		t.Fatal("built with a bad manifest")
	}
}

// TestBuildProcess builds the example as a process program: reproducibly,
// without touching the plugin's directory, and refusing to run without a
// host.
func TestBuildProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a program")
	}
	var outs [][]byte
	for range 2 {
		out := filepath.Join(t.TempDir(), "prog")
		got, err := build.Build(context.Background(), build.Options{Dir: "../../../examples/leadscore", Runtime: "process", Output: out})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(got)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b)
		msg, err := exec.Command(got).CombinedOutput()
		if err == nil || !strings.Contains(string(msg), "This binary is a plugin") {
			t.Errorf("ran without a host: %v %s", err, msg)
		}
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("two builds differ")
	}
	if entries, _ := filepath.Glob("../../../examples/leadscore/_rapportmain*"); len(entries) != 0 {
		t.Errorf("left behind %v", entries)
	}
}

func TestIsNPM(t *testing.T) {
	for _, c := range []struct {
		name  string
		files []string
		want  bool
	}{
		{"assemblyscript", []string{"package.json", "plugin.json"}, true},
		{"assemblyscript tested from Go", []string{"package.json", "plugin_test.go"}, true},
		{"go", []string{"plugin.go", "plugin.json"}, false},
		{"go with a package.json", []string{"package.json", "plugin.go"}, false},
		{"nothing", nil, false},
	} {
		dir := t.TempDir()
		for _, f := range c.files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got := build.IsNPM(dir); got != c.want {
			t.Errorf("%s: IsNPM = %v, want %v", c.name, got, c.want)
		}
	}
}
