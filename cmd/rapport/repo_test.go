package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestIgnoredFiles checks that what a first run leaves in a checkout —
// the SQLite database, the local plugins directory and build outputs — is
// ignored by git, and that no built binary is tracked.
func TestIgnoredFiles(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	root := repoRoot(t)
	if out, err := exec.Command(git, "-C", root, "rev-parse", "--is-inside-work-tree").Output(); err != nil || strings.TrimSpace(string(out)) != "true" {
		t.Skip("not a git checkout")
	}
	for _, path := range []string{
		"rapport",
		"rapport.db",
		"rapport.db-wal",
		"rapport.db-shm",
		"plugins.d/leadscore/plugin.json",
		"plugins.d/leadscore/plugin.wasm",
		"examples/leadscore/plugin.wasm",
		"examples/leadscore/plugin-process",
		"mine/plugin-process",
		"mine/plugin.wasm",
	} {
		t.Run(path, func(t *testing.T) {
			cmd := exec.Command(git, "-C", root, "check-ignore", "-q", "--no-index", path)
			if err := cmd.Run(); err != nil {
				t.Errorf("%s is not ignored by git (%v)", path, err)
			}
		})
	}
	// The bundled models' modules are embedded in the binary: tracked.
	if err := exec.Command(git, "-C", root, "check-ignore", "-q", "--no-index", "plugins/idic/plugin.wasm").Run(); err == nil {
		t.Error("plugins/idic/plugin.wasm, a bundled module, is ignored by git")
	}
	out, err := exec.Command(git, "-C", root, "ls-files", "--", "rapport", "rapport.db", "plugins.d").Output()
	if err != nil {
		t.Fatal(err)
	}
	if tracked := strings.TrimSpace(string(out)); tracked != "" {
		t.Errorf("tracked by git: %s", tracked)
	}
}

// TestReadmeBuildsBinaryFirst checks that the README says how to build
// the rapport binary before it first shows a `rapport …` command.
func TestReadmeBuildsBinaryFirst(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	build := strings.Index(readme, "go build -o rapport ./cmd/rapport")
	if build < 0 {
		t.Fatal("the README does not say how to build the rapport binary (go build -o rapport ./cmd/rapport)")
	}
	// A command use: `rapport x` in running text, or an indented example
	// line starting with rapport.
	use := regexp.MustCompile("(?m)(`rapport [a-z]|^    (\\./)?rapport [a-z])").FindStringIndex(readme)
	if use == nil {
		t.Fatal("the README shows no rapport command")
	}
	if use[0] < build {
		line := strings.Count(readme[:use[0]], "\n") + 1
		t.Errorf("README line %d uses rapport before the README says how to build it", line)
	}
}
