package extension_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk"
)

// builtinInputs and declaredInputs are ten contact inputs each, three of
// them aggregates over activities and orders: the first in the built-in
// names, the second declared (custom field, relations, tag, windows).
var (
	builtinInputs = []string{"id", "has_email", "email_domain", "title", "has_organization", "age_days",
		"activity_count", "order_count", "order_total", "days_since_last_activity"}
	declaredInputs = []string{"id", "email", "title", "organization.industry", "organization.employees",
		"custom.region:category", "tag:vip",
		"calls = count(activities where kind = call within 30d)",
		"spend = sum(orders.amount within 365d)",
		"days_since_last(activities where direction = inbound)"}
)

// declaredContacts sizes BenchmarkDeclaredInputs; smaller sizes are for
// profiling (storing 100,000 contacts takes minutes).
var declaredContacts = flag.Int("declared.contacts", 100_000, "contacts BenchmarkDeclaredInputs stores (a multiple of 1,000)")

// BenchmarkDeclaredInputs scores 100,000 contacts stored in SQLite (with
// 1,000 organizations, 300,000 activities and 200,000 orders) end to end
// with the same WASM module under two manifests, one asking for ten
// built-in inputs and one declaring ten inputs, three of each aggregates;
// and times building one batch of 1,000 contacts from each. It reports
// contacts/s of each run, and the declared run's throughput as a share of
// the built-in one's:
//
//	go test ./core/extension -run '^$' -bench DeclaredInputs -benchtime 1x
func BenchmarkDeclaredInputs(b *testing.B) {
	if testing.Short() {
		b.Skip("stores 100,000 contacts")
	}
	n := *declaredContacts
	ctx, st, ids := declaredBenchData(b, n)
	dir := b.TempDir()
	module := filepath.Join(extensiontest.Root(), "plugins", "idic", "plugin.wasm")
	for name, in := range map[string][]string{"bench-builtin": builtinInputs, "bench-declared": declaredInputs} {
		m := map[string]any{"name": name, "version": "1.0.0", "abi": sdk.ABIVersion, "runtime": "wasm", "module": "plugin.wasm",
			"points": []string{"score"}, "subjects": []string{"contact"}, "inputs": map[string][]string{"contact": in}}
		raw, _ := json.Marshal(m)
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "plugin.json"), raw, 0o644); err != nil {
			b.Fatal(err)
		}
		mod, err := os.ReadFile(module)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "plugin.wasm"), mod, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	e, err := wasm.NewEngine(wasm.Config{})
	if err != nil {
		b.Fatal(err)
	}
	reg, err := extension.NewRegistry(ctx, extension.Config{Dirs: []string{dir}, Engine: e})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { reg.Close(context.Background()) })
	var wall [2]time.Duration
	var build [2]time.Duration
	names := [2]string{"bench-builtin", "bench-declared"}
	for b.Loop() {
		for i, name := range names {
			if _, err := reg.Bind(ctx, st.Client, extension.BindInput{Point: sdk.PointScore, SubjectType: "contact", Plugin: name, Version: "1.0.0"}); err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			run, err := reg.ScoreSubjects(ctx, st.Client, extension.ScoreOptions{SubjectType: "contact"})
			if err != nil || run.Scored != n {
				b.Fatalf("%s: scored %+v: %v", name, run, err)
			}
			wall[i] += time.Since(t0)
			plan, err := extension.CompileInputs(ctx, st.Client, "contact", [][]string{builtinInputs, declaredInputs}[i])
			if err != nil {
				b.Fatal(err)
			}
			t0 = time.Now()
			if _, err := plan.Build(ctx, st.Client, ids[n/2:n/2+1000], time.Now()); err != nil {
				b.Fatal(err)
			}
			build[i] += time.Since(t0)
		}
	}
	rate := func(i int) float64 { return float64(n) * float64(b.N) / wall[i].Seconds() }
	b.ReportMetric(rate(0), "builtin-contacts/s")
	b.ReportMetric(rate(1), "declared-contacts/s")
	b.ReportMetric(100*rate(1)/rate(0), "declared-%")
	b.ReportMetric(build[0].Seconds()*1000/float64(b.N), "builtin-batch-ms")
	b.ReportMetric(build[1].Seconds()*1000/float64(b.N), "declared-batch-ms")
}

// declaredBenchData stores n contacts, a tenth of them tagged vip, with
// organizations, activities and orders, in a SQLite file.
func declaredBenchData(b *testing.B, n int) (context.Context, *store.Store, []pulid.ID) {
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
	c := st.Client
	if _, err := c.CustomField.Create().SetEntity("contact").SetKey("region").SetLabel("Region").SetType("text").Save(ctx); err != nil {
		b.Fatal(err)
	}
	vip, err := c.Tag.Create().SetName("vip").Save(ctx)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	now := time.Now()
	orgs := make([]pulid.ID, 0, n/100)
	var ids []pulid.ID
	for lo := 0; lo < n; lo += 1000 {
		tx, err := c.Tx(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var os []*ent.OrganizationCreate
		for i := 0; i < 10; i++ {
			os = append(os, tx.Organization.Create().SetName(fmt.Sprint(lo+i)).SetIndustry([]string{"retail", "energy", "software"}[i%3]).SetEmployees(10*i+1))
		}
		created, err := tx.Organization.CreateBulk(os...).Save(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range created {
			orgs = append(orgs, o.ID)
		}
		bs := make([]*ent.ContactCreate, 0, 1000)
		for i := lo; i < lo+1000; i++ {
			cc := tx.Contact.Create().SetFirstName("C").SetLastName(fmt.Sprint(i)).SetEmail(fmt.Sprintf("c%d@bench.test", i)).
				SetOrganizationID(orgs[i%len(orgs)]).SetCustomFields(map[string]any{"region": []string{"north", "south"}[i%2]})
			if i%10 == 0 {
				cc.AddTagIDs(vip.ID)
			}
			bs = append(bs, cc)
		}
		contacts, err := tx.Contact.CreateBulk(bs...).Save(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var as []*ent.ActivityCreate
		var ords []*ent.OrderCreate
		for i, ct := range contacts {
			ids = append(ids, ct.ID)
			for k := 0; k < 3; k++ {
				as = append(as, tx.Activity.Create().SetContactID(ct.ID).SetSubject("a").
					SetKind([]activity.Kind{activity.KindCall, activity.KindEmail, activity.KindMeeting}[(i+k)%3]).
					SetDirection([]activity.Direction{activity.DirectionInbound, activity.DirectionOutbound}[(i+k)%2]).
					SetOccurredAt(now.Add(-time.Duration((i*7+k*13)%90*24)*time.Hour)))
			}
			for k := 0; k < 2; k++ {
				ords = append(ords, tx.Order.Create().SetContactID(ct.ID).SetAmount(crm.Money(1000*(i%50+k))).
					SetOrderedAt(now.AddDate(0, 0, -((i*11+k*200)%600))))
			}
		}
		if err := tx.Activity.CreateBulk(as...).Exec(ctx); err != nil {
			b.Fatal(err)
		}
		if err := tx.Order.CreateBulk(ords...).Exec(ctx); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("stored %d contacts with activities and orders in %s", n, time.Since(start).Round(time.Millisecond))
	return ctx, st, ids
}
