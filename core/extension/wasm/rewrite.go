package wasm

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rapportcrm/rapport/core/extension/wasm/internal/interrupt"
)

// rewriteDir is the cache directory's subdirectory of rewritten modules.
const rewriteDir = "rewritten"

// rewritten returns code rewritten by package interrupt, and what
// releases it once compiled. With a cache directory the rewrite is kept
// there, named by the hash of code and the rewrite's version, and a later
// start maps it back: rewriting a Go guest walks every instruction of a
// few megabytes and allocates the module twice over, tens of milliseconds
// a module while a server starts, where mapping it back and checking its
// hash takes a few.
//
// A kept rewrite ends with the SHA-256 of what precedes it; one that does
// not match (a torn or damaged file) is rewritten again and replaced.
func (e *Engine) rewritten(code []byte) ([]byte, func(), error) {
	if e.cfg.CacheDir == "" {
		out, err := interrupt.Instrument(code)
		return out, func() {}, err
	}
	dir := filepath.Join(e.cfg.CacheDir, rewriteDir)
	path := filepath.Join(dir, fmt.Sprintf("v%d-%x.wasm", interrupt.Version, sha256.Sum256(code)))
	if b, unmap, err := mapFile(path); err == nil {
		if len(b) > sha256.Size {
			out, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
			if h := sha256.Sum256(out); bytes.Equal(h[:], sum) {
				return out, unmap, nil
			}
		}
		unmap()
	}
	out, err := interrupt.Instrument(code)
	if err != nil {
		return nil, nil, err
	}
	if err := keep(dir, path, out); err != nil {
		// The cache is an optimisation: a read-only or full disk costs
		// the next start a rewrite, nothing else.
		e.cfg.Logger.Debug("rewritten module not kept", "path", path, "err", err)
	}
	return out, func() {}, nil
}

// keep writes out and its hash to path, atomically, and removes rewrites
// made by other versions of the rewrite, which no host of this version
// reads.
func keep(dir, path string, out []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	sum := sha256.Sum256(out)
	_, err = f.Write(out)
	if err == nil {
		_, err = f.Write(sum[:])
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	current := fmt.Sprintf("v%d-", interrupt.Version)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); !strings.HasPrefix(n, current) && !strings.HasPrefix(n, ".tmp-") {
			os.Remove(filepath.Join(dir, n))
		}
	}
	return nil
}
