package graph_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/store/storetest"
)

// names lists the value at key of each node of the connection conn in d,
// sorted.
func names(d map[string]any, conn, key string) []string {
	var out []string
	edges, _ := get(d, conn, "edges").([]any)
	for _, e := range edges {
		out = append(out, str(e, "node", key))
	}
	slices.Sort(out)
	return out
}

// TestCustomFieldFilters filters the four record lists on custom field
// values, typed by the field's definition, on SQLite and PostgreSQL, and
// refuses conditions the definitions do not allow.
func TestCustomFieldFilters(t *testing.T) {
	for _, dia := range storetest.Dialects {
		t.Run(dia, func(t *testing.T) {
			e := newEnv(t, dia)
			define := func(tok, entity, key, typ string, options ...string) {
				t.Helper()
				in := map[string]any{"entity": entity, "key": key, "label": strings.ToUpper(key[:1]) + key[1:], "type": typ}
				if len(options) > 0 {
					in["options"] = options
				}
				e.ok(tok, `mutation($in: CreateCustomFieldInput!) { createCustomField(input: $in) { id } }`, map[string]any{"in": in})
			}
			define("a", "contact", "tier", "select", "gold", "silver", "bronze")
			define("a", "contact", "spend", "number")
			define("a", "contact", "vip", "boolean")
			define("a", "contact", "since", "date")
			define("a", "contact", "notes", "text")
			define("a", "deal", "region", "text")
			define("a", "organization", "size", "number")
			define("a", "lead", "channel", "select", "web", "event")
			// Workspace B has a field of the same key: its records never
			// show in A's lists.
			define("b", "contact", "tier", "select", "gold")

			contact := func(tok, name string, cf map[string]any) {
				t.Helper()
				e.ok(tok, `mutation($in: CreateContactInput!) { createContact(input: $in) { id } }`,
					map[string]any{"in": map[string]any{"lastName": name, "customFields": cf}})
			}
			contact("a", "Ada", map[string]any{"tier": "gold", "spend": 1200.5, "vip": true, "since": "2021-03-01", "notes": "met at the Berlin fair"})
			contact("a", "Bea", map[string]any{"tier": "silver", "spend": 300, "vip": false, "since": "2023-07-15", "notes": "Berlin office"})
			contact("a", "Cy", map[string]any{"tier": "gold", "spend": 50, "since": "2024-01-02"})
			contact("a", "Dee", nil)
			contact("b", "Eve", map[string]any{"tier": "gold"})

			list := func(conds ...map[string]any) []string {
				t.Helper()
				c := make([]any, len(conds))
				for i, x := range conds {
					c[i] = x
				}
				d := e.ok("a", `query($w: ContactWhereInput) { contacts(where: $w, orderBy: [{field: LAST_NAME}]) { totalCount edges { node { lastName } } } }`,
					map[string]any{"w": map[string]any{"customFields": c}})
				got := names(d, "contacts", "lastName")
				if n := int(num(d, "contacts", "totalCount")); n != len(got) {
					t.Errorf("totalCount %d, %d edges", n, len(got))
				}
				return got
			}
			cond := func(key, op string, v any) map[string]any { return map[string]any{"key": key, "op": op, "value": v} }
			for _, tc := range []struct {
				what  string
				conds []map[string]any
				want  string
			}{
				{"select eq", []map[string]any{cond("tier", "EQ", "gold")}, "Ada Cy"},
				{"select contains", []map[string]any{cond("tier", "CONTAINS", "il")}, "Bea"},
				{"number gt", []map[string]any{cond("spend", "GT", 100)}, "Ada Bea"},
				{"number lt, as text", []map[string]any{cond("spend", "LT", "300")}, "Cy"},
				{"number eq", []map[string]any{cond("spend", "EQ", 300)}, "Bea"},
				{"boolean true", []map[string]any{cond("vip", "EQ", true)}, "Ada"},
				{"boolean false", []map[string]any{cond("vip", "EQ", false)}, "Bea"},
				{"date gt", []map[string]any{cond("since", "GT", "2023-01-01")}, "Bea Cy"},
				{"date lt", []map[string]any{cond("since", "LT", "2023-07-15")}, "Ada"},
				{"date eq", []map[string]any{cond("since", "EQ", "2024-01-02")}, "Cy"},
				{"text contains", []map[string]any{cond("notes", "CONTAINS", "Berlin")}, "Ada Bea"},
				{"text eq", []map[string]any{cond("notes", "EQ", "Berlin office")}, "Bea"},
				{"every condition", []map[string]any{cond("tier", "EQ", "gold"), cond("spend", "GT", 100)}, "Ada"},
				{"none match", []map[string]any{cond("tier", "EQ", "bronze")}, ""},
				{"op defaults to EQ", []map[string]any{{"key": "tier", "value": "silver"}}, "Bea"},
			} {
				if got := strings.Join(list(tc.conds...), " "); got != tc.want {
					t.Errorf("%s: got %q, want %q", tc.what, got, tc.want)
				}
			}

			// Beside other filters, and nested in or.
			d := e.ok("a", `{ both: contacts(where: {lastNameHasPrefix: "C", customFields: [{key: "tier", value: "gold"}]}) { totalCount }
				either: contacts(where: {or: [{customFields: [{key: "vip", value: true}]}, {lastName: "Dee"}]}) { edges { node { lastName } } } }`, nil)
			if num(d, "both", "totalCount") != 1 || fmt.Sprint(names(d, "either", "lastName")) != "[Ada Dee]" {
				t.Errorf("combined filters = %v", d)
			}

			// The other record types.
			e.ok("a", `mutation { o1: createOrganization(input: {name: "Big", customFields: {size: 500}}) { id }
				o2: createOrganization(input: {name: "Small", customFields: {size: 5}}) { id }
				l1: createLead(input: {title: "From web", customFields: {channel: "web"}}) { id }
				l2: createLead(input: {title: "From event", customFields: {channel: "event"}}) { id } }`, nil)
			p := e.ok("a", `mutation { createPipeline(input: {name: "P"}) { id } }`, nil)
			pid := str(p, "createPipeline", "id")
			st := e.ok("a", `mutation($p: ID!) { createStage(input: {name: "S", pipelineID: $p, position: 0}) { id } }`, map[string]any{"p": pid})
			sid := str(st, "createStage", "id")
			for _, r := range []string{"North", "South"} {
				e.ok("a", `mutation($in: CreateDealInput!) { createDeal(input: $in) { id } }`, map[string]any{"in": map[string]any{
					"name": r + " deal", "amount": 100, "pipelineID": pid, "stageID": sid, "customFields": map[string]any{"region": r}}})
			}
			d = e.ok("a", `{ organizations(where: {customFields: [{key: "size", op: GT, value: 100}]}) { edges { node { name } } }
				leads(where: {customFields: [{key: "channel", value: "event"}]}) { edges { node { title } } }
				deals(where: {customFields: [{key: "region", op: CONTAINS, value: "out"}]}) { edges { node { name } } } }`, nil)
			if fmt.Sprint(names(d, "organizations", "name")) != "[Big]" || fmt.Sprint(names(d, "leads", "title")) != "[From event]" ||
				fmt.Sprint(names(d, "deals", "name")) != "[South deal]" {
				t.Errorf("organizations and leads = %v", d)
			}

			// Refusals: BAD_USER_INPUT naming the condition.
			bad := func(what, q, field, msg string) {
				t.Helper()
				g := e.fail("a", q, nil, "BAD_USER_INPUT")
				if g.field() != field || !strings.Contains(g.Message, msg) {
					t.Errorf("%s: field %q, message %q; want field %q and %q in the message", what, g.field(), g.Message, field, msg)
				}
			}
			bad("unknown key", `{ contacts(where: {customFields: [{key: "tier", value: "gold"}, {key: "shoe_size", value: 42}]}) { totalCount } }`,
				"where.customFields.1.key", `no custom field "shoe_size" is defined for contacts`)
			bad("another entity's field", `{ contacts(where: {customFields: [{key: "region", value: "North"}]}) { totalCount } }`,
				"where.customFields.0.key", `no custom field "region"`)
			bad("wrong type", `{ contacts(where: {customFields: [{key: "spend", op: GT, value: "lots"}]}) { totalCount } }`,
				"where.customFields.0.value", "want a number")
			bad("bad date", `{ contacts(where: {customFields: [{key: "since", op: GT, value: "yesterday"}]}) { totalCount } }`,
				"where.customFields.0.value", "want a date YYYY-MM-DD")
			bad("op not for the type", `{ contacts(where: {customFields: [{key: "vip", op: GT, value: true}]}) { totalCount } }`,
				"where.customFields.0.value", "EQ only")
			bad("not a select option", `{ contacts(where: {customFields: [{key: "tier", value: 3}]}) { totalCount } }`,
				"where.customFields.0.value", "want text")
			many := strings.Repeat(`{key: "tier", value: "gold"}, `, 11)
			bad("too many", `{ contacts(where: {customFields: [`+many+`]}) { totalCount } }`,
				"where.customFields", "at most 10 custom field conditions")
			// A malformed email is refused in words a person reads.
			for _, q := range []string{`mutation { createContact(input: {lastName: "X", email: "not an email"}) { id } }`,
				`mutation { createLead(input: {title: "X", email: "x@y"}) { id } }`} {
				g := e.fail("a", q, nil, "BAD_USER_INPUT")
				if g.field() != "input.email" || g.Message != "input.email: is not a valid email address (like name@example.com)" {
					t.Errorf("bad email: field %q, message %q", g.field(), g.Message)
				}
			}
			// Workspace B's contact with tier gold is B's only.
			d = e.ok("b", `{ contacts(where: {customFields: [{key: "tier", value: "gold"}]}) { edges { node { lastName } } } }`, nil)
			if fmt.Sprint(names(d, "contacts", "lastName")) != "[Eve]" {
				t.Errorf("workspace B sees %v", d)
			}
		})
	}
}
