package graph_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/store/storetest"
)

// each runs f once per database dialect with a fresh API.
func each(t *testing.T, f func(t *testing.T, e *env)) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) { f(t, newEnv(t, d)) })
	}
}

const createOrg = `mutation($in: CreateOrganizationInput!) { createOrganization(input: $in) { id name } }`
const createContact = `mutation($in: CreateContactInput!) { createContact(input: $in) { id firstName lastName email organization { id name } } }`

// pipeline creates a pipeline with stages Lead (open, 0.1), Proposal
// (open, 0.5), Won and Lost, and returns the IDs.
func (e *env) pipeline(token, name string) (pipelineID string, stages map[string]string) {
	e.t.Helper()
	p := e.ok(token, `mutation($n: String!) { createPipeline(input: {name: $n, isDefault: true}) { id } }`, map[string]any{"n": name})
	pipelineID = str(p, "createPipeline", "id")
	stages = map[string]string{}
	for i, s := range []struct {
		name, kind string
		prob       float64
	}{{"Lead", "open", 0.1}, {"Proposal", "open", 0.5}, {"Won", "won", 1}, {"Lost", "lost", 0}} {
		d := e.ok(token, `mutation($in: CreateStageInput!) { createStage(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"name": s.name, "position": i, "probability": s.prob, "kind": s.kind, "pipelineID": pipelineID,
		}})
		stages[s.name] = str(d, "createStage", "id")
	}
	return pipelineID, stages
}

func TestAuthentication(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		for _, tok := range []string{"", "rpt_notatoken", "garbage"} {
			r := e.do(tok, `{ contacts { totalCount } }`, nil)
			if r.status != http.StatusUnauthorized || len(r.Errors) != 1 || r.Errors[0].code() != "UNAUTHENTICATED" {
				t.Errorf("token %q: status %d errors %+v", tok, r.status, r.Errors)
			}
		}
		d := e.ok("a", `{ viewer { role workspace { slug } } }`, nil)
		if str(d, "viewer", "workspace", "slug") != "alpha" || str(d, "viewer", "role") != "admin" {
			t.Errorf("viewer = %v", d)
		}
	})
}

func TestCreateQueryFilterOrder(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		org := e.ok("a", createOrg, map[string]any{"in": map[string]any{"name": "Acme", "domain": "acme.test", "industry": "Retail", "employees": 120}})
		orgID := str(org, "createOrganization", "id")
		for _, n := range []string{"Carol Zed", "Alice Young", "Bob Young"} {
			first, last, _ := strings.Cut(n, " ")
			e.ok("a", createContact, map[string]any{"in": map[string]any{
				"firstName": first, "lastName": last, "email": strings.ToLower(first) + "@acme.test", "organizationID": orgID,
			}})
		}
		d := e.ok("a", `{ contacts(where: {lastName: "Young"}, orderBy: [{field: FIRST_NAME, direction: DESC}]) {
			totalCount edges { node { firstName organization { name } } } } }`, nil)
		if num(d, "contacts", "totalCount") != 2 {
			t.Fatalf("totalCount = %v", get(d, "contacts", "totalCount"))
		}
		if str(d, "contacts", "edges", 0, "node", "firstName") != "Bob" || str(d, "contacts", "edges", 1, "node", "firstName") != "Alice" {
			t.Errorf("order wrong: %v", d)
		}
		if str(d, "contacts", "edges", 0, "node", "organization", "name") != "Acme" {
			t.Errorf("edge organization missing: %v", d)
		}
		// Multi-field order: last name ascending, then first name descending.
		d = e.ok("a", `{ contacts(orderBy: [{field: LAST_NAME}, {field: FIRST_NAME, direction: DESC}]) { edges { node { firstName } } } }`, nil)
		var got []string
		for i := 0; i < 3; i++ {
			got = append(got, str(d, "contacts", "edges", i, "node", "firstName"))
		}
		if strings.Join(got, ",") != "Bob,Alice,Carol" {
			t.Errorf("multi-field order = %v", got)
		}
		// Pagination: first 2, then after the cursor.
		d = e.ok("a", `{ contacts(first: 2, orderBy: [{field: FIRST_NAME}]) { pageInfo { hasNextPage endCursor } edges { node { firstName } } } }`, nil)
		if get(d, "contacts", "pageInfo", "hasNextPage") != true {
			t.Errorf("hasNextPage false: %v", d)
		}
		cursor := str(d, "contacts", "pageInfo", "endCursor")
		d = e.ok("a", `query($c: Cursor) { contacts(first: 2, after: $c, orderBy: [{field: FIRST_NAME}]) { edges { node { firstName } } } }`, map[string]any{"c": cursor})
		if str(d, "contacts", "edges", 0, "node", "firstName") != "Carol" {
			t.Errorf("second page = %v", d)
		}
		// node(id:) and the reverse edge.
		d = e.ok("a", `query($id: ID!) { node(id: $id) { ... on Organization { name contacts { totalCount } } } }`, map[string]any{"id": orgID})
		if str(d, "node", "name") != "Acme" || num(d, "node", "contacts", "totalCount") != 3 {
			t.Errorf("node = %v", d)
		}
	})
}

func TestMoveDealAndConvertLead(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pid, st := e.pipeline("a", "Sales")
		d := e.ok("a", `mutation($in: CreateDealInput!) { createDeal(input: $in) { id status amount stage { name } } }`, map[string]any{"in": map[string]any{
			"name": "Big one", "amount": "12500.50", "pipelineID": pid, "stageID": st["Lead"],
		}})
		dealID := str(d, "createDeal", "id")
		if str(d, "createDeal", "status") != "open" || num(d, "createDeal", "amount") != 12500.5 {
			t.Fatalf("created deal = %v", d)
		}
		d = e.ok("a", `mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageID: $s) { status closedAt stage { name } stageChanges { fromStage { name } toStage { name } } } }`,
			map[string]any{"id": dealID, "s": st["Won"]})
		if str(d, "moveDeal", "status") != "won" || get(d, "moveDeal", "closedAt") == nil {
			t.Errorf("moved deal = %v", d)
		}
		changes, _ := get(d, "moveDeal", "stageChanges").([]any)
		if len(changes) != 2 {
			t.Fatalf("want 2 stage changes (created in Lead, moved to Won), got %v", changes)
		}
		// Reopening moves status back to open.
		d = e.ok("a", `mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageID: $s) { status closedAt } }`, map[string]any{"id": dealID, "s": st["Proposal"]})
		if str(d, "moveDeal", "status") != "open" || get(d, "moveDeal", "closedAt") != nil {
			t.Errorf("reopened deal = %v", d)
		}
		// A stage of another pipeline is refused.
		_, other := e.pipeline("a", "Renewals")
		er := e.fail("a", `mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageID: $s) { id } }`, map[string]any{"id": dealID, "s": other["Won"]}, "BAD_USER_INPUT")
		if er.field() != "stageID" {
			t.Errorf("field = %q", er.field())
		}
		// Lead conversion.
		org := str(e.ok("a", createOrg, map[string]any{"in": map[string]any{"name": "Initech"}}), "createOrganization", "id")
		l := e.ok("a", `mutation($in: CreateLeadInput!) { createLead(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"title": "Initech expansion", "estimatedValue": 900, "organizationID": org,
		}})
		leadID := str(l, "createLead", "id")
		c := e.ok("a", `mutation($id: ID!) { convertLead(id: $id) { name amount status organization { name } pipeline { name } stage { name } lead { status } } }`, map[string]any{"id": leadID})
		if str(c, "convertLead", "name") != "Initech expansion" || num(c, "convertLead", "amount") != 900 ||
			str(c, "convertLead", "organization", "name") != "Initech" || str(c, "convertLead", "lead", "status") != "converted" ||
			str(c, "convertLead", "stage", "name") != "Lead" {
			t.Errorf("converted = %v", c)
		}
		e.fail("a", `mutation($id: ID!) { convertLead(id: $id) { id } }`, map[string]any{"id": leadID}, "BAD_USER_INPUT")
	})
}

