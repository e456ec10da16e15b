package graph_test

import "testing"

// TestLinkErrorsNameTheInputField checks that a refused link names the
// input field that holds it (input.organizationID, input.tagIDs,
// input.addTagIDs, input.1.organizationID in a bulk call), whatever the
// reason: a record of another workspace, an unknown ID, an ID of the wrong
// type. Other input errors are paths in the input too (input.lastName).
func TestLinkErrorsNameTheInputField(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		orgB := str(e.ok("b", createOrg, map[string]any{"in": map[string]any{"name": "B Corp"}}), "createOrganization", "id")
		tagB := str(e.ok("b", `mutation { createTag(input: {name: "b-only"}) { id } }`, nil), "createTag", "id")
		tagA := str(e.ok("a", `mutation { createTag(input: {name: "mine"}) { id } }`, nil), "createTag", "id")
		pidB, stB := e.pipeline("b", "B pipeline")
		pidA, stA := e.pipeline("a", "A pipeline")
		con := str(e.ok("a", createContact, map[string]any{"in": map[string]any{"lastName": "Mine"}}), "createContact", "id")
		const unknownOrg = "org_01jd8z2x9t3v4w5y6z7a8b9c0d"
		createDeal := `mutation($in: CreateDealInput!) { createDeal(input: $in) { id } }`
		for _, c := range []struct {
			name, query string
			vars        map[string]any
			code, field string
		}{
			{"another workspace's organization", createContact, map[string]any{"in": map[string]any{"lastName": "X", "organizationID": orgB}}, "NOT_FOUND", "input.organizationID"},
			{"unknown organization", createContact, map[string]any{"in": map[string]any{"lastName": "X", "organizationID": unknownOrg}}, "NOT_FOUND", "input.organizationID"},
			{"contact as organization", createContact, map[string]any{"in": map[string]any{"lastName": "X", "organizationID": con}}, "NOT_FOUND", "input.organizationID"},
			{"another workspace's tag", createContact, map[string]any{"in": map[string]any{"lastName": "X", "tagIDs": []string{tagA, tagB}}}, "NOT_FOUND", "input.tagIDs"},
			{"another workspace's tag on update", `mutation($id: ID!, $in: UpdateContactInput!) { updateContact(id: $id, input: $in) { id } }`,
				map[string]any{"id": con, "in": map[string]any{"addTagIDs": []string{tagB}}}, "NOT_FOUND", "input.addTagIDs"},
			{"another workspace's organization on update", `mutation($id: ID!, $in: UpdateContactInput!) { updateContact(id: $id, input: $in) { id } }`,
				map[string]any{"id": con, "in": map[string]any{"organizationID": orgB}}, "NOT_FOUND", "input.organizationID"},
			{"another workspace's stage", createDeal, map[string]any{"in": map[string]any{"name": "D", "pipelineID": pidA, "stageID": stB["Lead"]}}, "NOT_FOUND", "input.stageID"},
			{"another workspace's pipeline", createDeal, map[string]any{"in": map[string]any{"name": "D", "pipelineID": pidB, "stageID": stA["Lead"]}}, "NOT_FOUND", "input.pipelineID"},
			{"bulk", `mutation($in: [CreateContactInput!]!) { bulkCreateContacts(input: $in) { id } }`,
				map[string]any{"in": []map[string]any{{"lastName": "Fine"}, {"lastName": "X", "organizationID": orgB}}}, "NOT_FOUND", "input.1.organizationID"},
			{"validation", createContact, map[string]any{"in": map[string]any{"lastName": ""}}, "BAD_USER_INPUT", "input.lastName"},
		} {
			t.Run(c.name, func(t *testing.T) {
				er := e.fail("a", c.query, c.vars, c.code)
				if er.field() != c.field {
					t.Errorf("field %q, want %q (%s)", er.field(), c.field, er.Message)
				}
			})
		}
		// Nothing links A's contact to B's records.
		d := e.ok("a", `query($id: ID!) { node(id: $id) { ... on Contact { organization { id } tags { id } } } }`, map[string]any{"id": con})
		if get(d, "node", "organization") != nil || get(d, "node", "tags", 0) != nil {
			t.Errorf("contact after refused links: %v", d)
		}
	})
}
