package graph_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// raw sends a request with the given method and body as is, and decodes
// the answer.
func (e *env) raw(method, token, body string) response {
	e.t.Helper()
	target := e.srv.URL + "/graphql"
	var rd io.Reader
	if method == http.MethodGet {
		target += "?" + body
	} else {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, target, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[token])
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

// refused checks that r failed with code (and reason, when not empty).
func refused(t *testing.T, r response, code, reason string) gqlError {
	t.Helper()
	if len(r.Errors) == 0 {
		t.Fatalf("expected %s, got data %v", code, r.Data)
	}
	er := r.Errors[0]
	if er.code() != code {
		t.Fatalf("code %s, want %s (%s)", er.code(), code, er.Message)
	}
	if got, _ := er.Extensions["reason"].(string); reason != "" && got != reason {
		t.Fatalf("reason %q, want %q (%s)", got, reason, er.Message)
	}
	return er
}

// quick runs f, whose assertions check a refusal, and logs how long it
// took. Tests assert what is refused, never how fast: BenchmarkRefusals
// measures the cost of the largest refusals.
func quick(t *testing.T, what string, f func()) {
	t.Helper()
	start := time.Now()
	f()
	t.Logf("%s refused in %v", what, time.Since(start))
}

// TestBatchMutationCannotBreakAtomicity: scoreSubjects commits batch by
// batch, so an operation holding it used to run every other mutation of
// the operation without a transaction, and a bulk create with one bad
// record among three committed the two good ones. Now such an operation
// is refused whole, and nothing is written.
func TestBatchMutationCannotBreakAtomicity(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		in := []any{map[string]any{"lastName": "Good1"}, map[string]any{"lastName": strings.Repeat("x", 101)}, map[string]any{"lastName": "Good2"}}
		for _, q := range []string{
			`mutation($in: [CreateContactInput!]!) { bulkCreateContacts(input: $in) { id } scoreSubjects(subjectType: lead) { scored } }`,
			`mutation($in: [CreateContactInput!]!) { scoreSubjects(subjectType: lead) { scored } bulkCreateContacts(input: $in) { id } }`,
			`mutation($in: [CreateContactInput!]!) { ...F } fragment F on Mutation { bulkCreateContacts(input: $in) { id } scoreSubjects(subjectType: lead) { scored } }`,
		} {
			quick(t, "mixed batch mutation", func() {
				er := refused(t, e.do("a", q, map[string]any{"in": in}), "BAD_USER_INPUT", "BATCH_MUTATION_NOT_ALONE")
				if !strings.Contains(er.Message, "scoreSubjects") {
					t.Errorf("message does not name the field: %s", er.Message)
				}
			})
		}
		// The bulk alone is all or nothing, as always.
		er := e.fail("a", `mutation($in: [CreateContactInput!]!) { bulkCreateContacts(input: $in) { id } }`, map[string]any{"in": in}, "BAD_USER_INPUT")
		if er.field() != "input.1.lastName" {
			t.Errorf("field %q", er.field())
		}
		if n := num(e.ok("a", `{ contacts { totalCount } }`, nil), "contacts", "totalCount"); n != 0 {
			t.Fatalf("%v contacts committed by a failed operation", n)
		}
		// Two mutations in one operation share its transaction: the
		// second's failure undoes the first.
		e.fail("a", `mutation { createContact(input: {lastName: "Kept?"}) { id } createOrganization(input: {name: ""}) { id } }`, nil, "BAD_USER_INPUT")
		if n := num(e.ok("a", `{ contacts { totalCount } }`, nil), "contacts", "totalCount"); n != 0 {
			t.Fatalf("%v contacts committed by a failed operation", n)
		}
		// scoreSubjects alone still runs (it finds no plugin here).
		e.fail("a", `mutation { s1: scoreSubjects(subjectType: lead) { scored } }`, nil, "NOT_FOUND")
	})
}

