package metrics_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/core/metrics/internal/synth"
	"github.com/rapportcrm/rapport/core/metrics/rollup"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// benchEnd is the end of the benchmark data's history; the benchmark
// measures the 24 months before it.
var benchEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// benchSlug names the benchmark workspace; a database that already holds
// it is reused as it is.
const benchSlug = "bench"

// benchStore opens the benchmark database of the dialect and fills it
// with synth.Benchmark (1,000,000 orders, 100,000 deals, 200,000
// activities) unless it already holds the workspace.
//
// Generating takes minutes, so the data can be kept between runs:
// RAPPORT_METRICS_BENCH_SQLITE=/path/bench.db keeps the SQLite file, and
// RAPPORT_TEST_POSTGRES_URL=postgres://… names a PostgreSQL database to
// use instead of a throwaway one.
func benchStore(b *testing.B, dialect string) (*store.Store, context.Context) {
	b.Helper()
	ctx := context.Background()
	url := ""
	if dialect == "sqlite" {
		if path := os.Getenv("RAPPORT_METRICS_BENCH_SQLITE"); path != "" {
			url = "sqlite:" + path
		}
	}
	if url == "" {
		url = storetest.URL(b, dialect)
	}
	st, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	ws, err := access.WorkspaceBySlug(ctx, st.Client, benchSlug)
	if err != nil {
		start := time.Now()
		res, err := synth.Generate(ctx, st, benchSlug, synth.Benchmark(benchEnd))
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: generated %v in %s", dialect, res.Counts, time.Since(start).Round(time.Second))
		ws = res.Workspace
	} else {
		// A database kept from an earlier run may predate a rollup (or
		// hold one computed by older code): rebuild them all, as
		// synth.Generate does after generating.
		start := time.Now()
		tx, err := st.DB.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := rollup.Rebuild(ctx, tx, st.Dialect, ws.ID); err != nil {
			_ = tx.Rollback()
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: rebuilt the rollups in %s", dialect, time.Since(start).Round(time.Millisecond))
	}
	return st, tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleViewer})
}

// BenchmarkMetrics measures every metric over 24 months of the benchmark
// data, on SQLite and PostgreSQL. Run it with
//
//	go test ./core/metrics -run '^$' -bench Metrics -benchtime 3x
//
// Each sub-benchmark reports its wall time (ns/op) and the process's CPU
// time (cpu-ms/op; SQLite runs in the process, PostgreSQL does not).
func BenchmarkMetrics(b *testing.B) {
	if testing.Short() {
		b.Skip("the metrics benchmark generates a million orders")
	}
	q := metrics.Query{From: benchEnd.AddDate(0, -24, 0), To: benchEnd}
	for _, dialect := range storetest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			st, ctx := benchStore(b, dialect)
			svc := metrics.New(st)
			for _, m := range []struct {
				name string
				run  func() error
			}{
				{"customers", func() error { _, err := svc.Customers(ctx, q); return err }},
				{"cohorts", func() error { _, err := svc.Cohorts(ctx, q); return err }},
				{"clv", func() error { _, err := svc.CLV(ctx, q); return err }},
				{"deals", func() error { _, err := svc.Deals(ctx, q); return err }},
				{"conversion", func() error { _, err := svc.Conversion(ctx, q); return err }},
				{"forecast", func() error { _, err := svc.Forecast(ctx, q); return err }},
				{"engagement", func() error { _, err := svc.Engagement(ctx, q); return err }},
				{"report", func() error { _, err := svc.Report(ctx, q); return err }},
			} {
				b.Run(m.name, func(b *testing.B) {
					cpu0 := cpuTime()
					n := 0
					for b.Loop() {
						if err := m.run(); err != nil {
							b.Fatal(err)
						}
						n++
					}
					b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(n), "cpu-ms/op")
				})
			}
		})
	}
}
