package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/sdk"
)

// templates are the files `rapport plugin new` writes: templates/go for
// Go plugins, templates/assemblyscript for AssemblyScript ones, and
// templates/common for both. A file's template name is its path in the
// new plugin plus ".tmpl"; names holding a point ("score.go.tmpl") are
// written only for that point.
//
//go:embed templates
var templates embed.FS

// sdkModule is the module plugins require for the SDK.
const sdkModule = "github.com/rapportcrm/rapport"

// placeholderVersion is the version a plugin requires of sdkModule when
// the binary does not know its own: a replace directive supplies the code.
const placeholderVersion = "v0.0.0-00010101000000-000000000000"

// subjectInputs are the attributes a new plugin reads for each subject
// type: a numeric value (money or size, on a log scale) and a numeric
// engagement count. Each is a built-in attribute of core/extension.
var subjectInputs = map[string]struct{ Value, Engagement string }{
	"lead":         {"estimated_value", "activity_count"},
	"contact":      {"order_total", "activity_count"},
	"organization": {"order_total", "contact_count"},
	"deal":         {"amount", "activity_count"},
}

// newPluginOptions are the choices of `rapport plugin new`.
type newPluginOptions struct {
	Name, Point, Subject, Lang, Runtime, Dir string
	// SDK is the Rapport checkout the plugin builds against ("" for none:
	// the go.mod then needs a published version).
	SDK string
	// Tidy runs `go mod tidy` in a new Go plugin, which writes go.sum.
	Tidy bool
}

// templateData is what the templates see.
type templateData struct {
	Name, Package, Point, Subject, Runtime, Lang string
	Value, Engagement                            string
	// GoVersion is the SDK's go directive; SDKVersion the version required.
	GoVersion, SDKModule, SDKVersion, SDKPath string
	// ASPackage is the relative path from the plugin to sdk/assemblyscript.
	ASPackage string
}