// TestHeavyFieldsAreBounded: reports, metrics and plugin runs cost what
// they do in the complexity budget and at most three run per operation.
func TestHeavyFieldsAreBounded(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		var b strings.Builder
		b.WriteString("{")
		for i := 0; i < 1000; i++ {
			fmt.Fprintf(&b, " r%d: runReport(plugin: \"valuechain\") { title }", i)
		}
		b.WriteString(" }")
		quick(t, "1,000 runReport aliases", func() {
			er := refused(t, e.do("a", b.String(), nil), "BAD_USER_INPUT", "")
			if r := er.Extensions["reason"]; r != "HEAVY_FIELD_LIMIT_EXCEEDED" && r != "COMPLEXITY_LIMIT_EXCEEDED" {
				t.Errorf("reason %v (%s)", r, er.Message)
			}
		})
		const m = `m%d: metrics(range: {from: "2025-01-01T00:00:00Z", to: "2025-12-31T00:00:00Z"}) { customers { label churnRate } } `
		three := "{ " + fmt.Sprintf(m, 1) + fmt.Sprintf(m, 2) + fmt.Sprintf(m, 3) + "}"
		d := e.ok("a", three, nil)
		if len(get(d, "m3", "customers").([]any)) != 12 {
			t.Fatalf("metrics = %v", d)
		}
		quick(t, "four metrics", func() {
			refused(t, e.do("a", "{ "+fmt.Sprintf(m, 1)+fmt.Sprintf(m, 2)+fmt.Sprintf(m, 3)+
				`c: cohortRetention(range: {from: "2025-01-01T00:00:00Z", to: "2025-12-31T00:00:00Z"}) { period } }`, nil), "BAD_USER_INPUT", "HEAVY_FIELD_LIMIT_EXCEEDED")
		})
		// A 240-month range costs its selections once per month.
		long := `{ metrics(range: {from: "2006-01-01T00:00:00Z", to: "2025-12-31T00:00:00Z"}) { customers { label } cohorts { period } deals { label } } }`
		quick(t, "240 months of three series", func() {
			refused(t, e.do("a", long, nil), "BAD_USER_INPUT", "COMPLEXITY_LIMIT_EXCEEDED")
		})
		e.ok("a", `{ metrics(range: {from: "2006-01-01T00:00:00Z", to: "2025-12-31T00:00:00Z"}) { customers { label } } }`, nil)
	})
}

