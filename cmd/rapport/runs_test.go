package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/workrange"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/extension/runjob"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// TestScoreBackground starts a background run with rapport score
// --background, which queues it and prints it; works its ranges as a
// worker would; and reads it back with rapport runs show and list.
func TestScoreBackground(t *testing.T) {
	dir := extensiontest.Plugins(t)
	db := storetest.URL(t, "sqlite")
	if _, err := run(t, "--db", db, "workspace", "create", "acme"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ws, err := access.WorkspaceBySlug(ctx, st.Client, "acme")
	if err != nil {
		t.Fatal(err)
	}
	wctx := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	var bs []*ent.LeadCreate
	for range 12 {
		bs = append(bs, st.Client.Lead.Create().SetTitle("Lead").SetEmail("x@y.test"))
	}
	st.Client.Lead.CreateBulk(bs...).ExecX(wctx)

	read := func(out string) map[string]any {
		t.Helper()
		var rows []map[string]any
		if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 {
			t.Fatalf("%q: %v", out, err)
		}
		return rows[0]
	}
	out, err := run(t, "--db", db, "score", "-w", "acme", "--plugins", dir, "--bundled=false", "--plugin", "leadscore", "--version", "1.0.0",
		"--background", "--range-size", "5", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	started := read(out)
	if started["status"] != "queued" || started["total"] != 12.0 || started["ranges"] != 3.0 || started["ranges_pending"] != 3.0 {
		t.Fatalf("started %v", started)
	}
	id, _ := started["id"].(string)

	reg := extensiontest.Registry(t, dir)
	for _, rg := range st.Client.WorkRange.Query().Where(workrange.RunID(pulid.ID(id))).IDsX(wctx) {
		if err := runjob.RunRange(ctx, st.Client, reg, rg, runjob.RangeOptions{Attempt: 1}); err != nil {
			t.Fatal(err)
		}
	}
	out, err = run(t, "--db", db, "runs", "show", id, "-w", "acme", "--watch", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if done := read(out); done["status"] != "succeeded" || done["done"] != 12.0 || done["ranges_done"] != 3.0 || done["failed_ranges"] != 0.0 {
		t.Fatalf("done %v", done)
	}
	out, err = run(t, "--db", db, "runs", "list", "-w", "acme", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if l := read(out); l["id"] != id || l["status"] != "succeeded" {
		t.Fatalf("list %v", l)
	}
	if n := st.Client.Score.Query().CountX(wctx); n != 12 {
		t.Errorf("%d scores", n)
	}

	// The same for segmentation, watched to its end by rapport runs show.
	out, err = run(t, "--db", db, "segment", "-w", "acme", "--subject", "lead", "--plugins", dir, "--bundled=false", "--plugin", "faulty", "--version", "0.1.0",
		"--background", "--range-size", "5", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	started = read(out)
	if started["kind"] != "segment" || started["status"] != "queued" || started["total"] != 12.0 {
		t.Fatalf("started %v", started)
	}
	id, _ = started["id"].(string)
	for _, rg := range st.Client.WorkRange.Query().Where(workrange.RunID(pulid.ID(id))).IDsX(wctx) {
		if err := runjob.RunRange(ctx, st.Client, reg, rg, runjob.RangeOptions{Attempt: 1}); err != nil {
			t.Fatal(err)
		}
	}
	out, err = run(t, "--db", db, "runs", "show", id, "-w", "acme", "--watch", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if done := read(out); done["status"] != "succeeded" || done["done"] != 12.0 {
		t.Fatalf("done %v", done)
	}
	if n := st.Client.SegmentMembership.Query().CountX(wctx); n != 24 {
		t.Errorf("%d memberships", n)
	}
}
