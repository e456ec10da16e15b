package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rapportcrm/rapport/core/tenancy"
)

// TestWriteResponse: writeResponse writes what encoding/json writes for
// the same graphql.Response (the encoding gqlgen's transport uses), as
// JSON values member by member, and in the same member order; only the
// data is copied as the executor encoded it, <, > and & included.
func TestWriteResponse(t *testing.T) {
	yes := true
	for name, resp := range map[string]*graphql.Response{
		"data":        {Data: json.RawMessage(`{"contacts":{"edges":[{"node":{"id":"1","lastName":"<b>Ng</b> & co"}}]}}`)},
		"no data":     {Errors: gqlerror.List{{Message: "operation has complexity 9, over the limit of 5", Extensions: map[string]any{"code": "BAD_USER_INPUT"}}}},
		"both":        {Data: json.RawMessage(`{"a":null}`), Errors: gqlerror.List{{Message: "not found", Path: ast.Path{ast.PathName("a")}}}},
		"extensions":  {Data: json.RawMessage(`{}`), Extensions: map[string]any{"budget": map[string]any{"remaining": 3}}},
		"incremental": {Data: json.RawMessage(`{"x":1}`), Label: "l", Path: ast.Path{ast.PathName("x"), ast.PathIndex(2)}, HasNext: &yes},
		"empty":       {},
	} {
		t.Run(name, func(t *testing.T) {
			var got bytes.Buffer
			writeResponse(&got, resp)
			want, err := json.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			if err := json.Unmarshal(got.Bytes(), &g); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, got.Bytes())
			}
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("got  %s\nwant %s", got.Bytes(), want)
			}
			if gk, wk := memberOrder(t, got.Bytes()), memberOrder(t, want); !reflect.DeepEqual(gk, wk) {
				t.Errorf("members %v, want %v", gk, wk)
			}
			if len(resp.Data) > 0 && !bytes.Contains(got.Bytes(), resp.Data) {
				t.Errorf("data not copied as it was: %s", got.Bytes())
			}
		})
	}
}

// memberOrder is the names of a JSON object's top-level members in order.
func memberOrder(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestResponseContentType: the answer's media type is the first of
// application/json and application/graphql-response+json that Accept
// names, application/json for none or a wildcard, and
// application/graphql-response+json when Accept names neither.
func TestResponseContentType(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                  contentJSON,
		"*/*":                               contentJSON,
		"application/*;q=0.9":               contentJSON,
		"application/json":                  contentJSON,
		contentGraphQLResponse:              contentGraphQLResponse,
		contentGraphQLResponse + ", */*":    contentGraphQLResponse,
		"text/html, application/json;q=0.8": contentJSON,
		"text/html":                         contentGraphQLResponse,
		"bogus;;;, application/json":        contentJSON,
	} {
		r := httptest.NewRequest("POST", "/graphql", nil)
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		if got := responseContentType(r); got != want {
			t.Errorf("Accept %q: %s, want %s", accept, got, want)
		}
	}
}

// TestQueryCacheKeysByWorkspace: a query parsed for one workspace is not
// served to another, and a query over the cache's size limit is never
// kept.
func TestQueryCacheKeysByWorkspace(t *testing.T) {
	c := newQueryCache(10, 64)
	a := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: "A", Role: tenancy.RoleViewer})
	b := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: "B", Role: tenancy.RoleViewer})
	doc := &ast.QueryDocument{}
	c.Add(a, "{ viewer { role } }", doc)
	if got, ok := c.Get(a, "{ viewer { role } }"); !ok || got != doc {
		t.Errorf("workspace A: %v %v, want its document", got, ok)
	}
	if _, ok := c.Get(b, "{ viewer { role } }"); ok {
		t.Error("workspace B got workspace A's document")
	}
	if _, ok := c.Get(context.Background(), "{ viewer { role } }"); ok {
		t.Error("a request without a workspace got workspace A's document")
	}
	long := "{ viewer { role } }" + string(bytes.Repeat([]byte(" "), 64))
	c.Add(a, long, doc)
	if _, ok := c.Get(a, long); ok {
		t.Error("a query over the size limit was cached")
	}
}
