// Package plugins holds the CRM models Rapport ships as plugins, one
// directory each — idic, qci, fiveprocess and valuechain — and bundles
// their WebAssembly builds into the rapport binary: `rapport serve` loads
// them unless told not to (--bundled=false).
//
// The modules are built from the directories' Go source by
// `go generate ./plugins` (rapport plugin build, whose builds are
// reproducible), and committed; CI rebuilds them and fails when they
// differ from the source.
package plugins

//go:generate go run ../cmd/rapport plugin build ./idic
//go:generate go run ../cmd/rapport plugin build ./qci
//go:generate go run ../cmd/rapport plugin build ./fiveprocess
//go:generate go run ../cmd/rapport plugin build ./valuechain

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Bundled are the bundled plugins' manifests, modules and questionnaires.
//
//go:embed */plugin.json */plugin.wasm qci/questions.json
var Bundled embed.FS

// Names lists the bundled plugins.
var Names = []string{"fiveprocess", "idic", "qci", "valuechain"}

// Extract writes the bundled plugins below dir, in a directory named by
// their content's hash (so a new build never reuses an old one's files,
// and a restart reuses its own), and returns that directory: a plugin
// directory for the extension registry. Files already there are kept.
func Extract(dir string) (string, error) {
	var files []string
	if err := fs.WalkDir(Bundled, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	}); err != nil {
		return "", err
	}
	sort.Strings(files)
	// Hash by streaming: ReadFile would copy every module onto the heap
	// on every start.
	h := sha256.New()
	for _, f := range files {
		r, err := Bundled.Open(f)
		if err != nil {
			return "", err
		}
		h.Write([]byte(f))
		_, err = io.Copy(h, r)
		r.Close()
		if err != nil {
			return "", err
		}
	}
	out := filepath.Join(dir, "bundled-"+hex.EncodeToString(h.Sum(nil))[:16])
	for _, f := range files {
		dst := filepath.Join(out, filepath.FromSlash(f))
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		b, err := Bundled.ReadFile(f)
		if err != nil {
			return "", err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		tmp := dst + ".tmp"
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, dst); err != nil {
			return "", err
		}
	}
	return out, nil
}
