package transfer_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/core/transfer"
)

var (
	benchContacts = flag.Int("import.contacts", 100_000, "contacts BenchmarkImport imports")
	benchOrgs     = flag.Int("import.orgs", 20_000, "organizations BenchmarkImport imports first")
)

// BenchmarkImport imports -import.orgs organizations and then
// -import.contacts contacts linked to them by name, from CSV, on each
// database, and reports rows per second of each file and the heap the
// process peaked at (runtime.MemStats.HeapSys):
//
//	go test ./core/transfer -run '^$' -bench Import -benchtime 1x
func BenchmarkImport(b *testing.B) {
	var orgs, people bytes.Buffer
	orgs.WriteString("ID,Name,Website,Created\n")
	for i := 0; i < *benchOrgs; i++ {
		fmt.Fprintf(&orgs, "o%d,Company %d,company%d.example.com,2021-01-%02d 10:00\n", i, i, i, 1+i%28)
	}
	people.WriteString("ID,First Name,Last Name,Email,Phone,Company,Created\n")
	for i := 0; i < *benchContacts; i++ {
		fmt.Fprintf(&people, "p%d,First%d,Last%d,p%d@company%d.example.com,+1 555 %07d,Company %d,2022-%02d-%02d\n",
			i, i, i, i, i%*benchOrgs, i, i%*benchOrgs, 1+i%12, 1+i%28)
	}
	for _, d := range storetest.Dialects {
		b.Run(d, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				st := storetest.Open(b, d)
				ws, err := access.CreateWorkspace(context.Background(), st.Client, fmt.Sprintf("w%d", i), "W")
				if err != nil {
					b.Fatal(err)
				}
				ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
				for _, f := range []struct {
					typ  string
					data []byte
					rows int
				}{{"organizations", orgs.Bytes(), *benchOrgs}, {"contacts", people.Bytes(), *benchContacts}} {
					start := time.Now()
					job, err := transfer.Start(ctx, st.Client, f.data, transfer.Options{Type: f.typ, FileName: f.typ + ".csv"})
					if err != nil {
						b.Fatal(err)
					}
					res, err := transfer.Run(ctx, st.Client, job.ID, nil)
					if err != nil {
						b.Fatal(err)
					}
					if res.Created != f.rows || res.Failed != 0 {
						b.Fatalf("%s: created %d, failed %d (%v), want %d", f.typ, res.Created, res.Failed, res.FailedByReason, f.rows)
					}
					b.ReportMetric(float64(f.rows)/time.Since(start).Seconds(), f.typ+"/s")
				}
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-sys-MiB")
			}
		})
	}
}