func TestBulkCreateIsAllOrNothing(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		const n = 1000
		in := make([]map[string]any, n)
		for i := range in {
			in[i] = map[string]any{"firstName": "F", "lastName": fmt.Sprintf("L%04d", i), "email": fmt.Sprintf("c%d@bulk.test", i)}
		}
		d := e.ok("a", `mutation($in: [CreateContactInput!]!) { bulkCreateContacts(input: $in) { id } }`, map[string]any{"in": in})
		if got := len(get(d, "bulkCreateContacts").([]any)); got != n {
			t.Fatalf("created %d, want %d", got, n)
		}
		bad := in[:10]
		for i := range bad {
			bad[i] = map[string]any{"lastName": fmt.Sprintf("Bad%d", i), "email": "ok@bulk.test"}
		}
		bad[7] = map[string]any{"lastName": "Broken", "email": "not-an-email"}
		er := e.fail("a", `mutation($in: [CreateContactInput!]!) { bulkCreateContacts(input: $in) { id } }`, map[string]any{"in": bad}, "BAD_USER_INPUT")
		if er.field() != "input.7.email" {
			t.Errorf("field = %q (%s)", er.field(), er.Message)
		}
		d = e.ok("a", `{ contacts { totalCount } }`, nil)
		if num(d, "contacts", "totalCount") != n {
			t.Errorf("after failed bulk: %v contacts, want %d", get(d, "contacts", "totalCount"), n)
		}
		// Orders: negative amounts (refunds) are allowed; three decimals are not.
		e.ok("a", `mutation { bulkCreateOrders(input: [{amount: 10, orderedAt: "2026-01-01T00:00:00Z"}, {amount: -2.5, orderedAt: "2026-01-02T00:00:00Z"}]) { id } }`, nil)
		e.fail("a", `mutation { bulkCreateOrders(input: [{amount: 10, orderedAt: "2026-01-01T00:00:00Z"}, {amount: 1.005, orderedAt: "2026-01-02T00:00:00Z"}]) { id } }`, nil, "BAD_USER_INPUT")
		d = e.ok("a", `{ orders { totalCount } }`, nil)
		if num(d, "orders", "totalCount") != 2 {
			t.Errorf("orders = %v", d)
		}
	})
}

