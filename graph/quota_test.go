package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/graph"
)

// newQuotaEnv is newEnv serving with the given quotas and limits.
func newQuotaEnv(t testing.TB, dia string, q graph.Quotas, l graph.Limits) *env {
	t.Helper()
	e := newEnv(t, dia)
	e.srv.Close()
	e.srv = httptest.NewServer(graph.NewHandler(graph.Config{Client: e.st.Client, Ping: e.st.Ping, Quotas: q, Limits: l}))
	t.Cleanup(e.srv.Close)
	return e
}

// post sends a query as the named token and returns the status, the
// Retry-After header and the decoded body.
func (e *env) post(token, query string) (int, string, response) {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.tokens[token])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Error(err)
		return 0, "", response{}
	}
	defer res.Body.Close()
	var r response
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		e.t.Errorf("decode (status %d): %v", res.StatusCode, err)
	}
	return res.StatusCode, res.Header.Get("Retry-After"), r
}

// Tenant A sends ten times its token's rate (2 a second, bursts of 2) for
// two seconds while tenant B, in the same run, sends half its own: A gets
// 429s carrying Retry-After and the budget, at most burst + rate × elapsed
// of its requests pass, and B gets none.
func TestRequestRatePerTenant(t *testing.T) {
	for _, dia := range storetest.Dialects {
		t.Run(dia, func(t *testing.T) {
			const rate, burst = 2.0, 2
			e := newQuotaEnv(t, dia, graph.Quotas{TokenRate: rate, TokenBurst: burst, WorkspaceRate: 100, WorkspaceBurst: 100}, graph.Limits{})
			const q = `{ contacts(first: 5) { totalCount } }`
			var (
				wg              sync.WaitGroup
				aOK, a429, b429 int
				bOK             int
				start           = time.Now()
				window          = 2 * time.Second
				aEvery, bEvery  = time.Duration(float64(time.Second) / (10 * rate)), time.Duration(float64(time.Second) / (rate / 2))
				badRefusals     []string
				mu              sync.Mutex
			)
			drive := func(token string, every time.Duration, ok, refused *int) {
				defer wg.Done()
				tick := time.NewTicker(every)
				defer tick.Stop()
				for time.Since(start) < window {
					status, retry, r := e.post(token, q)
					mu.Lock()
					switch status {
					case http.StatusOK:
						*ok++
					case http.StatusTooManyRequests:
						*refused++
						ext := map[string]any{}
						if len(r.Errors) > 0 {
							ext = r.Errors[0].Extensions
						}
						if n, _ := strconv.Atoi(retry); n < 1 || ext["code"] != "RATE_LIMITED" || ext["reason"] != "REQUEST_RATE_EXCEEDED" ||
							ext["scope"] != "token" || ext["limit"] != float64(burst) || ext["remaining"] != float64(0) ||
							ext["reset"] == nil || ext["reset"].(float64) < 1 || ext["retryAfter"] != float64(n) {
							badRefusals = append(badRefusals, retry+" "+r.Errors[0].Message)
						}
					default:
						t.Errorf("%s: status %d: %+v", token, status, r.Errors)
					}
					mu.Unlock()
					<-tick.C
				}
			}
			wg.Add(2)
			go drive("a", aEvery, &aOK, &a429)
			go drive("b", bEvery, &bOK, &b429)
			wg.Wait()
			elapsed := time.Since(start)
			t.Logf("A: %d ok, %d refused; B: %d ok, %d refused, in %v", aOK, a429, bOK, b429, elapsed)
			if b429 != 0 || bOK == 0 {
				t.Errorf("B got %d refusals and %d answers, want none refused", b429, bOK)
			}
			if a429 == 0 {
				t.Errorf("A got no 429 at ten times its rate")
			}
			if most := burst + int(rate*elapsed.Seconds()) + 1; aOK > most {
				t.Errorf("A had %d requests answered, more than its budget of %d in %v", aOK, most, elapsed)
			}
			if len(badRefusals) > 0 {
				t.Errorf("%d refusals without a right Retry-After and budget, e.g. %q", len(badRefusals), badRefusals[0])
			}
		})
	}
}

// The query cost budget: contacts(first: 1000) { edges { node { id } } }
// costs 3,001 (id 1, node 1 + 1, edges 1 + 2, the connection 1 + 1,000 ×
// 3), so of a budget of 5,000 (refilling by 0.01 a second, nothing in the
// test's time) the first passes, leaving 1,999, and the second is refused
// with 429, the remaining budget and a Retry-After of (3,001 − 1,999) /
// 0.01 s. Another workspace's budget is whole.
func TestQueryCostBudget(t *testing.T) {
	for _, dia := range storetest.Dialects {
		t.Run(dia, func(t *testing.T) {
			e := newQuotaEnv(t, dia, graph.Quotas{CostRate: 0.01, CostBurst: 5000}, graph.Limits{MaxComplexity: 5000})
			const q = `{ contacts(first: 1000) { edges { node { id } } } }`
			if status, _, r := e.post("a", q); status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("first query: %d %+v", status, r.Errors)
			}
			status, retry, r := e.post("a", q)
			if status != http.StatusTooManyRequests || len(r.Errors) != 1 {
				t.Fatalf("second query: %d %+v, want 429", status, r.Errors)
			}
			ext := r.Errors[0].Extensions
			if ext["code"] != "RATE_LIMITED" || ext["reason"] != "QUERY_COST_EXCEEDED" || ext["scope"] != "workspace" ||
				ext["limit"] != float64(5000) || ext["remaining"] != float64(1999) {
				t.Errorf("extensions = %v", ext)
			}
			if want := strconv.Itoa((3001 - 1999) * 100); retry != want || ext["retryAfter"] != float64((3001-1999)*100) {
				t.Errorf("Retry-After = %q, extensions.retryAfter = %v, want %s", retry, ext["retryAfter"], want)
			}
			if status, _, r := e.post("b", q); status != http.StatusOK || len(r.Errors) > 0 {
				t.Errorf("other workspace: %d %+v", status, r.Errors)
			}
		})
	}
}

