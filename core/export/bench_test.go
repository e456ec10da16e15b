package export_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/export"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

var benchOrders = flag.Int("export.orders", 1_000_000, "orders BenchmarkExportOrders exports")

// BenchmarkExportOrders exports -export.orders orders (a million by
// default) in each format from SQLite, and reports rows per second and
// the peak heap (sampled as TestMemoryStaysConstant does), which stays
// flat however many orders there are:
//
//	go test ./core/export -run '^$' -bench ExportOrders -benchtime 1x
//	go test ./core/export -run '^$' -bench ExportOrders -benchtime 1x -export.orders 100000
func BenchmarkExportOrders(b *testing.B) {
	n := *benchOrders
	st := storetest.Open(b, "sqlite")
	bg := context.Background()
	ws := must[*ent.Workspace](b)(access.CreateWorkspace(bg, st.Client, "big", "Big"))
	admin := tenancy.NewContext(bg, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	// Seeded without a trail: the export reads orders, not their
	// timeline, and a million timeline entries would only slow seeding.
	seed := tenancy.Untrailed(admin)
	start := time.Now()
	at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 1000
	for i := 0; i < n; i += batch {
		tx := must[*ent.Tx](b)(st.Client.Tx(seed))
		bs := make([]*ent.OrderCreate, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			bs = append(bs, tx.Order.Create().SetNumber(fmt.Sprintf("SO-%07d", j)).
				SetAmount(crm.Money(1000+j%50_000)).SetCost(crm.Money(400+j%20_000)).
				SetOrderedAt(at.Add(time.Duration(j)*time.Minute)))
		}
		if err := tx.Order.CreateBulk(bs...).Exec(seed); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d orders in %v", n, time.Since(start).Round(time.Millisecond))
	viewer := tenancy.NewContext(bg, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleViewer})
	for _, f := range []export.Format{export.CSV, export.JSONL, export.XLSX} {
		b.Run(string(f), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var res export.Result
				var err error
				t0 := time.Now()
				peak := peakHeap(func() {
					res, err = export.Run(viewer, st.Client, io.Discard, export.Options{Type: "orders", Format: f})
				})
				took := time.Since(t0)
				if err != nil {
					b.Fatal(err)
				}
				if res.Rows != n {
					b.Fatalf("exported %d orders, want %d", res.Rows, n)
				}
				b.ReportMetric(float64(n)/took.Seconds(), "rows/s")
				b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
			}
		})
	}
}