func TestRootConnectionsArePagedByDefault(t *testing.T) {
	e := newEnv(t, "sqlite")
	in := make([]map[string]any, 1001)
	for i := range in {
		in[i] = map[string]any{"lastName": fmt.Sprintf("P%04d", i)}
	}
	e.ok("a", `mutation($in: [CreateContactInput!]!) { bulkCreateContacts(input: $in) { id } }`, map[string]any{"in": in})
	d := e.ok("a", `{ contacts { totalCount pageInfo { hasNextPage } edges { node { id } } } }`, nil)
	if n := len(get(d, "contacts", "edges").([]any)); n != 1000 || num(d, "contacts", "totalCount") != 1001 || get(d, "contacts", "pageInfo", "hasNextPage") != true {
		t.Errorf("default page: %d edges, %v", n, get(d, "contacts", "totalCount"))
	}
}

func TestChartsNeedAToken(t *testing.T) {
	e := newEnv(t, "sqlite")
	res, err := http.Get(e.srv.URL + "/charts/churn.svg")
	if err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without token: %v %v", res.StatusCode, err)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/charts/churn.svg?from=2026-01&to=2026-06", nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["a"])
	res, err = http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), "svg") {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("with token: %v %v %v %s", res.StatusCode, res.Header.Get("Content-Type"), err, body)
	}
}
