package extension_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk"
)

// BenchmarkScoreStoredContacts scores 100,000 contacts stored in SQLite
// end to end, as `rapport score` does — page the IDs, build each batch of
// 1,000 from the database (the inputs IDIC declares for contacts: fields,
// built-ins over open deals, and nine aggregates over orders and
// activities), call the bundled IDIC plugin (WASM), and
// store a Score per contact, one transaction per batch — and reports
// contacts/s and the share of the wall time spent inside plugin calls
// (the plugins' latency histogram over the run's duration):
//
//	go test ./core/extension -run '^$' -bench ScoreStoredContacts -benchtime 1x
func BenchmarkScoreStoredContacts(b *testing.B) {
	if testing.Short() {
		b.Skip("stores 100,000 contacts")
	}
	const n = 100_000
	ctx, st, reg, prom := storedContacts(b, n)
	if _, err := reg.Bind(ctx, st.Client, extension.BindInput{Point: sdk.PointScore, SubjectType: "contact", Plugin: "idic", Version: "1.1.0"}); err != nil {
		b.Fatal(err)
	}
	var wall, inPlugin time.Duration
	for b.Loop() {
		before := pluginSeconds(b, prom)
		t0 := time.Now()
		run, err := reg.ScoreSubjects(ctx, st.Client, extension.ScoreOptions{SubjectType: "contact"})
		if err != nil || run.Scored != n {
			b.Fatalf("scored %+v: %v", run, err)
		}
		wall += time.Since(t0)
		inPlugin += time.Duration((pluginSeconds(b, prom) - before) * float64(time.Second))
	}
	b.ReportMetric(float64(n)*float64(b.N)/wall.Seconds(), "contacts/s")
	b.ReportMetric(100*inPlugin.Seconds()/wall.Seconds(), "plugin-%")
}

// storedContacts opens a SQLite store in a temporary directory with n
// contacts in one workspace, and a registry of the bundled plugins
// reporting to prom; ctx acts in the workspace as its admin.
func storedContacts(b *testing.B, n int) (context.Context, *store.Store, *extension.Registry, *prometheus.Registry) {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	ws, err := access.CreateWorkspace(ctx, st.Client, "bench", "Bench")
	if err != nil {
		b.Fatal(err)
	}
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	start := time.Now()
	for lo := 0; lo < n; lo += 1000 {
		tx, err := st.Client.Tx(ctx)
		if err != nil {
			b.Fatal(err)
		}
		bs := make([]*ent.ContactCreate, 0, 1000)
		for i := lo; i < lo+1000; i++ {
			bs = append(bs, tx.Contact.Create().SetFirstName("C").SetLastName(fmt.Sprint(i)).SetEmail(fmt.Sprintf("c%d@bench.test", i)))
		}
		if err := tx.Contact.CreateBulk(bs...).Exec(ctx); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("stored %d contacts in %s", n, time.Since(start).Round(time.Millisecond))
	prom := prometheus.NewRegistry()
	e, err := wasm.NewEngine(wasm.Config{})
	if err != nil {
		b.Fatal(err)
	}
	reg, err := extension.NewRegistry(ctx, extension.Config{Dirs: []string{filepath.Join(extensiontest.Root(), "plugins")}, Engine: e, Registerer: prom})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { reg.Close(context.Background()) })
	return ctx, st, reg, prom
}

// pluginSeconds is the sum of the plugin call latency histogram.
func pluginSeconds(b *testing.B, g prometheus.Gatherer) float64 {
	mfs, err := g.Gather()
	if err != nil {
		b.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "rapport_plugin_call_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetHistogram().GetSampleSum()
		}
	}
	return sum
}
