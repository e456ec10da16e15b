package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// TestArchiveCommands archives a workspace with `rapport export
// --workspace-archive` and restores it with `rapport import
// --workspace-archive` into an empty one: the same records arrive, the
// other workspace's do not, and a second restore is refused.
func TestArchiveCommands(t *testing.T) {
	db := storetest.URL(t, "sqlite")
	dir := t.TempDir()
	must := func(args ...string) string {
		t.Helper()
		out, err := run(t, append([]string{"--db", db}, args...)...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}
	must("workspace", "create", "acme")
	must("workspace", "create", "other")
	must("workspace", "create", "copy")
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for slug, names := range map[string][]string{"acme": {"Adams", "Baker"}, "other": {"Hidden"}} {
		ws, err := access.WorkspaceBySlug(ctx, st.Client, slug)
		if err != nil {
			t.Fatal(err)
		}
		wctx := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		org, err := st.Client.Organization.Create().SetName(slug + " Inc").Save(wctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if err := st.Client.Contact.Create().SetLastName(n).SetOrganizationID(org.ID).Exec(wctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	st.Close()

	file := filepath.Join(dir, "acme.tar.gz")
	if _, err := run(t, "--db", db, "export", "contacts", "--workspace-archive", file, "-w", "acme"); errcode.Of(err) != errcode.BadUserInput {
		t.Errorf("a TYPE with --workspace-archive: %v", err)
	}
	must("export", "--workspace-archive", file, "-w", "acme")
	if fi, err := os.Stat(file); err != nil || fi.Size() == 0 {
		t.Fatalf("no archive: %v", err)
	}
	out := must("import", "--workspace-archive", file, "-w", "copy")
	if !strings.Contains(out, "contacts=2") || !strings.Contains(out, "organizations=1") {
		t.Errorf("restore said %q", out)
	}
	csv := must("export", "contacts", "-w", "copy")
	if !strings.Contains(csv, "Adams") || !strings.Contains(csv, "Baker") || strings.Contains(csv, "Hidden") {
		t.Errorf("restored contacts:\n%s", csv)
	}
	_, err = run(t, "--db", db, "import", "--workspace-archive", file, "-w", "copy")
	if errcode.Of(err) != errcode.BadUserInput || !strings.Contains(err.Error(), "2 contacts") {
		t.Errorf("restore into a non-empty workspace: %v", err)
	}
	bad := filepath.Join(dir, "bad.tar.gz")
	data, _ := os.ReadFile(file)
	if err := os.WriteFile(bad, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	must("workspace", "create", "empty")
	if _, err := run(t, "--db", db, "import", "--workspace-archive", bad, "-w", "empty"); errcode.Of(err) != errcode.BadUserInput {
		t.Errorf("a truncated archive: %v", err)
	}
	if csv := must("export", "contacts", "-w", "empty"); strings.Count(csv, "\n") != 1 {
		t.Errorf("a refused restore left records:\n%s", csv)
	}
}