// A complexity refusal names the field to page: the connection sent
// without first or last when there is one, else the costliest paged field.
// contacts(first: 20) over deals without first: deals counts a page of
// 1,000 (1 + 1,000 × (edges 1 + node (1 + id 1)) = 3,001), contacts
// 1 + 20 × (1 + 1 + 3,001) = 60,061, over 50,000.
func TestComplexityErrorNamesTheField(t *testing.T) {
	e := newQuotaEnv(t, "sqlite", graph.Quotas{}, graph.Limits{})
	tests := []struct {
		name, query, field string
		complexity         float64
	}{
		{"edge without first", `{ contacts(first: 20) { edges { node { deals { edges { node { id } } } } } } }`, "contacts.edges.node.deals", 60061},
		{"aliased", `{ people: contacts(first: 20) { edges { node { d: deals { edges { node { id } } } } } } }`, "people.edges.node.d", 60061},
		{"both paged", `{ contacts(first: 1000) { edges { node { deals(first: 1000) { edges { node { id name } } } } } } }`, "contacts", 4003001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			er := e.fail("a", tt.query, nil, "BAD_USER_INPUT")
			if er.Extensions["reason"] != "COMPLEXITY_LIMIT_EXCEEDED" || er.Extensions["field"] != tt.field || er.Extensions["complexity"] != tt.complexity {
				t.Errorf("error = %s %v, want field %s complexity %v", er.Message, er.Extensions, tt.field, tt.complexity)
			}
		})
	}
}

// A connection nested in a record (an edge) without first or last gets
// one page, as a root connection does: with pages of 2, an organization
// with three contacts lists two of them and says there are more.
func TestEdgeConnectionsArePaged(t *testing.T) {
	for _, dia := range storetest.Dialects {
		t.Run(dia, func(t *testing.T) {
			e := newQuotaEnv(t, dia, graph.Quotas{}, graph.Limits{MaxPage: 2})
			org := str(e.ok("a", createOrg, map[string]any{"in": map[string]any{"name": "Acme"}}), "createOrganization", "id")
			for _, n := range []string{"Ada", "Bea", "Cy"} {
				e.ok("a", createContact, map[string]any{"in": map[string]any{"lastName": n, "organizationID": org}})
			}
			for _, q := range []string{
				`{ organizations { edges { node { contacts { totalCount edges { node { id } } pageInfo { hasNextPage } } } } } }`,
				`query($n: Int) { organizations { edges { node { contacts(first: $n) { totalCount edges { node { id } } pageInfo { hasNextPage } } } } } }`,
			} {
				d := e.ok("a", q, nil)
				c := get(d, "organizations", "edges", 0, "node", "contacts")
				if edges, _ := get(c, "edges").([]any); len(edges) != 2 || num(c, "totalCount") != 3 || get(c, "pageInfo", "hasNextPage") != true {
					t.Errorf("%s: contacts = %v, want 2 of 3 with a next page", q, c)
				}
			}
		})
	}
}

// TestPagingLeavesCachedQueriesAlone runs the same query texts again and
// again: parsed once, they are shared through the query cache, so the
// first given to a connection sent without one must not stay in the
// shared document for the next request, whose variable asks otherwise.
func TestPagingLeavesCachedQueriesAlone(t *testing.T) {
	e := newQuotaEnv(t, "sqlite", graph.Quotas{}, graph.Limits{MaxPage: 2})
	org := str(e.ok("a", createOrg, map[string]any{"in": map[string]any{"name": "Acme"}}), "createOrganization", "id")
	for _, n := range []string{"Ada", "Bea", "Cy"} {
		e.ok("a", createContact, map[string]any{"in": map[string]any{"lastName": n, "organizationID": org}})
	}
	for _, q := range []string{
		`query($n: Int) { organizations { edges { node { contacts(first: $n) { edges { node { id } } } } } } }`,
		// A fragment spread twice, once inside an inline fragment.
		`query($n: Int) { organizations { edges { node { ...C ... on Organization { again: contacts(first: 1) { edges { node { id } } } ...C } } } } }
		 fragment C on Organization { contacts(first: $n) { edges { node { id } } } }`,
	} {
		// null is absent (the page of 2), then 1, then absent again.
		for i, tc := range []struct {
			vars map[string]any
			want int
		}{{nil, 2}, {map[string]any{"n": 1}, 1}, {map[string]any{"n": nil}, 2}, {map[string]any{"n": 1}, 1}} {
			d := e.ok("a", q, tc.vars)
			edges, _ := get(d, "organizations", "edges", 0, "node", "contacts", "edges").([]any)
			if len(edges) != tc.want {
				t.Errorf("%s, request %d (%v): %d contacts, want %d", q, i, tc.vars, len(edges), tc.want)
			}
		}
	}
}
