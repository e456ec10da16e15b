package graph_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/core/metrics/chart"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/graph"
)

func TestMain(m *testing.M) {
	if os.Getenv(floodEnv) != "" {
		os.Exit(flood()) // a child of BenchmarkNoisyNeighbor
	}
	storetest.Main(m)
}

// countingDriver counts the SQL queries (reads) sent to the database,
// and fails reads and transactions on demand.
type countingDriver struct {
	dialect.Driver
	queries atomic.Int64
	// failBegin, when set, is the error of every transaction's start;
	// failCommit the error of every commit (the transaction is rolled
	// back instead).
	failBegin, failCommit atomic.Pointer[error]
	// failQuery, when set, is the error of every read.
	failQuery atomic.Pointer[error]
}

func (d *countingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	if err := d.failBegin.Load(); err != nil {
		return nil, *err
	}
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	if err := d.failCommit.Load(); err != nil {
		return failingCommit{Tx: tx, err: *err}, nil
	}
	return tx, nil
}

// failingCommit rolls back where it is asked to commit, and says err.
type failingCommit struct {
	dialect.Tx
	err error
}

// execQuerier is what the store's commit hooks use of a transaction.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (t failingCommit) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.Tx.(execQuerier).ExecContext(ctx, query, args...)
}

func (t failingCommit) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.Tx.(execQuerier).QueryContext(ctx, query, args...)
}

func (t failingCommit) Commit() error {
	_ = t.Tx.Rollback()
	return t.err
}

func (d *countingDriver) Query(ctx context.Context, query string, args, v any) error {
	d.queries.Add(1)
	if err := d.failQuery.Load(); err != nil {
		return *err
	}
	return d.Driver.Query(ctx, query, args, v)
}

// env is one running API over one database with two workspaces.
type env struct {
	t       testing.TB
	st      *store.Store
	srv     *httptest.Server
	counter *countingDriver
	// tokens by name: "a" (admin of A), "b" (admin of B), "aViewer".
	tokens map[string]string
	wsA    *ent.Workspace
	wsB    *ent.Workspace
}

func newEnv(t testing.TB, dia string) *env { return newEnvWith(t, dia, nil) }

// newEnvWith is newEnv with plugins.
func newEnvWith(t testing.TB, dia string, ext *extension.Registry) *env {
	t.Helper()
	counter := &countingDriver{}
	st := storetest.Open(t, dia, store.WithDriver(func(d dialect.Driver) dialect.Driver {
		counter.Driver = d
		return counter
	}))
	e := &env{t: t, st: st, counter: counter, tokens: map[string]string{}}
	ctx := context.Background()
	var err error
	if e.wsA, err = access.CreateWorkspace(ctx, st.Client, "alpha", "Alpha"); err != nil {
		t.Fatal(err)
	}
	if e.wsB, err = access.CreateWorkspace(ctx, st.Client, "beta", "Beta"); err != nil {
		t.Fatal(err)
	}
	for name, spec := range map[string]struct {
		ws   *ent.Workspace
		role tenancy.Role
	}{"a": {e.wsA, tenancy.RoleAdmin}, "b": {e.wsB, tenancy.RoleAdmin}, "aViewer": {e.wsA, tenancy.RoleViewer}} {
		secret, _, err := access.CreateToken(ctx, st.Client, spec.ws, access.TokenOptions{Role: spec.role})
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[name] = secret
	}
	e.srv = httptest.NewServer(graph.NewHandler(graph.Config{Client: st.Client, Ping: st.Ping, Extensions: ext, Charts: chart.Handler(metrics.New(st))}))
	t.Cleanup(e.srv.Close)
	return e
}

// gqlError is one error of a response.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (g gqlError) code() string  { c, _ := g.Extensions["code"].(string); return c }
func (g gqlError) field() string { c, _ := g.Extensions["field"].(string); return c }

type response struct {
	status int
	Data   map[string]any `json:"data"`
	Errors []gqlError     `json:"errors"`
}

// do posts a GraphQL request with the named token ("" for none).
func (e *env) do(token, query string, vars map[string]any) response {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		if secret, ok := e.tokens[token]; ok {
			token = secret
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var r response
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		e.t.Fatalf("decode response (status %d): %v", res.StatusCode, err)
	}
	r.status = res.StatusCode
	return r
}

// ok runs a request that must succeed and returns its data.
func (e *env) ok(token, query string, vars map[string]any) map[string]any {
	e.t.Helper()
	r := e.do(token, query, vars)
	if len(r.Errors) > 0 {
		e.t.Fatalf("unexpected errors: %+v\nquery: %s", r.Errors, query)
	}
	return r.Data
}

// fail runs a request that must fail with code, and returns its first error.
func (e *env) fail(token, query string, vars map[string]any, code string) gqlError {
	e.t.Helper()
	r := e.do(token, query, vars)
	if len(r.Errors) == 0 {
		e.t.Fatalf("expected %s error, got data %v\nquery: %s", code, r.Data, query)
	}
	if got := r.Errors[0].code(); got != code {
		e.t.Fatalf("expected code %s, got %s (%s)", code, got, r.Errors[0].Message)
	}
	return r.Errors[0]
}

// get walks a decoded JSON value by keys and indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			s, _ := v.([]any)
			if k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func str(v any, path ...any) string { s, _ := get(v, path...).(string); return s }

func num(v any, path ...any) float64 { f, _ := get(v, path...).(float64); return f }