func newPluginNewCmd() *cobra.Command {
	o := newPluginOptions{Tidy: true}
	cmd := &cobra.Command{
		Use:   "new NAME --point score|segment|report --subject TYPE",
		Short: "Write a new plugin that builds, passes the conformance kit and has its own test",
		Long: `Writes a working plugin to DIR (default ./NAME): a small example of the
extension point for the subject type, its plugin.json, a unit test and a
README. Then:

    rapport plugin build DIR    # compile it
    rapport plugin test DIR     # run the conformance kit on the artifact

A Go plugin is a module of its own that requires the SDK
(` + sdkModule + `) and, with --sdk (default: the checkout this
binary was built from, when it can tell), replaces it with a local
checkout. An AssemblyScript plugin depends on the checkout's
sdk/assemblyscript package.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if o.Dir == "" {
				o.Dir = o.Name
			}
			if !cmd.Flags().Changed("sdk") && o.SDK == "" {
				o.SDK = detectCheckout()
			}
			files, err := newPlugin(cmd.Context(), o)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, f := range files {
				fmt.Fprintln(out, filepath.Join(o.Dir, f))
			}
			if o.SDK == "" && o.Lang == "go" {
				fmt.Fprintf(cmd.ErrOrStderr(), "no Rapport checkout found: go.mod requires %s %s without a replace directive; pass --sdk PATH to build against a checkout\n", sdkModule, placeholderVersion)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "next: rapport plugin build %s && rapport plugin test %s\n", o.Dir, o.Dir)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Point, "point", "", "the extension point: score, segment or report (required)")
	f.StringVar(&o.Subject, "subject", "", "the subject type: lead, contact, organization or deal (required)")
	f.StringVar(&o.Lang, "lang", "go", "go or assemblyscript")
	f.StringVar(&o.Runtime, "runtime", "wasm", "wasm or process (process is for Go only)")
	f.StringVar(&o.Dir, "dir", "", "where to write the plugin (default ./NAME); must not exist or be empty")
	f.StringVar(&o.SDK, "sdk", "", "a Rapport checkout to build against (default: the one this binary was built from, when known)")
	f.BoolVar(&o.Tidy, "tidy", true, "run go mod tidy in a new Go plugin (writes go.sum)")
	_ = cmd.MarkFlagRequired("point")
	_ = cmd.MarkFlagRequired("subject")
	return cmd
}

// newPlugin writes the plugin o describes and returns the files written,
// relative to o.Dir.
func newPlugin(ctx context.Context, o newPluginOptions) ([]string, error) {
	data, err := o.data()
	if err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(o.Dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s exists and is not empty", o.Dir)
	}
	if o.SDK != "" {
		if _, err := os.Stat(filepath.Join(o.SDK, "sdk", "sdk.go")); err != nil {
			return nil, fmt.Errorf("--sdk %s: not a Rapport checkout (no sdk/sdk.go)", o.SDK)
		}
	}
	files, err := renderPlugin(data)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		p := filepath.Join(o.Dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, f.body, 0o644); err != nil {
			return nil, err
		}
		names = append(names, f.name)
	}
	if o.Lang == "go" && o.Tidy {
		cmd := exec.CommandContext(ctx, "go", "mod", "tidy")
		cmd.Dir = o.Dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return names, fmt.Errorf("the plugin is written, but go mod tidy failed in %s (run it there once the SDK resolves): %w\n%s", o.Dir, err, out)
		}
		names = append(names, "go.sum")
	}
	return names, nil
}

// data checks the options and makes the templates' data.
func (o newPluginOptions) data() (*templateData, error) {
	var problems []string
	if !namePattern.MatchString(o.Name) {
		problems = append(problems, fmt.Sprintf("name %q: use lower case letters, digits and dashes, starting with a letter", o.Name))
	}
	switch sdk.Point(o.Point) {
	case sdk.PointScore, sdk.PointSegment, sdk.PointReport:
	default:
		problems = append(problems, fmt.Sprintf("--point %q: want score, segment or report", o.Point))
	}
	in, ok := subjectInputs[o.Subject]
	if !ok {
		problems = append(problems, fmt.Sprintf("--subject %q: want lead, contact, organization or deal", o.Subject))
	}
	switch {
	case o.Lang != "go" && o.Lang != "assemblyscript":
		problems = append(problems, fmt.Sprintf("--lang %q: want go or assemblyscript", o.Lang))
	case o.Runtime != "wasm" && o.Runtime != "process":
		problems = append(problems, fmt.Sprintf("--runtime %q: want wasm or process", o.Runtime))
	case o.Lang == "assemblyscript" && o.Runtime != "wasm":
		problems = append(problems, "--runtime process: AssemblyScript compiles to WebAssembly only")
	case o.Lang == "assemblyscript" && o.SDK == "":
		problems = append(problems, "--lang assemblyscript needs --sdk PATH: the plugin depends on PATH/sdk/assemblyscript")
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	d := &templateData{
		Name: o.Name, Package: strings.ReplaceAll(o.Name, "-", ""), Point: o.Point, Subject: o.Subject,
		Runtime: o.Runtime, Lang: o.Lang, Value: in.Value, Engagement: in.Engagement,
		GoVersion: "1.26.0", SDKModule: sdkModule, SDKVersion: sdkVersion(),
	}
	if o.SDK != "" {
		abs, err := filepath.Abs(o.SDK)
		if err != nil {
			return nil, err
		}
		d.SDKPath = abs
		if v, err := goDirective(filepath.Join(abs, "go.mod")); err == nil {
			d.GoVersion = v
		}
		dir, err := filepath.Abs(o.Dir)
		if err != nil {
			return nil, err
		}
		rel, err := filepath.Rel(dir, filepath.Join(abs, "sdk", "assemblyscript"))
		if err != nil {
			return nil, err
		}
		d.ASPackage = filepath.ToSlash(rel)
	}
	return d, nil
}

// namePattern is the manifest's rule for plugin names (sdk/manifest).
var namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// renderedFile is one file of a new plugin.
type renderedFile struct {
	name string
	body []byte
}

// renderPlugin executes the templates for d, in a stable order.
func renderPlugin(d *templateData) ([]renderedFile, error) {
	var out []renderedFile
	for _, root := range []string{"templates/common", "templates/" + langDir(d.Lang)} {
		err := fs.WalkDir(templates, root, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			rel := strings.TrimSuffix(strings.TrimPrefix(p, root+"/"), ".tmpl")
			if !forPoint(path.Base(rel), d.Point) {
				return nil
			}
			if rel == "gitignore" {
				rel = ".gitignore"
			}
			rel = stripPoint(rel, d.Point)
			src, err := templates.ReadFile(p)
			if err != nil {
				return err
			}
			t, err := template.New(p).Option("missingkey=error").Parse(string(src))
			if err != nil {
				return err
			}
			var b bytes.Buffer
			if err := t.Execute(&b, d); err != nil {
				return err
			}
			body := b.Bytes()
			if strings.HasSuffix(rel, ".go") {
				if body, err = format.Source(body); err != nil {
					return fmt.Errorf("template %s: %w", p, err)
				}
			}
			out = append(out, renderedFile{rel, body})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func langDir(lang string) string {
	if lang == "assemblyscript" {
		return "assemblyscript"
	}
	return "go"
}

var points = []string{string(sdk.PointScore), string(sdk.PointSegment), string(sdk.PointReport)}

// forPoint reports whether a template file belongs in a plugin of point:
// files whose name starts with "POINT." or "POINT_" are for that point only.
func forPoint(base, point string) bool {
	for _, p := range points {
		if strings.HasPrefix(base, p+".") || strings.HasPrefix(base, p+"_") {
			return p == point
		}
	}
	return true
}

// stripPoint renames "score.go" to "plugin.go" and "score_test.go" to
// "plugin_test.go": every plugin's files have the same names.
func stripPoint(rel, point string) string {
	dir, base := path.Split(rel)
	if rest, ok := strings.CutPrefix(base, point); ok && (strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, "_")) {
		base = "plugin" + rest
	}
	return dir + base
}

// goDirective reads the go directive of a go.mod.
func goDirective(gomod string) (string, error) {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s: no go directive", gomod)
}

// sdkVersion is the version of this binary's module when it was built from
// a published version, else placeholderVersion.
func sdkVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == sdkModule && strings.HasPrefix(bi.Main.Version, "v") {
		return bi.Main.Version
	}
	return placeholderVersion
}

// detectCheckout returns the Rapport checkout this binary was built from,
// or "" when it cannot tell: the directory holding this source file at
// build time (unless built with -trimpath), if it is still a checkout, else
// the working directory or one of its parents, if that is one.
func detectCheckout() string {
	var candidates []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		candidates = append(candidates, filepath.Dir(filepath.Dir(filepath.Dir(file))))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			candidates = append(candidates, d)
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, c := range candidates {
		if isCheckout(c) {
			return c
		}
	}
	return ""
}

// isCheckout reports whether dir is the root of a Rapport checkout.
func isCheckout(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if strings.TrimSpace(first) != "module "+sdkModule {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, "sdk", "sdk.go"))
	return err == nil
}
