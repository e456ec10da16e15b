package main

import (
	"bytes"
	"context"
	"encoding/json"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/sdk/manifest"
)

// repoRoot is the checkout these tests run in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil || !isCheckout(root) {
		t.Fatalf("%s is not a Rapport checkout: %v", root, err)
	}
	return root
}

// TestPluginNewRenders renders every combination without building it: Go
// files are gofmt-clean, plugin.json is a valid manifest asking for
// attributes the host provides (as numbers, which the templates read), and
// the files a language needs are there.
func TestPluginNewRenders(t *testing.T) {
	root := repoRoot(t)
	for subject, in := range subjectInputs {
		for _, a := range []string{in.Value, in.Engagement} {
			if kind := extension.Attributes[subject][a]; kind != "number" {
				t.Errorf("%s.%s: the host provides it as %q, the templates read a number", subject, a, kind)
			}
		}
	}
	for _, lang := range []string{"go", "assemblyscript"} {
		for _, runtime := range []string{"wasm", "process"} {
			if lang == "assemblyscript" && runtime == "process" {
				continue
			}
			for _, point := range points {
				for subject := range subjectInputs {
					o := newPluginOptions{Name: "my-" + point, Point: point, Subject: subject, Lang: lang, Runtime: runtime, Dir: filepath.Join(t.TempDir(), "p"), SDK: root}
					d, err := o.data()
					if err != nil {
						t.Fatal(err)
					}
					files, err := renderPlugin(d)
					if err != nil {
						t.Fatalf("%+v: %v", o, err)
					}
					got := map[string][]byte{}
					for _, f := range files {
						got[f.name] = f.body
						if strings.HasSuffix(f.name, ".go") {
							if formatted, err := format.Source(f.body); err != nil || !bytes.Equal(formatted, f.body) {
								t.Errorf("%s/%s/%s: %s is not gofmt-clean: %v", lang, runtime, point, f.name, err)
							}
						}
						if bytes.Contains(f.body, []byte("<no value>")) {
							t.Errorf("%s/%s/%s: %s has an unfilled field", lang, runtime, point, f.name)
						}
					}
					want := []string{"plugin.json", "README.md", ".gitignore", "go.mod", "deps.go", "plugin.go", "plugin_test.go"}
					if lang == "assemblyscript" {
						want = []string{"plugin.json", "README.md", ".gitignore", "package.json", "assembly/index.ts", "assembly/plugin.ts", "tests/plugin_test.ts", "tests/run.mjs"}
					}
					if len(got) != len(want) {
						t.Errorf("%s/%s/%s: wrote %d files, want %q", lang, runtime, point, len(got), want)
					}
					for _, name := range want {
						if got[name] == nil {
							t.Errorf("%s/%s/%s: no %s", lang, runtime, point, name)
						}
					}
					m, err := manifest.Parse(got["plugin.json"])
					if err != nil {
						t.Fatalf("%s/%s/%s: %v\n%s", lang, runtime, point, err, got["plugin.json"])
					}
					for s, attrs := range m.Inputs {
						if err := extension.CheckInputs(s, attrs); err != nil {
							t.Error(err)
						}
					}
					if m.Runtime != runtime || string(m.Points[0]) != point || m.Name != o.Name {
						t.Errorf("manifest %+v", m)
					}
					if lang == "assemblyscript" && !bytes.Contains(got["package.json"], []byte(`"rapport-sdk": "file:`)) {
						t.Errorf("package.json without the SDK:\n%s", got["package.json"])
					}
					if lang == "go" && !bytes.Contains(got["go.mod"], []byte("replace github.com/rapportcrm/rapport => "+root)) {
						t.Errorf("go.mod without the replace directive:\n%s", got["go.mod"])
					}
				}
			}
		}
	}
}

// TestPluginNewRefuses checks the options it refuses, and that it never
// writes into a directory that holds something.
func TestPluginNewRefuses(t *testing.T) {
	root := repoRoot(t)
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "keep.txt"), []byte("mine"), 0o644)
	for _, c := range []struct {
		o    newPluginOptions
		want string
	}{
		{newPluginOptions{Name: "Bad_Name", Point: "score", Subject: "lead", Lang: "go", Runtime: "wasm"}, "name"},
		{newPluginOptions{Name: "x", Point: "rank", Subject: "lead", Lang: "go", Runtime: "wasm"}, "--point"},
		{newPluginOptions{Name: "x", Point: "score", Subject: "ticket", Lang: "go", Runtime: "wasm"}, "--subject"},
		{newPluginOptions{Name: "x", Point: "score", Subject: "lead", Lang: "rust", Runtime: "wasm"}, "--lang"},
		{newPluginOptions{Name: "x", Point: "score", Subject: "lead", Lang: "go", Runtime: "docker"}, "--runtime"},
		{newPluginOptions{Name: "x", Point: "score", Subject: "lead", Lang: "assemblyscript", Runtime: "process", SDK: root}, "WebAssembly only"},
		{newPluginOptions{Name: "x", Point: "score", Subject: "lead", Lang: "assemblyscript", Runtime: "wasm"}, "--sdk"},
		{newPluginOptions{Name: "x", Point: "score", Subject: "lead", Lang: "go", Runtime: "wasm", SDK: t.TempDir()}, "not a Rapport checkout"},
		{newPluginOptions{Name: "x", Point: "score", Subject: "lead", Lang: "go", Runtime: "wasm", SDK: root, Dir: full}, "not empty"},
	} {
		if c.o.Dir == "" {
			c.o.Dir = filepath.Join(t.TempDir(), "new")
		}
		_, err := newPlugin(context.Background(), c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error about %s", c.o, err, c.want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(full, "keep.txt")); string(b) != "mine" {
		t.Error("a refused plugin new touched an existing directory")
	}
}

