package metrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// TestCustomerBaseUsesCustomerMonthIndex checks that the customer base
// statement reads orders through the order_customer_month index of the
// migrations, for every period and filter: the index's expressions are
// written out by hand in the migrations, and a statement whose
// expressions differ from them would silently fall back to sorting every
// order (several times slower on a million orders; see BenchmarkMetrics).
//
// SQLite must read the index alone (a covering index: no table rows).
// PostgreSQL is asked to plan without sequential scans, sorts or hash
// aggregation, so that only an index giving the orders in (customer,
// month) order can satisfy the GROUP BY; the plan must name ours.
func TestCustomerBaseUsesCustomerMonthIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, err := access.CreateWorkspace(tenancy.System(ctx), st.Client, "plan", "Plan")
		if err != nil {
			t.Fatal(err)
		}
		ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleViewer})
		s := New(st)
		to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, c := range []struct {
			name string
			q    Query
		}{
			{"month", Query{From: to.AddDate(-2, 0, 0), To: to, Period: Month}},
			{"quarter", Query{From: to.AddDate(-2, 0, 0), To: to, Period: Quarter}},
			{"year", Query{From: to.AddDate(-3, 0, 0), To: to, Period: Year}},
			{"owner", Query{From: to.AddDate(-1, 0, 0), To: to, Filter: Filter{OwnerID: "mbr_x"}}},
		} {
			t.Run(c.name, func(t *testing.T) {
				p, err := s.prepare(ctx, c.q)
				if err != nil {
					t.Fatal(err)
				}
				query, a := customerBaseQuery(p, 10, false)
				plan := explain(t, st, p.d, query, a)
				if !strings.Contains(plan, "order_customer_month") {
					t.Fatalf("plan does not use order_customer_month:\n%s", plan)
				}
				if p.d.sqlite() && !strings.Contains(plan, "COVERING INDEX order_customer_month") {
					t.Fatalf("SQLite reads table rows beside the index:\n%s", plan)
				}
			})
		}
	})
}

// explain returns the plan of a query as text.
func explain(t *testing.T, st *store.Store, d sqlDialect, query string, a args) string {
	t.Helper()
	ctx := context.Background()
	tx, err := st.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	prefix := "EXPLAIN QUERY PLAN "
	if !d.sqlite() {
		prefix = "EXPLAIN "
		for _, set := range []string{"SET LOCAL enable_seqscan = off", "SET LOCAL enable_sort = off", "SET LOCAL enable_hashagg = off", "SET LOCAL enable_bitmapscan = off"} {
			if _, err := tx.ExecContext(ctx, set); err != nil {
				t.Fatal(err)
			}
		}
	}
	rows, err := tx.QueryContext(ctx, prefix+query, a...)
	if err != nil {
		t.Fatalf("%v\n%s", err, query)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			switch v := v.(type) {
			case []byte:
				b.Write(v)
			case string:
				b.WriteString(v)
			}
			b.WriteByte(' ')
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