// TestFilterInputIsBounded: where filters and ID lists from variables are
// bounded like query text is.
func TestFilterInputIsBounded(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		nested := nest(3000)
		const q = `query($w: ContactWhereInput) { contacts(where: $w) { totalCount } }`
		big := jsonBody(q, map[string]any{"w": nested})
		quick(t, "3,000 nested not", func() {
			er := refused(t, e.raw(http.MethodPost, "a", big), "BAD_USER_INPUT", "INPUT_LIMIT_EXCEEDED")
			if !strings.Contains(er.Message, "limit of 32 levels") {
				t.Errorf("error does not name the limit: %+v", er)
			}
		})
		ors := make([]any, 100_000)
		for i := range ors {
			ors[i] = map[string]any{"lastName": fmt.Sprint(i)}
		}
		big = jsonBody(q, map[string]any{"w": map[string]any{"or": ors}})
		quick(t, "100,000 or branches", func() {
			er := refused(t, e.raw(http.MethodPost, "a", big), "BAD_USER_INPUT", "INPUT_LIMIT_EXCEEDED")
			if !strings.Contains(er.Message, "limit of 5000 values") {
				t.Errorf("error does not name the limit: %s", er.Message)
			}
		})
		ids := make([]any, 40_000)
		for i := range ids {
			ids[i] = fmt.Sprintf("con_01jd8z2x9t3v4w5y6z7a8b%04d", i%10000)
		}
		big = jsonBody(q, map[string]any{"w": map[string]any{"idIn": ids}})
		quick(t, "40,000 idIn", func() {
			refused(t, e.raw(http.MethodPost, "a", big), "BAD_USER_INPUT", "INPUT_LIMIT_EXCEEDED")
		})
		big = jsonBody(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids})
		quick(t, "40,000 node ids", func() {
			refused(t, e.raw(http.MethodPost, "a", big), "BAD_USER_INPUT", "INPUT_LIMIT_EXCEEDED")
		})
		// Below the request's limits, filters have tighter ones of their
		// own, named with the argument.
		for _, c := range []struct {
			name  string
			where map[string]any
			msg   string
		}{
			{"11 nested not", nest(11), "at most 10 levels"},
			{"501 or branches", map[string]any{"or": ors[:501]}, "at most 500 conditions"},
			{"1,001 idIn", map[string]any{"idIn": ids[:1001]}, "at most 1000 values"},
		} {
			for _, q := range []string{q, `query($w: ContactWhereInput) { organizations { edges { node { contacts(where: $w) { totalCount } } } } }`} {
				quick(t, c.name, func() {
					er := refused(t, e.do("a", q, map[string]any{"w": c.where}), "BAD_USER_INPUT", "INPUT_LIMIT_EXCEEDED")
					if !strings.HasPrefix(er.field(), "variables.w") || !strings.Contains(er.Message, c.msg) {
						t.Errorf("%s: error does not name the argument and the limit: %+v", c.name, er)
					}
				})
			}
		}
		// Written in the query text, a filter is held to the same limits.
		lit := `{ contacts(where: ` + strings.Repeat("{not: ", 10) + `{lastName: "x"}` + strings.Repeat("}", 10) + `) { totalCount } }`
		er := refused(t, e.do("a", lit, nil), "BAD_USER_INPUT", "INPUT_LIMIT_EXCEEDED")
		if !strings.HasPrefix(er.field(), "where") {
			t.Errorf("literal filter: field %q", er.field())
		}
		e.ok("a", q, map[string]any{"w": nest(10)})
		// Within the limits a filter works.
		d := e.ok("a", q, map[string]any{"w": map[string]any{"or": ors[:100], "idIn": ids[:500]}})
		if num(d, "contacts", "totalCount") != 0 {
			t.Errorf("filtered = %v", d)
		}
	})
}

// TestRequestBodyIsCapped: a body over the cap is refused with 413 and a
// code, for a caller with a token or without.
func TestRequestBodyIsCapped(t *testing.T) {
	e := newEnv(t, "sqlite")
	big := `{"query":"{ viewer { role } }","variables":{"pad":"` + strings.Repeat("x", 9<<20) + `"}}`
	for _, tok := range []string{"a", ""} {
		quick(t, "9 MiB body", func() {
			r := e.raw(http.MethodPost, tok, big)
			refused(t, r, "BAD_USER_INPUT", "REQUEST_TOO_LARGE")
			if r.status != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d", r.status)
			}
		})
	}
	// A body that does not say its length is cut off at the cap too.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+e.tokens["a"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked body: status %d", res.StatusCode)
	}
}

