package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// TestExportCommand exports contacts from the CLI: CSV to standard output,
// XLSX chosen by the file's extension, a filter read from a file, and the
// errors a user can make.
func TestExportCommand(t *testing.T) {
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
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for slug, names := range map[string][]string{"acme": {"Adams", "=cmd()", "Baker"}, "other": {"Hidden"}} {
		ws, err := access.WorkspaceBySlug(ctx, st.Client, slug)
		if err != nil {
			t.Fatal(err)
		}
		wctx := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		for _, n := range names {
			if _, err := st.Client.Contact.Create().SetLastName(n).Save(wctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	st.Close()

	lastNames := func(recs [][]string) []string {
		col := -1
		for i, c := range recs[0] {
			if c == "last_name" {
				col = i
			}
		}
		var out []string
		for _, r := range recs[1:] {
			out = append(out, r[col])
		}
		return out
	}
	recs, err := csv.NewReader(strings.NewReader(must("export", "contacts", "-w", "acme"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(lastNames(recs), ","); len(recs) != 4 || !strings.Contains(got, "'=cmd()") || strings.Contains(got, "Hidden") {
		t.Errorf("CSV export: %v", recs)
	}

	filter := filepath.Join(dir, "filter.json")
	if err := os.WriteFile(filter, []byte(`{"lastNameHasPrefix":"A"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "contacts.xlsx")
	must("export", "contacts", "-w", "acme", "--where", "@"+filter, "--out", out)
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("contacts")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := lastNames(rows); len(got) != 1 || got[0] != "Adams" {
		t.Errorf("XLSX export filtered to %v, want [Adams]", got)
	}
	if s := must("export", "contacts", "-w", "acme", "--format", "jsonl", "--where", `{"lastName":"Baker"}`); strings.Count(s, "\n") != 1 || !strings.Contains(s, `"last_name":"Baker"`) {
		t.Errorf("JSONL export: %s", s)
	}

	for _, tc := range []struct {
		args []string
		code errcode.Code
		want string
	}{
		{[]string{"export", "contacts", "-w", "acme", "--where", `{"lastNam":"x"}`}, errcode.BadUserInput, `"lastNam"`},
		{[]string{"export", "widgets", "-w", "acme"}, errcode.BadUserInput, "widgets"},
		{[]string{"export", "contacts", "-w", "acme", "--format", "pdf"}, errcode.BadUserInput, "pdf"},
		{[]string{"export", "contacts", "-w", "acme", "--format", "xlsx"}, errcode.BadUserInput, "--out"},
		{[]string{"export", "contacts", "-w", "nobody"}, errcode.NotFound, "nobody"},
	} {
		_, err := run(t, append([]string{"--db", db}, tc.args...)...)
		if errcode.Of(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %s mentioning %s", tc.args, err, tc.code, tc.want)
		}
	}
	// A failed export leaves no file.
	bad := filepath.Join(dir, "bad.csv")
	if _, err := run(t, "--db", db, "export", "contacts", "-w", "acme", "--where", `{"x":1}`, "--out", bad); err == nil {
		t.Error("bad filter accepted")
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("failed export left %s: %v", bad, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("files left: %v", ents)
	}
}
