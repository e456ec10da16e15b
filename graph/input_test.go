package graph_test

import (
	"strings"
	"testing"
)

func TestBadInputIsRefusedWithCodes(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pid, st := e.pipeline("a", "Sales")
		cases := []struct {
			name, query string
			vars        map[string]any
			code, field string
		}{
			{"malformed id", `{ node(id: "nope") { id } }`, nil, "BAD_USER_INPUT", ""},
			{"malformed id in variable", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "con_123"}, "BAD_USER_INPUT", ""},
			{"unknown filter", `{ contacts(where: {shoeSize: 3}) { totalCount } }`, nil, "BAD_USER_INPUT", ""},
			{"wrong type", `{ contacts(first: "ten") { totalCount } }`, nil, "BAD_USER_INPUT", ""},
			{"wrong variable type", `query($n: Int) { contacts(first: $n) { totalCount } }`, map[string]any{"n": "ten"}, "BAD_USER_INPUT", ""},
			{"over-long string", createContact, map[string]any{"in": map[string]any{"lastName": strings.Repeat("x", 101)}}, "BAD_USER_INPUT", "input.lastName"},
			{"empty required string", createOrg, map[string]any{"in": map[string]any{"name": ""}}, "BAD_USER_INPUT", "input.name"},
			{"negative amount", `mutation($in: CreateDealInput!) { createDeal(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"name": "Neg", "amount": -5, "pipelineID": pid, "stageID": st["Lead"]}}, "BAD_USER_INPUT", "input.amount"},
			{"money with three decimals", `mutation($in: CreateDealInput!) { createDeal(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"name": "Neg", "amount": "1.234", "pipelineID": pid, "stageID": st["Lead"]}}, "BAD_USER_INPUT", ""},
			{"unknown stage", `mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageID: $s) { id } }`, map[string]any{
				"id": "del_01jd8z2x9t3v4w5y6z7a8b9c0d", "s": "stg_01jd8z2x9t3v4w5y6z7a8b9c0d"}, "NOT_FOUND", ""},
			{"bad currency", `mutation($in: CreateDealInput!) { createDeal(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"name": "X", "currency": "dollars", "pipelineID": pid, "stageID": st["Lead"]}}, "BAD_USER_INPUT", "input.currency"},
			{"id of wrong type for edge", createContact, map[string]any{"in": map[string]any{"lastName": "X", "organizationID": st["Lead"]}}, "NOT_FOUND", "input.organizationID"},
			{"page too large", `{ contacts(first: 5000) { totalCount } }`, nil, "BAD_USER_INPUT", "first"},
			{"syntax error", `{ contacts { `, nil, "BAD_USER_INPUT", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				er := e.fail("a", c.query, c.vars, c.code)
				if c.field != "" && er.field() != c.field {
					t.Errorf("field = %q, want %q (%s)", er.field(), c.field, er.Message)
				}
			})
		}
		// Nothing was written by any of them.
		d := e.ok("a", `{ contacts { totalCount } deals { totalCount } organizations { totalCount } }`, nil)
		for _, k := range []string{"contacts", "deals", "organizations"} {
			if n := num(d, k, "totalCount"); n != 0 {
				t.Errorf("%s written by bad input: %v", k, n)
			}
		}
	})
}

func TestDepthAndComplexityLimits(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		deep := `{ contacts { edges { node { organization { contacts { edges { node { organization { contacts { edges { node { organization { name } } } } } } } } } } } } }`
		er := e.fail("a", deep, nil, "BAD_USER_INPUT")
		if er.Extensions["reason"] != "DEPTH_LIMIT_EXCEEDED" {
			t.Errorf("depth error = %+v", er)
		}
		wide := `{ contacts(first: 1000) { edges { node { deals(first: 1000) { edges { node { id name } } } } } } }`
		er = e.fail("a", wide, nil, "BAD_USER_INPUT")
		if er.Extensions["reason"] != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Errorf("complexity error = %+v", er)
		}
	})
}

func TestCustomFieldsAreValidatedOnWrite(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.ok("a", `mutation { createCustomField(input: {entity: organization, key: "tier", label: "Tier", type: select, options: ["gold", "silver"], required: true}) { id } }`, nil)
		e.ok("a", `mutation { createCustomField(input: {entity: organization, key: "seats", label: "Seats", type: number}) { id } }`, nil)
		d := e.ok("a", createOrg+"", map[string]any{"in": map[string]any{"name": "Ok", "customFields": map[string]any{"tier": "gold", "seats": 12}}})
		id := str(d, "createOrganization", "id")
		for _, c := range []struct {
			fields map[string]any
			field  string
		}{
			{map[string]any{"tier": "bronze"}, "input.customFields.tier"},
			{map[string]any{"seats": 3}, "input.customFields.tier"},
			{map[string]any{"tier": "gold", "seats": "many"}, "input.customFields.seats"},
			{map[string]any{"tier": "gold", "color": "red"}, "input.customFields.color"},
		} {
			er := e.fail("a", createOrg, map[string]any{"in": map[string]any{"name": "Bad", "customFields": c.fields}}, "BAD_USER_INPUT")
			if er.field() != c.field {
				t.Errorf("%v: field %q, want %q", c.fields, er.field(), c.field)
			}
		}
		e.fail("a", `mutation($id: ID!) { updateOrganization(id: $id, input: {customFields: {seats: 1}}) { id } }`, map[string]any{"id": id}, "BAD_USER_INPUT")
		d = e.ok("a", `query($id: ID!) { node(id: $id) { ... on Organization { customFields } } }`, map[string]any{"id": id})
		if get(d, "node", "customFields", "tier") != "gold" || num(d, "node", "customFields", "seats") != 12 {
			t.Errorf("stored custom fields = %v", d)
		}
		if n := num(e.ok("a", `{ organizations { totalCount } }`, nil), "organizations", "totalCount"); n != 1 {
			t.Errorf("%v organizations, want 1", n)
		}
	})
}

func TestSoftDeleteAndTimeline(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		id := str(e.ok("a", createContact, map[string]any{"in": map[string]any{"lastName": "Before"}}), "createContact", "id")
		e.ok("a", `mutation($id: ID!) { updateContact(id: $id, input: {lastName: "After"}) { id } }`, map[string]any{"id": id})
		d := e.ok("a", `query($id: ID!) { timelineEvents(where: {subjectID: $id}, orderBy: {field: OCCURRED_AT}) { edges { node { action actor changes { field before after } } } } }`, map[string]any{"id": id})
		if str(d, "timelineEvents", "edges", 0, "node", "action") != "create" {
			t.Fatalf("timeline = %v", d)
		}
		upd := get(d, "timelineEvents", "edges", 1, "node")
		if str(upd, "action") != "update" || !strings.HasPrefix(str(upd, "actor"), "token:") {
			t.Fatalf("update event = %v", upd)
		}
		found := false
		for _, c := range get(upd, "changes").([]any) {
			if str(c, "field") == "lastName" && str(c, "before") == "Before" && str(c, "after") == "After" {
				found = true
			}
		}
		if !found {
			t.Errorf("update event lacks lastName Before→After: %v", upd)
		}
		e.ok("a", `mutation($id: ID!) { deleteContact(id: $id) }`, map[string]any{"id": id})
		if n := num(e.ok("a", `{ contacts { totalCount } }`, nil), "contacts", "totalCount"); n != 0 {
			t.Errorf("deleted contact still listed")
		}
		e.fail("a", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, "NOT_FOUND")
		e.fail("a", `mutation($id: ID!) { deleteContact(id: $id) }`, map[string]any{"id": id}, "NOT_FOUND")
		d = e.ok("a", `query($id: ID!) { timelineEvents(where: {subjectID: $id, action: delete}) { totalCount } }`, map[string]any{"id": id})
		if num(d, "timelineEvents", "totalCount") != 1 {
			t.Errorf("delete events = %v", d)
		}
		// The tombstone is still in the table.
		var n int
		if err := e.st.DB.QueryRow("SELECT COUNT(*) FROM contacts WHERE deleted_at IS NOT NULL").Scan(&n); err != nil || n != 1 {
			t.Errorf("tombstones = %d, %v", n, err)
		}
	})
}