// TestBadInputIsNeverInternal: input the server cannot use is refused
// with BAD_USER_INPUT (or FORBIDDEN, for a viewer's write), never INTERNAL.
func TestBadInputIsNeverInternal(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		const metricsQ = `query($f: Time!, $p: MetricPeriod) { metrics(range: {from: $f, to: "2025-12-31T00:00:00Z"}, period: $p) { from } }`
		body := jsonBody
		createOrgQ := `mutation($in: CreateOrganizationInput!) { createOrganization(input: $in) { id } }`
		cases := []struct {
			name, token, method, body string
			code, reason              string
		}{
			{"unknown enum", "a", "POST", body(metricsQ, map[string]any{"f": "2025-01-01T00:00:00Z", "p": "WEEK"}), "BAD_USER_INPUT", ""},
			{"unparseable time", "a", "POST", body(metricsQ, map[string]any{"f": "yesterday"}), "BAD_USER_INPUT", ""},
			{"unparseable cursor", "a", "POST", body(`query($c: Cursor) { contacts(after: $c) { totalCount } }`, map[string]any{"c": "garbage!"}), "BAD_USER_INPUT", ""},
			{"unparseable id", "a", "POST", body(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "zzz"}), "BAD_USER_INPUT", ""},
			{"NaN float", "a", "POST", body(`query($p: Float) { stages(where: {probabilityGT: $p}) { totalCount } }`, map[string]any{"p": "NaN"}), "BAD_USER_INPUT", "INVALID_VALUE"},
			{"Infinity float", "a", "POST", body(`query($p: Float) { stages(where: {probabilityGT: $p}) { totalCount } }`, map[string]any{"p": "Infinity"}), "BAD_USER_INPUT", "INVALID_VALUE"},
			{"bare NaN in JSON", "a", "POST", `{"query":"query($p: Float) { stages(where: {probabilityGT: $p}) { totalCount } }","variables":{"p":NaN}}`, "BAD_USER_INPUT", "INVALID_REQUEST_BODY"},
			{"not JSON", "a", "POST", `query { viewer { role } }`, "BAD_USER_INPUT", "INVALID_REQUEST_BODY"},
			{"batched array", "a", "POST", `[{"query":"{ viewer { role } }"},{"query":"{ viewer { role } }"}]`, "BAD_USER_INPUT", "BATCHING_UNSUPPORTED"},
			{"mutation over GET", "a", "GET", url.Values{"query": {`mutation { createTag(input: {name: "t"}) { id } }`}}.Encode(), "BAD_USER_INPUT", "MUTATION_OVER_GET"},
			{"invalid UTF-8", "a", "POST", "{\"query\":\"mutation($in: CreateOrganizationInput!) { createOrganization(input: $in) { id } }\",\"variables\":{\"in\":{\"name\":\"A\xff\xfeB\"}}}", "BAD_USER_INPUT", "INVALID_REQUEST_BODY"},
			{"lone surrogate", "a", "POST", `{"query":"mutation($in: CreateOrganizationInput!) { createOrganization(input: $in) { id } }","variables":{"in":{"name":"A\ud800B"}}}`, "BAD_USER_INPUT", "INVALID_VALUE"},
			{"NUL", "a", "POST", body(createOrgQ, map[string]any{"in": map[string]any{"name": "A\x00B"}}), "BAD_USER_INPUT", "INVALID_VALUE"},
			{"NUL over GET", "a", "GET", url.Values{"query": {"{ contacts(where: {lastName: \"a\x00\"}) { totalCount } }"}}.Encode(), "BAD_USER_INPUT", "INVALID_VALUE"},
			{"int beyond 32 bits", "a", "POST", body(createOrgQ, map[string]any{"in": map[string]any{"name": "Big", "employees": 1 << 40}}), "BAD_USER_INPUT", "INVALID_VALUE"},
			{"viewer write with bad input", "aViewer", "POST", body(`mutation($in: CreateContactInput!) { createContact(input: $in) { id } }`, map[string]any{"in": map[string]any{"lastName": 5, "bogus": true}}), "FORBIDDEN", ""},
			{"viewer scoreSubjects", "aViewer", "POST", body(`mutation { scoreSubjects(subjectType: lead) { scored } }`, nil), "FORBIDDEN", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				quick(t, c.name, func() { refused(t, e.raw(c.method, c.token, c.body), c.code, c.reason) })
			})
		}
		d := e.ok("a", `{ organizations { totalCount } tags { id } }`, nil)
		if num(d, "organizations", "totalCount") != 0 || len(get(d, "tags").([]any)) != 0 {
			t.Errorf("bad input wrote records: %v", d)
		}
	})
}

// nest is a contact filter of n nested nots.
func nest(n int) map[string]any {
	w := map[string]any{"lastName": "x"}
	for i := 1; i < n; i++ {
		w = map[string]any{"not": w}
	}
	return w
}

// jsonBody is the JSON of a GraphQL request.
func jsonBody(q string, vars map[string]any) string {
	b, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	return string(b)
}
