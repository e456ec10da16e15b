package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// TestPrivacyCommands exports a contact, refuses an unconfirmed erase,
// erases it, and erases it again to no effect.
func TestPrivacyCommands(t *testing.T) {
	db := storetest.URL(t, "sqlite")
	if _, err := run(t, "--db", db, "workspace", "create", "acme"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := access.WorkspaceBySlug(ctx, st.Client, "acme")
	if err != nil {
		t.Fatal(err)
	}
	vctx := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	ct, err := st.Client.Contact.Create().SetFirstName("Wilhelmina").SetLastName("Froggatt").SetEmail("wil@example.org").Save(vctx)
	if err == nil {
		_, err = st.Client.Activity.Create().SetKind("note").SetSubject("Met at the fair").SetContactID(ct.ID).Save(vctx)
	}
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	id := string(ct.ID)

	out, err := run(t, "--db", db, "privacy", "export", "-w", "acme", "--contact", id)
	var doc map[string]any
	if err != nil || json.Unmarshal([]byte(out), &doc) != nil || !strings.Contains(out, "Wilhelmina") || !strings.Contains(out, "Met at the fair") {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if _, err := runIn(t, "no\n", "--db", db, "privacy", "erase", "-w", "acme", "--contact", id); errcode.Of(err) != errcode.BadUserInput {
		t.Errorf("unconfirmed erase: %v", err)
	}
	if _, err := run(t, "--db", db, "privacy", "erase", "-w", "acme", "--contact", id, "--yes", "--as", "nobody@example.com"); errcode.Of(err) != errcode.NotFound {
		t.Errorf("erase as an unknown member: %v", err)
	}
	if _, err := run(t, "--db", db, "member", "add", "-w", "acme", "--email", "dpo@example.com", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	if out, err := runIn(t, id+"\n", "--db", db, "privacy", "erase", "-w", "acme", "--contact", id, "--as", "dpo@example.com"); err != nil || !strings.HasPrefix(out, "erased contact") {
		t.Fatalf("erase: %v %q", err, out)
	}
	if out, err := run(t, "--db", db, "privacy", "erase", "-w", "acme", "--contact", id, "--yes"); err != nil || !strings.Contains(out, "already erased") {
		t.Errorf("second erase: %v %q", err, out)
	}
	out, err = run(t, "--db", db, "privacy", "export", "-w", "acme", "--contact", id)
	if !strings.Contains(out, `"actor": "member:mem_`) {
		t.Errorf("the erasure is not recorded as the member's:\n%s", out)
	}
	if err != nil || strings.Contains(out, "Wilhelmina") || strings.Contains(out, "wil@example.org") || strings.Contains(out, "Met at the fair") {
		t.Errorf("export after erasing: %v\n%s", err, out)
	}
	if _, err := run(t, "--db", db, "privacy", "export", "-w", "acme", "--contact", string(pulid.New("con"))); errcode.Of(err) != errcode.NotFound {
		t.Errorf("unknown contact: %v", err)
	}
}
