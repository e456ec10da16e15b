package build

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/rapportcrm/rapport/sdk/manifest"
)

// IsNPM reports whether dir holds a plugin built with npm (an
// AssemblyScript plugin, see sdk/assemblyscript): a package.json and no Go
// source but tests. Such a plugin builds to WebAssembly only.
func IsNPM(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		return false
	}
	gos, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, g := range gos {
		if !strings.HasSuffix(g, "_test.go") {
			return false
		}
	}
	return true
}

// buildNPM builds an npm plugin: `npm ci` (or `npm install` without a
// package-lock.json) when node_modules is missing, then `npm run build`,
// which must write the manifest's module.
func buildNPM(ctx context.Context, dir string, m *manifest.Manifest, runtime, output string, log io.Writer) (string, error) {
	if runtime != "wasm" {
		return "", fmt.Errorf("%s: an npm (AssemblyScript) plugin builds to wasm only, not %s", m.Ref(), runtime)
	}
	if m.Module == "" {
		return "", fmt.Errorf("%s: no module path to build to", m.Ref())
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("%s: building an AssemblyScript plugin needs npm (Node.js 20 or later): %w", m.Ref(), err)
	}
	var steps [][]string
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		install := []string{"install", "--no-audit", "--no-fund"}
		if _, err := os.Stat(filepath.Join(dir, "package-lock.json")); err == nil {
			install[0] = "ci"
		}
		steps = append(steps, install)
	}
	steps = append(steps, []string{"run", "build"})
	for _, args := range steps {
		cmd := exec.CommandContext(ctx, npm, args...)
		cmd.Dir = dir
		var captured bytes.Buffer
		cmd.Stdout, cmd.Stderr = log, log
		if log == io.Discard {
			cmd.Stdout, cmd.Stderr = &captured, &captured
		}
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("npm %s for %s: %w\n%s", args[0], m.Ref(), err, captured.String())
		}
	}
	built := filepath.Join(dir, filepath.FromSlash(m.Module))
	if _, err := os.Stat(built); err != nil {
		return "", fmt.Errorf("%s: npm run build did not write the manifest's module: %w", m.Ref(), err)
	}
	if output == "" {
		return built, nil
	}
	code, err := os.ReadFile(built)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(output), 0o755); err != nil {
		return "", err
	}
	return output, os.WriteFile(output, code, 0o644)
}
