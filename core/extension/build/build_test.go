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

// TestBuildOutsideModuleNamesGoGet builds a plugin that has a module of
// its own (testdata/outside, pointed at this checkout), tidied for its own
// imports only: a process build then lacks the requirements of the entry
// point's package, and the error names the go get that adds them; after
// that command the build succeeds.
func TestBuildOutsideModuleNamesGoGet(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a program")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	// Everything comes from the module cache: no network.
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOSUMDB", "off")
	t.Setenv("GOFLAGS", "")
	dir := t.TempDir()
	for _, f := range []string{"scorer.go", "plugin.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "outside", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gomod := "module example.com/outside\n\ngo 1.26.0\n\nrequire github.com/rapportcrm/rapport v0.0.0\n\nreplace github.com/rapportcrm/rapport => " + root + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	goCmd := func(args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	goCmd("mod", "tidy")
	out := filepath.Join(dir, build.ProcessProgram)
	var log bytes.Buffer
	_, err = build.Build(context.Background(), build.Options{Dir: dir, Runtime: "process", Output: out, Log: &log})
	if strings.Contains(log.String(), "go mod tidy") {
		t.Errorf("the build's log suggests go mod tidy:\n%s", log.String())
	}
	want := "go get github.com/rapportcrm/rapport/sdk/process@v0.0.0"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one naming %q", err, want)
	}
	goCmd("get", "github.com/rapportcrm/rapport/sdk/process@v0.0.0")
	if _, err := build.Build(context.Background(), build.Options{Dir: dir, Runtime: "process", Output: out}); err != nil {
		t.Fatalf("after go get: %v", err)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
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
