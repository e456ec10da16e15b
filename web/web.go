// Package web serves Rapport's web app and the vendored GraphiQL page from
// files embedded in the binary: nothing a browser opens comes from
// elsewhere. The app's sources are in web/src; `go generate ./web` bundles
// them into web/dist (committed).
package web

//go:generate go run ./internal/build

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed dist vendor/graphiql/*.js vendor/graphiql/*.css
var files embed.FS

// AppCSP is the Content-Security-Policy of the app's pages: no inline
// script or style, nothing from another origin.
const AppCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// GraphiQLCSP is the Content-Security-Policy of /graphiql: GraphiQL sets
// inline styles and embeds its fonts as data: URLs; scripts still come
// from this server only.
const GraphiQLCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// reserved are the paths the app never answers: the server's other routes.
// A request for one that reached this handler has no route, so it is a 404
// rather than the app's page.
var reserved = []string{"/graphql", "/auth/", "/charts/", "/healthz", "/readyz", "/metrics", "/debug/"}

// Handler serves the app: its assets under /assets/, GraphiQL at
// /graphiql, and the app's index.html for any other path (the app routes
// in the browser), each with security and cache headers.
func Handler() http.Handler {
	dist, err := fs.Sub(files, "dist")
	if err != nil {
		panic(err)
	}
	index, err := fs.ReadFile(dist, "index.html")
	if err != nil {
		panic(err)
	}
	graphiql, err := fs.ReadFile(dist, "graphiql.html")
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		p := r.URL.Path
		for _, x := range reserved {
			if p == x || strings.HasPrefix(p, x) || p+"/" == x {
				http.NotFound(w, r)
				return
			}
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		switch {
		case strings.HasPrefix(p, "/assets/"):
			serveAsset(w, r, dist, p)
		case p == "/graphiql" || p == "/graphiql/":
			page(w, graphiql, GraphiQLCSP)
		default:
			page(w, index, AppCSP)
		}
	})
}

func page(w http.ResponseWriter, body []byte, csp string) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}

// serveAsset serves /assets/NAME from dist/assets (names carry a hash of
// their content) and /assets/vendor/NAME from vendor/graphiql (URLs carry
// one in ?v=): either can be cached for good.
func serveAsset(w http.ResponseWriter, r *http.Request, dist fs.FS, p string) {
	var fsys fs.FS = dist
	name := strings.TrimPrefix(path.Clean(p), "/")
	if v, ok := strings.CutPrefix(name, "assets/vendor/"); ok {
		fsys, name = files, "vendor/graphiql/"+v
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil || strings.HasSuffix(name, "/") {
		w.Header().Set("Cache-Control", "no-cache")
		http.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}
