package graph_test

import (
	"context"
	"testing"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/tenancy"
)

const (
	privacyExport = `query($id: ID!) { privacyExport(contactID: $id) }`
	eraseContact  = `mutation($id: ID!) { eraseContact(contactID: $id) { contactID changed audited } }`
)

// TestPrivacy exports and erases a contact through GraphQL: admins only
// (a viewer or member is FORBIDDEN before its input is looked at), and
// another workspace's contact is NOT_FOUND.
func TestPrivacy(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.addMember(e.wsA, "bob", tenancy.RoleMember)
		mk := func(ws *ent.Workspace, first string) *ent.Contact {
			ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
			c, err := e.st.Client.Contact.Create().SetFirstName(first).SetLastName("Pemberton").SetEmail(first + "@example.org").Save(ctx)
			if err == nil {
				_, err = e.st.Client.Activity.Create().SetKind("email").SetSubject("Hello " + first).SetContactID(c.ID).Save(ctx)
			}
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		ada, bea := mk(e.wsA, "Ada"), mk(e.wsB, "Bea")

		for _, tok := range []string{"aViewer", "bob"} {
			for _, id := range []any{ada.ID, "not an id"} {
				e.fail(tok, privacyExport, map[string]any{"id": id}, "FORBIDDEN")
				e.fail(tok, eraseContact, map[string]any{"id": id}, "FORBIDDEN")
			}
			e.fail(tok, `query($id: ID!) { ...F } fragment F on Query { privacyExport(contactID: $id) }`, map[string]any{"id": ada.ID}, "FORBIDDEN")
		}
		e.fail("a", privacyExport, map[string]any{"id": bea.ID}, "NOT_FOUND")
		e.fail("a", eraseContact, map[string]any{"id": bea.ID}, "NOT_FOUND")

		d := e.ok("a", privacyExport, map[string]any{"id": ada.ID})
		if str(d, "privacyExport", "contact", "email") != "Ada@example.org" || str(d, "privacyExport", "activities", 0, "subject") != "Hello Ada" {
			t.Errorf("export: %v", d)
		}
		d = e.ok("a", eraseContact, map[string]any{"id": ada.ID})
		if get(d, "eraseContact", "audited") != true || str(d, "eraseContact", "contactID") != string(ada.ID) {
			t.Errorf("erase: %v", d)
		}
		d = e.ok("a", eraseContact, map[string]any{"id": ada.ID})
		if get(d, "eraseContact", "audited") != false || get(d, "eraseContact", "changed") != float64(0) {
			t.Errorf("second erase: %v", d)
		}
		d = e.ok("a", privacyExport, map[string]any{"id": ada.ID})
		if str(d, "privacyExport", "contact", "email") != "" || str(d, "privacyExport", "contact", "last_name") != "Erased" || str(d, "privacyExport", "activities", 0, "subject") != "Erased" {
			t.Errorf("export after erasing: %v", d)
		}
		if str(e.ok("b", privacyExport, map[string]any{"id": bea.ID}), "privacyExport", "contact", "first_name") != "Bea" {
			t.Error("B's contact changed")
		}
	})
}
