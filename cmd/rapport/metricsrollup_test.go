package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/store"
)

// rollupDump is every row of the rollup tables, in key order.
func rollupDump(t *testing.T, db string) string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var b strings.Builder
	for _, q := range []string{
		"SELECT workspace_id, customer_id, month, pipeline_id, revenue, margin, orders FROM rollup_customer_months ORDER BY 1, 2, 3, 4",
		"SELECT workspace_id, customer_id, revenue, margin, orders, first_month, last_month FROM rollup_customers ORDER BY 1, 2",
		"SELECT workspace_id, months, cohort, period, buyers, acquired, lapsing, revenue, margin, orders, kept, lost FROM rollup_cohort_cells WHERE buyers <> 0 OR orders <> 0 ORDER BY 1, 2, 3, 4",
	} {
		rows, err := st.DB.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
			n++
		}
		rows.Close()
		if n == 0 {
			t.Fatalf("no rollup rows: %s", q)
		}
	}
	return b.String()
}

// checkRollupCommands runs rapport metrics check and rebuild on a
// database with the demo workspace seeded: the rollups the demo's writes
// kept incrementally equal a recomputation, a rebuild leaves every row
// as it was, a damaged row is found by check (which fails) and mended by
// rebuild.
func checkRollupCommands(t *testing.T, db string) {
	t.Helper()
	if out, err := run(t, "metrics", "check", "--db", db, "-o", "json"); err != nil || !strings.Contains(out, `"differences": 0`) {
		t.Fatalf("check after seeding: %v\n%s", err, out)
	}
	before := rollupDump(t, db)
	if out, err := run(t, "metrics", "rebuild", "--db", db, "--workspace", "demo"); err != nil || !strings.Contains(out, "demo") {
		t.Fatalf("rebuild: %v\n%s", err, out)
	}
	if after := rollupDump(t, db); after != before {
		t.Fatalf("rebuild changed the rollups kept by the writes")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB.ExecContext(ctx, "UPDATE rollup_customers SET revenue = revenue + 1 WHERE customer_id = (SELECT MIN(customer_id) FROM rollup_customers)"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if out, err := run(t, "metrics", "check", "--db", db, "-w", "demo"); err == nil || !strings.Contains(out, "rollup_customers") {
		t.Fatalf("check missed a damaged row: %v\n%s", err, out)
	}
	if _, err := run(t, "metrics", "rebuild", "--db", db); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "metrics", "check", "--db", db); err != nil {
		t.Fatalf("check after rebuild: %v\n%s", err, out)
	}
	if after := rollupDump(t, db); after != before {
		t.Fatalf("rebuild did not restore the rollups")
	}
}
