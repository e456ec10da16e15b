// Command sums writes plugins/SHA256SUMS: the SHA-256 of every bundled
// file, in the format of sha256sum(1), sorted by path. `rapport serve`
// names the directory it extracts the bundled plugins to by the hash of
// this file, so a start need not hash megabytes of modules to know
// whether the files it extracted before are still the right ones.
//
// It runs from plugins/ (go generate), after the modules are built.
package main

import (
	"crypto/sha256"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	var files []string
	for _, pattern := range []string{"*/plugin.json", "*/plugin.wasm", "qci/questions.json"} {
		found, err := filepath.Glob(pattern)
		if err != nil {
			log.Fatal(err)
		}
		files = append(files, found...)
	}
	sort.Strings(files)
	var out strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(&out, "%x  %s\n", sha256.Sum256(b), filepath.ToSlash(f))
	}
	if err := os.WriteFile("SHA256SUMS", []byte(out.String()), 0o644); err != nil {
		log.Fatal(err)
	}
}
