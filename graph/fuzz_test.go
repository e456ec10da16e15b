package graph_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/graph"
)

// fuzzHandler is the API over a fresh SQLite store, with an admin token.
func fuzzHandler(f *testing.F) (http.Handler, string) {
	st := storetest.Open(f, "sqlite")
	ws, err := access.CreateWorkspace(f.Context(), st.Client, "fuzz", "Fuzz")
	if err != nil {
		f.Fatal(err)
	}
	tok, _, err := access.CreateToken(f.Context(), st.Client, ws, access.TokenOptions{Role: tenancy.RoleAdmin})
	if err != nil {
		f.Fatal(err)
	}
	return graph.NewHandler(graph.Config{Client: st.Client, Ping: st.Ping}), tok
}

// serveFuzz posts body and fails on an answer that is not a JSON
// GraphQL response, a 5xx status, or an INTERNAL error: whatever a client
// sends, a bad request is the client's error, with a code.
func serveFuzz(t *testing.T, h http.Handler, token, body string) {
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
	}
	var r struct {
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("answer to %q is not JSON: %v: %s", body, err, rec.Body)
	}
	for _, e := range r.Errors {
		if code, _ := e.Extensions["code"].(string); code == "" || code == "INTERNAL" {
			t.Fatalf("error %q with code %q for %q", e.Message, code, body)
		}
	}
}

// FuzzGraphQLRequest feeds the HTTP handler arbitrary request bodies.
func FuzzGraphQLRequest(f *testing.F) {
	for _, s := range []string{
		`{"query":"{ viewer { role } }"}`,
		`{"query":"query($w: ContactWhereInput) { contacts(where: $w) { totalCount } }","variables":{"w":{"or":[{"lastName":"a"},{"not":{"emailContains":"b"}}]}}}`,
		`{"query":"mutation($in: CreateOrganizationInput!) { createOrganization(input: $in) { id } }","variables":{"in":{"name":"A\ud800","employees":1e20}}}`,
		`{"query":"query($p: Float) { stages(where: {probabilityGT: $p}) { totalCount } }","variables":{"p":"NaN"}}`,
		`{"query":"query($f: Time!) { metrics(range: {from: $f, to: \"2025-12-31T00:00:00Z\"}) { from } }","variables":{"f":"yesterday"}}`,
		`{"query":"query($c: Cursor) { contacts(after: $c) { totalCount } }","variables":{"c":"gaKFaQ"}}`,
		`[{"query":"{ viewer { role } }"}]`, `NaN`, `{"query":1}`, `{"query":"{ node(id: \"con_\") { id } }"}`,
		`{"query":"mutation { scoreSubjects(subjectType: lead) { scored } createTag(input: {name: \"x\"}) { id } }"}`,
	} {
		f.Add(s)
	}
	h, tok := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, body string) { serveFuzz(t, h, tok, body) })
}

// FuzzWhereFilter feeds arbitrary JSON as the where filter of contacts
// and of deals (money, time, enum and ID predicates).
func FuzzWhereFilter(f *testing.F) {
	for _, s := range []string{
		`{"lastName":"x"}`, `{"not":{"not":{"idIn":["con_01jd8z2x9t3v4w5y6z7a8b9c0d"]}}}`, `{"or":[{"emailHasSuffix":".test"},{"createdAtGT":"2025-01-01T00:00:00Z"}]}`,
		`{"amountGTE":"10.00","statusIn":["open","won"]}`, `{"expectedCloseAtLT":"tomorrow"}`, `{"hasOrganizationWith":[{"nameContains":"a"}]}`,
		`{"idIn":[1,2,3]}`, `{"and":[]}`, `[]`, `"x"`, `null`,
	} {
		f.Add(s)
	}
	h, tok := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, where string) {
		if !json.Valid([]byte(where)) {
			return
		}
		for _, q := range []string{
			`query($w: ContactWhereInput) { contacts(where: $w, first: 5) { totalCount edges { node { id } } } }`,
			`query($w: DealWhereInput) { deals(where: $w, first: 5) { totalCount } }`,
		} {
			qj, _ := json.Marshal(q)
			serveFuzz(t, h, tok, `{"query":`+string(qj)+`,"variables":{"w":`+where+`}}`)
		}
	})
}
