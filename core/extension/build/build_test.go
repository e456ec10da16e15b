package build_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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