// cli runs the built binary in dir (outside the repository) and returns
// its standard output.
func cli(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("rapport %s: %v\n%s\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// TestPluginNewChain writes plugins from an empty directory outside the
// repository and takes each through `rapport plugin build` and `rapport
// plugin test` (the conformance kit on the artifact). The Go WASM scorer
// goes the whole way: its own `go test ./...`, then bound to the demo
// workspace and scoring every lead. Each point, language and runtime is
// covered once; subject types vary across the cases.
func TestPluginNewChain(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds plugins")
	}
	root := repoRoot(t)
	cases := []struct {
		name, point, subject, lang, runtime string
		// full goes on to go test, invoke and scoring the demo; npmTest
		// runs an AssemblyScript plugin's own test.
		full, npmTest bool
	}{
		{"lead-booster", "score", "lead", "go", "wasm", true, false},
		{"deal-score", "score", "deal", "go", "process", false, false},
		{"contact-segments", "segment", "contact", "go", "wasm", false, false},
		{"org-segments", "segment", "organization", "go", "process", false, false},
		{"org-report", "report", "organization", "go", "wasm", false, false},
		{"lead-report", "report", "lead", "go", "process", false, false},
		{"as-score", "score", "contact", "assemblyscript", "wasm", false, true},
		{"as-segments", "segment", "deal", "assemblyscript", "wasm", false, true},
		{"as-report", "report", "lead", "assemblyscript", "wasm", false, true},
	}
	for _, c := range cases {
		t.Run(c.lang+"-"+c.runtime+"-"+c.point, func(t *testing.T) {
			if c.lang == "assemblyscript" {
				if _, err := exec.LookPath("npm"); err != nil {
					if os.Getenv("RAPPORT_REQUIRE_NODE") == "1" {
						t.Fatal("RAPPORT_REQUIRE_NODE=1 but npm is not on PATH")
					}
					t.Skip("npm is not on PATH (set RAPPORT_REQUIRE_NODE=1 to fail instead of skipping)")
				}
			}
			work := t.TempDir()
			plugins := filepath.Join(work, "plugins")
			dir := filepath.Join(plugins, c.name)
			start := time.Now()
			args := []string{"plugin", "new", c.name, "--point", c.point, "--subject", c.subject, "--lang", c.lang, "--runtime", c.runtime, "--dir", dir}
			if !c.full {
				// The full case relies on finding the checkout the
				// binary was built from; the others name it.
				args = append(args, "--sdk", root)
			}
			cli(t, work, args...)
			built := strings.TrimSpace(cli(t, work, "plugin", "build", dir))
			if _, err := os.Stat(built); err != nil || filepath.Dir(built) != dir && filepath.Dir(filepath.Dir(built)) != dir {
				t.Fatalf("build wrote %q: %v", built, err)
			}
			out := cli(t, work, "plugin", "test", dir)
			if strings.Contains(out, "FAIL") || !strings.Contains(out, c.point+"/well-formed") {
				t.Fatalf("conformance:\n%s", out)
			}
			t.Logf("new + build + test: %v", time.Since(start).Round(time.Millisecond))
			if c.npmTest {
				npm := exec.Command("npm", "test")
				npm.Dir = dir
				if out, err := npm.CombinedOutput(); err != nil || !strings.Contains(string(out), "ok") {
					t.Fatalf("npm test in the new plugin: %v\n%s", err, out)
				}
			}
			if !c.full {
				return
			}
			if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err != nil || !strings.Contains(string(b), "replace github.com/rapportcrm/rapport => "+root) {
				t.Fatalf("go.mod does not replace the SDK with this checkout:\n%s", b)
			}
			gotest := exec.Command("go", "test", "-count=1", "./...")
			gotest.Dir = dir
			if out, err := gotest.CombinedOutput(); err != nil {
				t.Fatalf("go test ./... in the new plugin: %v\n%s", err, out)
			}

			// The module answers what plugin_test.go worked out by hand:
			// 85.2848180 hot for 999,999 and 5 activities, 0 cold for nothing.
			invoke := exec.Command(binary, "plugin", "invoke", dir)
			invoke.Stdin = strings.NewReader(`{"subject_type":"lead","columns":{"estimated_value":[999999,null],"activity_count":[5,null]}}`)
			answer, err := invoke.Output()
			var scores []struct {
				Value float64
				Label string
			}
			if err != nil || json.Unmarshal(answer, &scores) != nil || len(scores) != 2 ||
				scores[0].Value < 85.284817 || scores[0].Value > 85.284819 || scores[0].Label != "hot" || scores[1].Value != 0 || scores[1].Label != "cold" {
				t.Fatalf("invoke: %v %s", err, answer)
			}

			// Bind it to the demo workspace and score every lead.
			db := "sqlite:" + filepath.Join(work, "demo.db")
			s := startServer(t, db, "--demo", "--bundled=false")
			s.stop(t)
			scored := cli(t, work, "score", "--db", db, "-w", "demo", "--subject", "lead", "--plugins", plugins, "--bundled=false",
				"--plugin", c.name, "--version", "0.1.0", "-o", "json")
			var run []map[string]any
			if err := json.Unmarshal([]byte(scored), &run); err != nil || len(run) != 1 {
				t.Fatalf("score printed %s: %v", scored, err)
			}
			if r := run[0]; r["plugin"] != c.name+"@0.1.0" || r["subjects"] == 0.0 || r["scored"] != r["subjects"] || r["failed_batches"] != 0.0 {
				t.Fatalf("score run %v", r)
			}
			t.Logf("from nothing to %s leads of the demo scored: %v", run[0]["scored"], time.Since(start).Round(time.Millisecond))
		})
	}
}
