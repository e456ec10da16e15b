package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// TestOptimizeLetsBatchesUseKeys stores 5,000 contacts with two
// activities each, runs Optimize, and asks SQLite how it would run the
// two statements a plugin batch of 1,000 subjects is made of: load the
// subjects by ID, count their activities. Both must look the batch's IDs
// up through an index on the ID or on contact_id. A plan that searches
// the workspace index instead reads every record of the workspace for
// each batch, so scoring a workspace costs the square of its size; that
// is what SQLite chooses before the statistics exist (logged, not
// asserted: it is the planner's guess).
// TestByKeys stores 1,000 contacts with two activities each, in a
// workspace beside another one, and asks SQLite how it would run three
// statements a plugin batch of 100 subjects is made of: load the
// subjects by ID, count their activities, count their calls within a
// window. Under ByKeys each must look the batch's IDs up through an index
// on the ID or on contact_id; without it SQLite searches a workspace
// index, reading every record of the workspace for each batch (logged,
// not asserted: it is the planner's guess). The workspace filter still
// applies: the other workspace's contacts, asked for by ID under ByKeys,
// are not found.
func TestByKeys(t *testing.T) {
	var (
		mu   sync.Mutex
		last string
	)
	st := storetest.Open(t, "sqlite", store.WithDriver(func(drv dialect.Driver) dialect.Driver {
		return dialect.DebugWithContext(drv, func(_ context.Context, a ...any) {
			mu.Lock()
			defer mu.Unlock()
			last = fmt.Sprint(a...)
		})
	}))
	seed := func(slug string, n int) (context.Context, []pulid.ID) {
		ws, err := access.CreateWorkspace(context.Background(), st.Client, slug, slug)
		if err != nil {
			t.Fatal(err)
		}
		ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		bs := make([]*ent.ContactCreate, n)
		for i := range bs {
			bs[i] = st.Client.Contact.Create().SetFirstName("C").SetLastName(fmt.Sprint(i))
		}
		cs, err := st.Client.Contact.CreateBulk(bs...).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []pulid.ID
		as := make([]*ent.ActivityCreate, 0, 2*n)
		for _, c := range cs {
			ids = append(ids, c.ID)
			for k := 0; k < 2; k++ {
				as = append(as, st.Client.Activity.Create().SetContactID(c.ID).SetSubject("a").SetKind(activity.KindCall))
			}
		}
		if err := st.Client.Activity.CreateBulk(as...).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		return ctx, ids
	}
	ctx, ids := seed("plans", 1000)
	_, others := seed("others", 10)
	batch := ids[200:300]
	now := time.Now()
	statements := map[string]func(context.Context) error{
		"contacts": func(ctx context.Context) error {
			_, err := st.Client.Contact.Query().Where(contact.IDIn(batch...)).All(ctx)
			return err
		},
		"activities": func(ctx context.Context) error {
			var rows []struct {
				ID    pulid.ID `json:"contact_id"`
				Count int      `json:"count"`
			}
			return st.Client.Activity.Query().Where(activity.ContactIDIn(batch...)).
				GroupBy(activity.FieldContactID).Aggregate(ent.Count()).Scan(ctx, &rows)
		},
		"calls within 30 days": func(ctx context.Context) error {
			var rows []struct {
				ID    pulid.ID `json:"contact_id"`
				Count int      `json:"count"`
			}
			return st.Client.Activity.Query().Where(activity.ContactIDIn(batch...), activity.KindEQ(activity.KindCall),
				activity.OccurredAtGT(now.AddDate(0, 0, -30)), activity.OccurredAtLTE(now)).
				GroupBy(activity.FieldContactID).Aggregate(ent.Count()).Scan(ctx, &rows)
		},
	}
	plan := func(ctx context.Context, run func(context.Context) error) string {
		if err := run(ctx); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		q := last
		mu.Unlock()
		return explain(t, st.DB, q)
	}
	for name, run := range statements {
		t.Logf("%s: %s", name, plan(ctx, run))
		got := plan(store.ByKeys(ctx), run)
		t.Logf("%s under ByKeys: %s", name, got)
		if strings.Contains(got, "workspace_id=?") || !strings.Contains(got, "(id=?)") && !strings.Contains(got, "(contact_id=?") {
			t.Errorf("%s: plan %q does not look the batch's IDs up", name, got)
		}
	}
	n, err := st.Client.Contact.Query().Where(contact.IDIn(others...)).Count(store.ByKeys(ctx))
	if err != nil || n != 0 {
		t.Errorf("another workspace's contacts under ByKeys: %d found, err %v", n, err)
	}
	n, err = st.Client.Contact.Query().Where(contact.IDIn(batch...)).Count(store.ByKeys(ctx))
	if err != nil || n != len(batch) {
		t.Errorf("the batch under ByKeys: %d found, err %v", n, err)
	}
	// Inside a transaction too.
	tx, err := st.Client.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if n, err := tx.Contact.Query().Where(contact.IDIn(others...)).Count(store.ByKeys(ctx)); err != nil || n != 0 {
		t.Errorf("another workspace's contacts under ByKeys in a transaction: %d found, err %v", n, err)
	}
}

