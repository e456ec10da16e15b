package metrics_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// Churn and retention of a workspace with one customer who buys in
// January and February and not in March.
func ExampleService_Customers() {
	dir, _ := os.MkdirTemp("", "metrics-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "example.db"))
	if err != nil {
		panic(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		panic(err)
	}
	ws, _ := access.CreateWorkspace(ctx, st.Client, "example", "Example")
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	acme := st.Client.Organization.Create().SetName("Acme").SaveX(ctx)
	for _, m := range []time.Month{time.January, time.February} {
		st.Client.Order.Create().SetOrganizationID(acme.ID).SetAmount(10000).
			SetOrderedAt(time.Date(2025, m, 10, 0, 0, 0, 0, time.UTC)).SaveX(ctx)
	}

	series, err := metrics.New(st).Customers(ctx, metrics.Query{
		From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		To:   time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		panic(err)
	}
	rate := func(r *float64) string {
		if r == nil {
			return "null"
		}
		return fmt.Sprintf("%.2f", *r)
	}
	for _, p := range series {
		fmt.Printf("%s start %d end %d new %d churned %d churn %s retention %s revenue %s\n",
			p.Label, p.CustomersAtStart, p.CustomersAtEnd, p.NewCustomers, p.Churned, rate(p.ChurnRate), rate(p.RetentionRate), p.Revenue)
	}
	// Output:
	// 2025-01 start 0 end 1 new 1 churned 0 churn null retention null revenue 100.00
	// 2025-02 start 1 end 1 new 0 churned 0 churn 0.00 retention 1.00 revenue 100.00
	// 2025-03 start 1 end 0 new 0 churned 1 churn 1.00 retention 0.00 revenue 0.00
}
