package graph_test

import (
	"fmt"
	"testing"
)

// TestStatementsPerPeerQuery counts the SQL statements of the three
// queries internal/peerbench measures, on a warm token (read once per TTL,
// so not counted): one per level of the selection, however many records.
func TestStatementsPerPeerQuery(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pid, st := e.pipeline("a", "Sales")
		od := e.ok("a", createOrg, map[string]any{"in": map[string]any{"name": "Org"}})
		orgID := str(od, "createOrganization", "id")
		for i := 0; i < 12; i++ {
			c := e.ok("a", createContact, map[string]any{"in": map[string]any{"lastName": fmt.Sprintf("C%02d", i), "organizationID": orgID}})
			e.ok("a", `mutation($in: CreateDealInput!) { createDeal(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"name": fmt.Sprintf("D%02d", i), "amount": 10, "pipelineID": pid, "stageID": st["Proposal"],
				"contactID": str(c, "createContact", "id"), "organizationID": orgID}})
		}
		for _, tc := range []struct {
			name  string
			query string
			vars  map[string]any
			want  int64 // statements
			why   string
		}{
			{"deals page", `{ deals(first: 50, orderBy: [{field: NAME}]) { edges { node { id name amount status
				contact { id firstName lastName } organization { id name } stage { id name } } } } }`, nil,
				4, "deals, their contacts, organizations, stages"},
			{"one organization", `query($id: ID!) { node(id: $id) { ... on Organization { id name domain
				contacts(first: 100) { edges { node { id firstName lastName email } } }
				deals(first: 100) { edges { node { id name amount status } } } } } }`, map[string]any{"id": orgID},
				3, "the organization, its contacts, its deals"},
			{"contacts page", `{ contacts(first: 100, orderBy: [{field: LAST_NAME}, {field: FIRST_NAME}]) { edges { node {
				id firstName lastName email phone title } } } }`, nil,
				1, "the contacts"},
		} {
			e.ok("a", tc.query, tc.vars) // warm the token
			before := e.counter.queries.Load()
			e.ok("a", tc.query, tc.vars)
			if got := e.counter.queries.Load() - before; got != tc.want {
				t.Errorf("%s: %d statements, want %d (%s)", tc.name, got, tc.want, tc.why)
			}
		}
	})
}
