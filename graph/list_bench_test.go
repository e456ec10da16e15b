package graph_test

import (
	"fmt"
	"testing"
)

// BenchmarkContactsPage asks for a page of 100 contacts (six plain fields
// each) through the HTTP handler, on SQLite and PostgreSQL: the cost of a
// flat list, most of it marshalling the items.
func BenchmarkContactsPage(b *testing.B) {
	for _, dia := range []string{"sqlite", "postgres"} {
		b.Run(dia, func(b *testing.B) {
			e := newEnv(b, dia)
			in := make([]map[string]any, 100)
			for i := range in {
				in[i] = map[string]any{"firstName": fmt.Sprintf("F%03d", i), "lastName": fmt.Sprintf("L%03d", i),
					"email": fmt.Sprintf("c%03d@example.com", i), "phone": "555-0100", "title": "Buyer"}
			}
			e.ok("a", `mutation($in: [CreateContactInput!]!) { bulkCreateContacts(input: $in) { id } }`, map[string]any{"in": in})
			const q = `{ contacts(first: 100, orderBy: [{field: LAST_NAME}, {field: FIRST_NAME}]) { edges { node {
				id firstName lastName email phone title } } } }`
			if n := len(get(e.ok("a", q, nil), "contacts", "edges").([]any)); n != 100 {
				b.Fatalf("%d contacts, want 100", n)
			}
			b.ReportAllocs()
			for b.Loop() {
				e.ok("a", q, nil)
			}
		})
	}
}
