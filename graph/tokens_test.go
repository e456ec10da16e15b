package graph_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/graph"
)

// TestRevokedOnAnotherServer runs a second server over the same database
// and revokes a token behind its back (the UPDATE that rapport token
// revoke, run by another process, sends): once the token TTL has passed,
// the second server refuses the token with 401.
func TestRevokedOnAnotherServer(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		other, err := store.Open(ctx, e.st.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		const ttl = 200 * time.Millisecond
		srv := httptest.NewServer(graph.NewHandler(graph.Config{Client: other.Client, TokenTTL: ttl}))
		defer srv.Close()
		status := func() int {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader([]byte(`{"query":"{ viewer { role } }"}`)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+e.tokens["aViewer"])
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		if got := status(); got != http.StatusOK {
			t.Fatalf("before the revocation: status %d", got)
		}
		res, err := e.st.DB.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = $1 WHERE workspace_id = $2 AND role = 'viewer'", time.Now(), string(e.wsA.ID))
		if n, _ := res.RowsAffected(); err != nil || n != 1 {
			t.Fatalf("revoke: %d rows, %v", n, err)
		}
		time.Sleep(ttl)
		if got := status(); got != http.StatusUnauthorized {
			t.Fatalf("%v after the revocation: status %d, want 401", ttl, got)
		}
	})
}

// TestTokenReadOncePerTTL: a second request with the same token sends one
// statement fewer than the first, the token's lookup (the server's TTL is
// the default, 2 s, far longer than two requests take).
func TestTokenReadOncePerTTL(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		count := func() int64 {
			before := e.counter.queries.Load()
			e.ok("b", `{ viewer { role workspace { slug } } }`, nil)
			return e.counter.queries.Load() - before
		}
		first, second := count(), count()
		if second != first-1 {
			t.Errorf("first request %d statements, second %d: want the token read once", first, second)
		}
	})
}
