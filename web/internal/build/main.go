// Command build bundles the web app: it compiles web/src with esbuild into
// web/dist/assets (minified, file names carrying a hash of their content)
// and writes web/dist/index.html and web/dist/graphiql.html pointing at
// them. Run it with `go generate ./web`; the output is deterministic, so
// running it again on the same sources changes nothing.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

func main() {
	if err := build("."); err != nil {
		fmt.Fprintln(os.Stderr, "web build:", err)
		os.Exit(1)
	}
}

// build bundles dir/src into dir/dist.
func build(dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	dist := filepath.Join(dir, "dist")
	assets := filepath.Join(dist, "assets")
	res := api.Build(api.BuildOptions{
		AbsWorkingDir:     dir,
		EntryPoints:       []string{"src/app.ts", "src/app.css", "src/graphiql.ts"},
		Bundle:            true,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		Format:            api.FormatIIFE,
		Target:            api.ES2020,
		Charset:           api.CharsetUTF8,
		LegalComments:     api.LegalCommentsNone,
		Outdir:            assets,
		EntryNames:        "[name]-[hash]",
		Write:             false,
		LogLevel:          api.LogLevelWarning,
	})
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return fmt.Errorf("esbuild:\n%s", strings.Join(msgs, ""))
	}
	if err := os.RemoveAll(assets); err != nil {
		return err
	}
	if err := os.MkdirAll(assets, 0o755); err != nil {
		return err
	}
	names := map[string]string{} // entry ("app.js") to its hashed file name
	for _, f := range res.OutputFiles {
		base := filepath.Base(f.Path)
		if err := os.WriteFile(f.Path, f.Contents, 0o644); err != nil {
			return err
		}
		ext := filepath.Ext(base)
		stem := strings.TrimSuffix(base, ext)
		if i := strings.LastIndexByte(stem, '-'); i > 0 {
			stem = stem[:i]
		}
		names[stem+ext] = "/assets/" + base
	}
	vendor, err := vendored(filepath.Join(dir, "vendor", "graphiql"))
	if err != nil {
		return err
	}
	pages := []struct {
		file string
		tmpl *template.Template
		data map[string]string
	}{
		{"index.html", indexPage, map[string]string{"JS": names["app.js"], "CSS": names["app.css"]}},
		{"graphiql.html", graphiqlPage, map[string]string{"JS": names["graphiql.js"], "CSS": names["app.css"],
			"GraphiQLJS": vendor["graphiql.min.js"], "GraphiQLCSS": vendor["graphiql.min.css"],
			"React": vendor["react.production.min.js"], "ReactDOM": vendor["react-dom.production.min.js"]}},
	}
	for _, p := range pages {
		for k, v := range p.data {
			if v == "" {
				return fmt.Errorf("%s: no file for %s", p.file, k)
			}
		}
		var b strings.Builder
		if err := p.tmpl.Execute(&b, p.data); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dist, p.file), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// vendored maps each .js and .css file of dir to its URL, which carries a
// hash of its content so that it can be cached for good.
func vendored(dir string) (map[string]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	urls := map[string]string{}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, ".js") || strings.HasSuffix(n, ".css") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		urls[n] = "/assets/vendor/" + n + "?v=" + hex.EncodeToString(sum[:6])
	}
	return urls, nil
}

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rapport</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{.CSS}}">
<script defer src="{{.JS}}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading…</p></div>
<noscript>Rapport needs JavaScript.</noscript>
</body>
</html>
`))

var graphiqlPage = template.Must(template.New("graphiql").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rapport GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{.GraphiQLCSS}}">
<link rel="stylesheet" href="{{.CSS}}">
<script defer src="{{.React}}"></script>
<script defer src="{{.ReactDOM}}"></script>
<script defer src="{{.GraphiQLJS}}"></script>
<script defer src="{{.JS}}"></script>
</head>
<body class="graphiql-page">
<div id="graphiql"><p class="boot">Loading GraphiQL…</p></div>
</body>
</html>
`))
