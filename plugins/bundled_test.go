package plugins

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestSumsMatchBundled holds SHA256SUMS to the embedded files: every file
// listed once, with its hash, and nothing else. A module rebuilt without
// `go generate ./plugins` fails here.
func TestSumsMatchBundled(t *testing.T) {
	listed := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(Sums))
	for sc.Scan() {
		sum, path, ok := bytes.Cut(sc.Bytes(), []byte("  "))
		if !ok || len(sum) != 64 {
			t.Fatalf("malformed line %q", sc.Text())
		}
		if _, dup := listed[string(path)]; dup {
			t.Fatalf("%s listed twice", path)
		}
		listed[string(path)] = string(sum)
	}
	n := 0
	err := fs.WalkDir(Bundled, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := Bundled.ReadFile(path)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		if got := hex.EncodeToString(h[:]); listed[path] != got {
			t.Errorf("%s: SHA256SUMS says %q, the file hashes to %s: run go generate ./plugins", path, listed[path], got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(listed) {
		t.Errorf("%d files bundled, %d listed", n, len(listed))
	}
}

// TestExtract checks that the extracted files are the bundled ones, that
// a second extraction reuses the directory, and that its name follows
// the sums.
func TestExtract(t *testing.T) {
	base := t.TempDir()
	dir, err := Extract(base)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(Sums)
	if want := filepath.Join(base, "bundled-"+hex.EncodeToString(h[:])[:16]); dir != want {
		t.Fatalf("extracted to %s, want %s", dir, want)
	}
	for _, name := range Names {
		for _, f := range []string{"plugin.json", "plugin.wasm"} {
			want, err := Bundled.ReadFile(name + "/" + f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(dir, name, f))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s/%s differs from the bundled file", name, f)
			}
		}
	}
	// A file already there is kept: a restart writes nothing.
	marker := filepath.Join(dir, "idic", "plugin.json")
	if err := os.WriteFile(marker, []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := Extract(base)
	if err != nil || again != dir {
		t.Fatalf("second extraction: %s, %v", again, err)
	}
	if b, _ := os.ReadFile(marker); string(b) != "kept" {
		t.Fatal("a second extraction rewrote an existing file")
	}
}
