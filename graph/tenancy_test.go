package graph_test

import (
	"testing"
)

// TestWorkspaceIsolation creates records in workspace A and checks that
// workspace B's token can neither see nor touch them by any route: lists,
// counts, node(id:), nodes(ids:), updates, deletes, links from its own
// records, and bulk mutations. A's data is unchanged afterwards.
func TestWorkspaceIsolation(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		orgA := str(e.ok("a", createOrg, map[string]any{"in": map[string]any{"name": "A Corp"}}), "createOrganization", "id")
		conA := str(e.ok("a", createContact, map[string]any{"in": map[string]any{"lastName": "Secret", "organizationID": orgA}}), "createContact", "id")
		pidA, stA := e.pipeline("a", "A pipeline")
		dealA := str(e.ok("a", `mutation($in: CreateDealInput!) { createDeal(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"name": "A deal", "amount": 100, "pipelineID": pidA, "stageID": stA["Lead"], "contactID": conA,
		}}), "createDeal", "id")
		e.pipeline("b", "B pipeline")

		// Lists and counts.
		d := e.ok("b", `{ organizations { totalCount } contacts { totalCount } deals { totalCount } pipelines { totalCount } stages { totalCount } timelineEvents { totalCount } }`, nil)
		for _, k := range []string{"organizations", "contacts", "deals"} {
			if n := num(d, k, "totalCount"); n != 0 {
				t.Errorf("B sees %v %s of A", n, k)
			}
		}
		if num(d, "pipelines", "totalCount") != 1 || num(d, "stages", "totalCount") != 4 {
			t.Errorf("B's own pipeline: %v", d)
		}
		// Filters that name A's IDs find nothing.
		d = e.ok("b", `query($id: ID!) { contacts(where: {id: $id}) { totalCount } deals(where: {hasContactWith: {id: $id}}) { totalCount } }`, map[string]any{"id": conA})
		if num(d, "contacts", "totalCount") != 0 || num(d, "deals", "totalCount") != 0 {
			t.Errorf("filter by A's id: %v", d)
		}
		// node and nodes.
		for _, id := range []string{orgA, conA, dealA, stA["Won"], pidA, string(e.wsA.ID)} {
			r := e.do("b", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
			if get(r.Data, "node") != nil || len(r.Errors) == 0 || r.Errors[0].code() != "NOT_FOUND" {
				t.Errorf("node(%s) from B: data %v errors %+v", id, r.Data, r.Errors)
			}
		}
		r := e.do("b", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{orgA, conA}})
		if nodes, _ := get(r.Data, "nodes").([]any); len(nodes) > 0 && (nodes[0] != nil || nodes[1] != nil) {
			t.Errorf("nodes from B: %v", r.Data)
		}
		// Updates, deletes, moves.
		e.fail("b", `mutation($id: ID!) { updateContact(id: $id, input: {lastName: "Pwned"}) { id } }`, map[string]any{"id": conA}, "NOT_FOUND")
		e.fail("b", `mutation($id: ID!) { deleteOrganization(id: $id) }`, map[string]any{"id": orgA}, "NOT_FOUND")
		e.fail("b", `mutation($id: ID!) { deleteDeal(id: $id) }`, map[string]any{"id": dealA}, "NOT_FOUND")
		e.fail("b", `mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageID: $s) { id } }`, map[string]any{"id": dealA, "s": stA["Won"]}, "NOT_FOUND")
		e.fail("b", `mutation($id: ID!) { convertLead(id: $id) { id } }`, map[string]any{"id": conA}, "NOT_FOUND")
		// Links from B's records to A's.
		er := e.fail("b", createContact, map[string]any{"in": map[string]any{"lastName": "Spy", "organizationID": orgA}}, "NOT_FOUND")
		if er.field() != "input.organizationID" {
			t.Errorf("link error field = %q", er.field())
		}
		e.fail("b", `mutation($in: CreateDealInput!) { createDeal(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"name": "Steal", "pipelineID": pidA, "stageID": stA["Lead"],
		}}, "NOT_FOUND")
		e.fail("b", `mutation($in: [CreateContactInput!]!) { bulkCreateContacts(input: $in) { id } }`, map[string]any{"in": []map[string]any{
			{"lastName": "Fine"}, {"lastName": "Spy", "organizationID": orgA},
		}}, "NOT_FOUND")
		if n := num(e.ok("b", `{ contacts { totalCount } }`, nil), "contacts", "totalCount"); n != 0 {
			t.Errorf("B's failed bulk left %v contacts", n)
		}
		// A's data is untouched, and A still sees it.
		d = e.ok("a", `query($id: ID!) { node(id: $id) { ... on Contact { lastName organization { name } deals { totalCount } } } }`, map[string]any{"id": conA})
		if str(d, "node", "lastName") != "Secret" || str(d, "node", "organization", "name") != "A Corp" || num(d, "node", "deals", "totalCount") != 1 {
			t.Errorf("A's contact after B's attempts: %v", d)
		}
		d = e.ok("a", `{ deals { edges { node { status stage { name } } } } }`, nil)
		if str(d, "deals", "edges", 0, "node", "stage", "name") != "Lead" {
			t.Errorf("A's deal moved: %v", d)
		}
	})
}

func TestViewerCannotWrite(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.ok("a", createOrg, map[string]any{"in": map[string]any{"name": "Visible"}})
		d := e.ok("aViewer", `{ organizations { totalCount } }`, nil)
		if num(d, "organizations", "totalCount") != 1 {
			t.Errorf("viewer reads %v", d)
		}
		e.fail("aViewer", createOrg, map[string]any{"in": map[string]any{"name": "Nope"}}, "FORBIDDEN")
		if n := num(e.ok("a", `{ organizations { totalCount } }`, nil), "organizations", "totalCount"); n != 1 {
			t.Errorf("viewer wrote: %v organizations", n)
		}
	})
}
