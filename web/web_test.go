package web

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

func TestAppRoutesServeIndex(t *testing.T) {
	for _, p := range []string{"/", "/signin", "/signup?token=x", "/reset", "/board/abc", "/contacts"} {
		w := get(t, p)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `<div id="app">`) {
			t.Fatalf("%s: %d %q", p, w.Code, w.Body.String())
		}
		h := w.Header()
		if h.Get("Content-Security-Policy") != AppCSP || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Referrer-Policy") != "same-origin" || h.Get("Cache-Control") != "no-cache" {
			t.Fatalf("%s: headers %v", p, h)
		}
	}
}

func TestReservedPathsAreNotTheApp(t *testing.T) {
	for _, p := range []string{"/graphql", "/auth/session", "/charts/x.svg", "/healthz", "/readyz", "/metrics", "/debug/pprof/", "/assets/nope.js", "/assets/vendor/nope.js"} {
		if w := get(t, p); w.Code != http.StatusNotFound {
			t.Fatalf("%s: %d, want 404", p, w.Code)
		}
	}
}

func TestPagesReferenceServedAssets(t *testing.T) {
	for _, page := range []struct{ path, csp string }{{"/", AppCSP}, {"/graphiql", GraphiQLCSP}} {
		w := get(t, page.path)
		body := w.Body.String()
		if w.Header().Get("Content-Security-Policy") != page.csp {
			t.Fatalf("%s: CSP %q", page.path, w.Header().Get("Content-Security-Policy"))
		}
		if regexp.MustCompile(`<script>|<script [^>]*>[^<]|style=|https?://`).MatchString(body) {
			t.Fatalf("%s has inline code or an external URL:\n%s", page.path, body)
		}
		refs := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(body, -1)
		if len(refs) < 2 {
			t.Fatalf("%s: assets %v", page.path, refs)
		}
		for _, m := range refs {
			a := get(t, m[1])
			if a.Code != http.StatusOK || a.Body.Len() == 0 {
				t.Fatalf("%s: %d", m[1], a.Code)
			}
			if a.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
				t.Fatalf("%s: Cache-Control %q", m[1], a.Header().Get("Cache-Control"))
			}
			if ct := a.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") && !strings.HasPrefix(ct, "text/css") {
				t.Fatalf("%s: Content-Type %q", m[1], ct)
			}
		}
	}
}

// TestBudget keeps the app's own JS and CSS under 300 KB gzipped.
func TestBudget(t *testing.T) {
	var total int
	err := fs.WalkDir(files, "dist/assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		var z bytes.Buffer
		gw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		_, _ = gw.Write(b)
		_ = gw.Close()
		total += z.Len()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total == 0 || total > 300<<10 {
		t.Fatalf("app assets are %d bytes gzipped; the budget is 300 KB", total)
	}
	t.Logf("app assets: %d bytes gzipped", total)
}

func TestPostIsRefused(t *testing.T) {
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/board", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /board: %d", w.Code)
	}
}
