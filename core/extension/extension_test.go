package extension_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/score"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/examples/leadscore"
	"github.com/rapportcrm/rapport/sdk"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func plugins(t *testing.T) string { return extensiontest.Plugins(t) }

func registry(t *testing.T, dir string) *extension.Registry { return extensiontest.Registry(t, dir) }

func copyPlugin(from, to string) error { return extensiontest.CopyPlugin(from, to) }

// workspace creates a workspace with n leads and returns an admin context.
func workspace(t testing.TB, st *store.Store, slug string, n int) context.Context {
	t.Helper()
	ctx := context.Background()
	ws, err := access.CreateWorkspace(ctx, st.Client, slug, slug)
	if err != nil {
		t.Fatal(err)
	}
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	sources := []string{"web", "referral", "event", ""}
	var bs []*ent.LeadCreate
	for i := 0; i < n; i++ {
		b := st.Client.Lead.Create().SetTitle("Lead").SetSource(sources[i%4]).
			SetEstimatedValue(sdkMoney(i * 1000)).SetEmail("x@y.test")
		if i%3 == 0 {
			b.SetPhone("555")
		}
		bs = append(bs, b)
	}
	if err := st.Client.Lead.CreateBulk(bs...).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func TestBindAndScore(t *testing.T) {
	dir := plugins(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := registry(t, dir)
		a := workspace(t, st, "alpha", 2500)
		b := workspace(t, st, "beta", 10)
		if _, err := r.Bind(a, st.Client, extension.BindInput{Point: sdk.PointScore, SubjectType: "lead", Plugin: "leadscore", Version: "1.0.0"}); err != nil {
			t.Fatal(err)
		}
		// B has no binding: scoring there is refused, and writes nothing.
		if _, err := r.ScoreSubjects(b, st.Client, extension.ScoreOptions{SubjectType: "lead"}); errcode.Of(err) != errcode.NotFound {
			t.Fatalf("unbound workspace: %v", err)
		}
		// The scorer's declared inputs: alpha defines the custom field
		// budget and sets it on every other one of its first 100 leads
		// (the rest arrive missing); the first 20 get a call 5 days ago
		// and one 40 days ago (outside "calls … within 30d").
		now := time.Now()
		must[*ent.CustomField](t)(st.Client.CustomField.Create().SetEntity("lead").SetKey("budget").SetLabel("Budget").SetType("number").Save(a))
		firstLeads := st.Client.Lead.Query().Order(ent.Asc(lead.FieldID)).Limit(100).IDsX(a)
		budgets, calls := map[pulid.ID]float64{}, map[pulid.ID]float64{}
		for j, id := range firstLeads {
			if j%2 == 0 {
				budgets[id] = float64(j * 1000)
				st.Client.Lead.UpdateOneID(id).SetCustomFields(map[string]any{"budget": budgets[id]}).ExecX(a)
			}
			if j < 20 {
				calls[id] = 1
				for _, days := range []int{5, 40} {
					st.Client.Activity.Create().SetSubject("call").SetKind(activity.KindCall).SetLeadID(id).SetOccurredAt(now.AddDate(0, 0, -days)).ExecX(a)
				}
			}
		}
		var progress []int
		run, err := r.ScoreSubjects(a, st.Client, extension.ScoreOptions{SubjectType: "lead", Now: now, Progress: func(done, total int) { progress = append(progress, done) }})
		if err != nil {
			t.Fatal(err)
		}
		if run.Scored != 2500 || run.Batches != 3 || run.FailedBatches != 0 || len(progress) != 3 || progress[2] != 2500 {
			t.Fatalf("run %+v, progress %v", run, progress)
		}
		// Every stored score equals the native scorer on the same lead.
		leads, err := st.Client.Lead.Query().All(a)
		if err != nil {
			t.Fatal(err)
		}
		scores, err := st.Client.Score.Query().Where(score.SubjectTypeEQ(score.SubjectTypeLead)).All(a)
		if err != nil || len(scores) != 2500 {
			t.Fatalf("%d scores, %v", len(scores), err)
		}
		bySubject := map[string]*ent.Score{}
		for _, s := range scores {
			bySubject[string(s.SubjectID)] = s
		}
		for _, l := range leads {
			in := leadscore.Lead{EstimatedValue: l.EstimatedValue.Float(), Source: l.Source, Status: string(l.Status),
				HasEmail: 1, HasCompany: 0, ActivityCount: 2 * calls[l.ID], AgeDays: now.Sub(l.CreatedAt).Hours() / 24,
				Budget: math.NaN(), Calls: calls[l.ID]}
			if b, ok := budgets[l.ID]; ok {
				in.Budget = b
			}
			if l.Phone != "" {
				in.HasPhone = 1
			}
			var c [leadscore.NumFactors]float64
			want := leadscore.ScoreLead(&in, &c)
			s := bySubject[string(l.ID)]
			if s == nil || math.Abs(s.Value-want) > 1e-9 || s.Plugin != "leadscore" || s.PluginVersion != "1.0.0" || len(s.Explanation) != leadscore.NumFactors {
				t.Fatalf("lead %s: score %+v, want %v", l.ID, s, want)
			}
			if s.Label != (leadscore.Thresholds{Hot: 70, Warm: 40}).Label(want) {
				t.Fatalf("label %q for %v", s.Label, want)
			}
		}
		if n, _ := st.Client.Score.Query().Count(b); n != 0 {
			t.Errorf("beta has %d scores", n)
		}
		// Rebinding with another config changes what is written.
		if _, err := r.Bind(a, st.Client, extension.BindInput{Point: sdk.PointScore, SubjectType: "lead", Plugin: "leadscore", Version: "1.0.0",
			Config: map[string]any{"hot": 0, "warm": 0}}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ScoreSubjects(a, st.Client, extension.ScoreOptions{SubjectType: "lead", Now: now.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		hot, _ := st.Client.Score.Query().Where(score.ComputedAtGT(now), score.LabelEQ("hot")).Count(a)
		if hot != 2500 {
			t.Errorf("after rebinding with hot=0, %d hot scores, want 2500", hot)
		}
		// Bad bindings are refused.
		for _, in := range []extension.BindInput{
			{Point: sdk.PointScore, SubjectType: "lead", Plugin: "leadscore", Version: "9.9.9"},
			{Point: sdk.PointReport, SubjectType: "lead", Plugin: "leadscore", Version: "1.0.0"},
			{Point: sdk.PointScore, SubjectType: "deal", Plugin: "leadscore", Version: "1.0.0"},
			{Point: sdk.PointScore, SubjectType: "lead", Plugin: "leadscore", Version: "1.0.0", Config: map[string]any{"colour": 1}},
		} {
			if _, err := r.Bind(a, st.Client, in); err == nil {
				t.Errorf("bound %+v", in)
			}
		}
	})
}

// TestFailingPluginLeavesNothing binds a plugin that traps, loops or
// answers garbage: every batch fails with PLUGIN_FAILED, nothing is
// written, and the registry serves the good plugin right after.
func TestFailingPluginLeavesNothing(t *testing.T) {
	dir := plugins(t)
	st := storetest.Open(t, "sqlite")
	r := registry(t, dir)
	a := workspace(t, st, "alpha", 1500)
	for _, mode := range []string{"loop", "crash", "bomb", "wrongcount", "error"} {
		if _, err := r.Bind(a, st.Client, extension.BindInput{Point: sdk.PointScore, SubjectType: "lead", Plugin: "faulty", Version: "0.1.0",
			Config: map[string]any{"Mode": mode}}); err != nil {
			t.Fatal(err)
		}
		run, err := r.ScoreSubjects(a, st.Client, extension.ScoreOptions{SubjectType: "lead"})
		if errcode.Of(err) != errcode.PluginFailed || run == nil || run.FailedBatches != 2 || run.Scored != 0 {
			t.Fatalf("%s: run %+v, err %v", mode, run, err)
		}
		if n, _ := st.Client.Score.Query().Count(a); n != 0 {
			t.Fatalf("%s: %d scores written", mode, n)
		}
	}
	if _, err := r.Bind(a, st.Client, extension.BindInput{Point: sdk.PointScore, SubjectType: "lead", Plugin: "leadscore", Version: "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	if run, err := r.ScoreSubjects(a, st.Client, extension.ScoreOptions{SubjectType: "lead"}); err != nil || run.Scored != 1500 {
		t.Fatalf("good plugin after faults: %+v %v", run, err)
	}
}

func TestReloadOnChange(t *testing.T) {
	src := plugins(t)
	dir := t.TempDir()
	if err := copyPlugin(filepath.Join(src, "leadscore"), filepath.Join(dir, "p")); err != nil {
		t.Fatal(err)
	}
	r := registry(t, dir)
	p, err := r.Get("leadscore", "1.0.0")
	if err != nil || p.Status != "ready" {
		t.Fatalf("%v %v", p, err)
	}
	// Replace the module with the faulty guest under the same manifest:
	// after a scan, calls go to the new module.
	faulty, _ := os.ReadFile(filepath.Join(src, "faulty", "plugin.wasm"))
	later := time.Now().Add(time.Minute)
	os.WriteFile(filepath.Join(dir, "p", "plugin.wasm"), faulty, 0o644)
	os.Chtimes(filepath.Join(dir, "p", "plugin.wasm"), later, later)
	if err := r.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	q, _ := r.Get("leadscore", "1.0.0")
	if q == p {
		t.Fatal("not reloaded")
	}
	resp, err := r.Score(context.Background(), q, &sdk.ScoreRequest{Batch: sdk.Batch{SubjectType: "lead", Count: 1,
		Columns: []sdk.Column{{Name: "amount", Numbers: []float64{math.E - 1}}}}})
	// The test guest scores log1p(amount) = 1 and explains it by "amount".
	if err != nil || resp.Values[0] != 1 || resp.FactorNames[0] != "amount" {
		t.Fatalf("reloaded module answered %+v, %v", resp, err)
	}
}

func sdkMoney(cents int) crmMoney { return crmMoney(cents) }

type crmMoney = crm.Money

// TestReloadOnManifestChange edits a loaded plugin's plugin.json alone:
// a change within its version reloads it with the new manifest; a new
// version over the same module is refused, with a status that says a new
// version must ship a new module, while the old version serves on; and
// once a new module ships, the new version loads.
func TestReloadOnManifestChange(t *testing.T) {
	dir := t.TempDir()
	if err := copyPlugin(filepath.Join(plugins(t), "leadscore"), filepath.Join(dir, "p")); err != nil {
		t.Fatal(err)
	}
	manifestPath := filepath.Join(dir, "p", "plugin.json")
	r := registry(t, dir)
	p, err := r.Get("leadscore", "1.0.0")
	if err != nil || p.Status != "ready" {
		t.Fatalf("%v %v", p, err)
	}
	edit := func(from, to string) {
		t.Helper()
		b, err := os.ReadFile(manifestPath)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(from)) {
			t.Fatalf("plugin.json lacks %s", from)
		}
		if err := os.WriteFile(manifestPath, bytes.Replace(b, []byte(from), []byte(to), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := r.Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	edit(`"Scores leads`, `"Rates leads`)
	q, err := r.Get("leadscore", "1.0.0")
	if err != nil || q.Status != "ready" || !strings.HasPrefix(q.Manifest.Description, "Rates leads") {
		t.Fatalf("after editing the description: %+v %v", q, err)
	}

	edit(`"version": "1.0.0"`, `"version": "1.1.0"`)
	n, err := r.Get("leadscore", "1.1.0")
	if err != nil || !strings.HasPrefix(n.Status, "failed:") || !strings.Contains(n.Status, "new version must ship a new module") {
		t.Fatalf("1.1.0 over 1.0.0's module: %+v %v", n, err)
	}
	if _, err := r.Score(context.Background(), n, &sdk.ScoreRequest{Batch: sdk.Batch{SubjectType: "lead"}}); errcode.Of(err) != errcode.PluginFailed {
		t.Errorf("scoring with the refused version: %v", err)
	}
	if old, err := r.Get("leadscore", "1.0.0"); err != nil || old.Status != "ready" {
		t.Errorf("1.0.0 after the refusal: %+v %v", old, err)
	}

	// A new module ships: 1.1.0 loads.
	later := time.Now().Add(time.Minute)
	code, _ := os.ReadFile(filepath.Join(dir, "p", "plugin.wasm"))
	os.WriteFile(filepath.Join(dir, "p", "plugin.wasm"), code, 0o644)
	os.Chtimes(filepath.Join(dir, "p", "plugin.wasm"), later, later)
	if err := r.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Get("leadscore", "1.1.0"); err != nil || n.Status != "ready" {
		t.Fatalf("1.1.0 with a new module: %+v %v", n, err)
	}
}
