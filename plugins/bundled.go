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
//go:generate go run ./internal/sums

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
)

// Bundled are the bundled plugins' manifests, modules and questionnaires.
//
//go:embed */plugin.json */plugin.wasm qci/questions.json
var Bundled embed.FS

// Sums lists the SHA-256 of every file in Bundled, as sha256sum(1) does;
// go generate writes it after building the modules, and a test holds it
// to the files.
//
//go:embed SHA256SUMS
var Sums []byte

// Names lists the bundled plugins.
var Names = []string{"fiveprocess", "idic", "qci", "valuechain"}

// Extract writes the bundled plugins below dir, in a directory named by
// the hash of Sums (so a new build never reuses an old one's files, and a
// restart reuses its own without hashing them again), and returns that
// directory: a plugin directory for the extension registry. Files already
// there are kept.
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
	sum := sha256.Sum256(Sums)
	out := filepath.Join(dir, "bundled-"+hex.EncodeToString(sum[:])[:16])
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
