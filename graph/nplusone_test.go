package graph_test

import (
	"fmt"
	"testing"
)

// TestListingDealsDoesNotQueryPerRow lists deals with their contact,
// organization, stage and line items at two page sizes: the number of SQL
// queries must be the same (one per level, not one per row).
func TestListingDealsDoesNotQueryPerRow(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pid, st := e.pipeline("a", "Sales")
		orgs := make([]map[string]any, 50)
		for i := range orgs {
			orgs[i] = map[string]any{"name": fmt.Sprintf("Org %d", i)}
		}
		od := e.ok("a", `mutation($in: [CreateOrganizationInput!]!) { bulkCreateOrganizations(input: $in) { id } }`, map[string]any{"in": orgs})
		deals := make([]map[string]any, 60)
		for i := range deals {
			orgID := str(od, "bulkCreateOrganizations", i%50, "id")
			c := e.ok("a", createContact, map[string]any{"in": map[string]any{"lastName": fmt.Sprintf("C%d", i), "organizationID": orgID}})
			deals[i] = map[string]any{"name": fmt.Sprintf("Deal %d", i), "amount": i * 10, "pipelineID": pid, "stageID": st["Proposal"],
				"contactID": str(c, "createContact", "id"), "organizationID": orgID}
		}
		dd := e.ok("a", `mutation($in: [CreateDealInput!]!) { bulkCreateDeals(input: $in) { id } }`, map[string]any{"in": deals})
		for i := 0; i < 60; i++ {
			e.ok("a", `mutation($in: CreateLineItemInput!) { createLineItem(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"name": "Seat", "quantity": 2, "unitPrice": 5, "dealID": str(dd, "bulkCreateDeals", i, "id")}})
		}
		const q = `query($n: Int!) { deals(first: $n, orderBy: [{field: NAME}]) { totalCount edges { node {
			name contact { lastName } organization { name } stage { name probability } lineItems { name amount } } } } }`
		count := func(n int) int64 {
			before := e.counter.queries.Load()
			d := e.ok("a", q, map[string]any{"n": n})
			if got := len(get(d, "deals", "edges").([]any)); got != n {
				t.Fatalf("got %d deals, want %d", got, n)
			}
			if num(d, "deals", "edges", 0, "node", "lineItems", 0, "amount") != 10 {
				t.Fatalf("line item amount = %v", get(d, "deals", "edges", 0, "node", "lineItems"))
			}
			return e.counter.queries.Load() - before
		}
		small, large := count(5), count(50)
		if small != large {
			t.Errorf("5 deals took %d queries, 50 deals took %d: queries grow with the page", small, large)
		}
		if large > 10 {
			t.Errorf("50 deals took %d queries; expected a handful", large)
		}
		t.Logf("queries per page: %d", large)
	})
}