// TestOptimizeSQLite gathers statistics for every table that has rows,
// and a second run is a no-op that succeeds.
func TestOptimizeSQLite(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	ctx := context.Background()
	ws, err := access.CreateWorkspace(ctx, st.Client, "plans", "Plans")
	if err != nil {
		t.Fatal(err)
	}
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	bs := make([]*ent.ContactCreate, 300)
	for i := range bs {
		bs[i] = st.Client.Contact.Create().SetFirstName("C").SetLastName(fmt.Sprint(i))
	}
	if err := st.Client.Contact.CreateBulk(bs...).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := st.Optimize(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var stat string
	if err := st.DB.QueryRowContext(ctx, "SELECT stat FROM sqlite_stat1 WHERE tbl = 'contacts' AND idx = 'contact_workspace_id_created_at'").Scan(&stat); err != nil {
		t.Fatal(err)
	}
	// "rows rows-per-workspace rows-per-(workspace, created_at)".
	if !strings.HasPrefix(stat, "300 300 ") {
		t.Errorf("contacts' statistics %q, want 300 rows, 300 per workspace", stat)
	}
}

// explain returns SQLite's query plan for a statement logged by ent's
// debug driver ("driver.Query: query=… args=[…]"), with every argument
// bound to a placeholder value: plans do not depend on the values.
func explain(t *testing.T, db *sql.DB, logged string) string {
	t.Helper()
	i, j := strings.Index(logged, "query="), strings.LastIndex(logged, " args=")
	if i < 0 || j < i {
		t.Fatalf("cannot read statement from %q", logged)
	}
	q := logged[i+len("query=") : j]
	args := make([]any, strings.Count(q, "?"))
	for k := range args {
		args[k] = "x"
	}
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	return strings.Join(steps, "; ")
}

// TestOptimizePostgres runs ANALYZE: afterwards the planner's row
// estimate for contacts is the number stored.
func TestOptimizePostgres(t *testing.T) {
	st := storetest.Open(t, "postgres")
	ctx := context.Background()
	ws, err := access.CreateWorkspace(ctx, st.Client, "plans", "Plans")
	if err != nil {
		t.Fatal(err)
	}
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	bs := make([]*ent.ContactCreate, 300)
	for i := range bs {
		bs[i] = st.Client.Contact.Create().SetFirstName("C").SetLastName(fmt.Sprint(i))
	}
	if err := st.Client.Contact.CreateBulk(bs...).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	var estimate float64
	if err := st.DB.QueryRowContext(ctx, "SELECT reltuples FROM pg_class WHERE relname = 'contacts'").Scan(&estimate); err != nil {
		t.Fatal(err)
	}
	if estimate != 300 {
		t.Errorf("planner's estimate of contacts = %v after Optimize, want 300", estimate)
	}
}
