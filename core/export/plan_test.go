package export_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/rapportcrm/rapport/core/export"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
)

// TestPagesWalkThePrimaryKey checks SQLite's plan of every page: each
// continues along the primary key from the last ID, rather than reading
// and sorting the rest of the workspace through an index that begins with
// workspace_id (which makes an export quadratic in its rows).
func TestPagesWalkThePrimaryKey(t *testing.T) {
	var (
		mu      sync.Mutex
		queries []string
	)
	st := storetest.Open(t, "sqlite", store.WithDriver(func(drv dialect.Driver) dialect.Driver {
		return dialect.DebugWithContext(drv, func(_ context.Context, a ...any) {
			mu.Lock()
			defer mu.Unlock()
			queries = append(queries, fmt.Sprint(a...))
		})
	}))
	seedContacts(t, st.Client, "first", 1500)
	ctx := seedContacts(t, st.Client, "second", 1500)
	if err := st.Optimize(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	queries = nil
	mu.Unlock()
	res, err := export.Run(ctx, st.Client, &bytes.Buffer{}, export.Options{Type: "contacts", PageSize: 400})
	if err != nil || res.Rows != 1500 {
		t.Fatalf("exported %d rows, err %v", res.Rows, err)
	}
	pages := 0
	for _, logged := range queries {
		i, j := strings.Index(logged, "query="), strings.LastIndex(logged, " args=")
		if i < 0 || j < i || !strings.Contains(logged, "FROM `contacts`") {
			continue
		}
		q := logged[i+len("query=") : j]
		args := make([]any, strings.Count(q, "?"))
		for k := range args {
			args[k] = "x"
		}
		rows, err := st.DB.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var steps []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			steps = append(steps, detail)
		}
		rows.Close()
		plan := strings.Join(steps, "; ")
		pages++
		if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "sqlite_autoindex_contacts_1") ||
			(strings.Contains(q, "`id` > ?") && !strings.Contains(plan, "(id>?)")) {
			t.Errorf("page %d is planned as %q", pages, plan)
		}
	}
	if pages != 4 {
		t.Errorf("%d pages read, want 4", pages)
	}
}
