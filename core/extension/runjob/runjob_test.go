package runjob_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/automation"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/event"
	"github.com/rapportcrm/rapport/core/ent/score"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/ent/segmentrun"
	"github.com/rapportcrm/rapport/core/ent/workrange"
	"github.com/rapportcrm/rapport/core/ent/workrun"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/extension/runjob"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// workspace makes a workspace with n leads and the lead scorer bound,
// and returns a member's context in it.
func workspace(t *testing.T, st *store.Store, r *extension.Registry, slug string, n int) context.Context {
	t.Helper()
	ws, err := access.CreateWorkspace(context.Background(), st.Client, slug, slug)
	if err != nil {
		t.Fatal(err)
	}
	admin := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	for i := 0; i < n; i += 1000 {
		var bs []*ent.LeadCreate
		for j := i; j < min(n, i+1000); j++ {
			bs = append(bs, st.Client.Lead.Create().SetTitle("Lead").SetSource("web").SetEmail("x@y.test"))
		}
		if err := st.Client.Lead.CreateBulk(bs...).Exec(admin); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Bind(admin, st.Client, extension.BindInput{Point: sdk.PointScore, SubjectType: "lead", Plugin: "leadscore", Version: "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	return tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleMember, TokenID: pulid.New("tok")})
}

// engine starts a worker set (an automation engine working ranges with
// w) on st, stopped when the test ends.
func engine(t *testing.T, st *store.Store, w *runjob.Worker) *automation.Engine {
	t.Helper()
	if err := automation.Migrate(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	e, err := automation.New(context.Background(), automation.Config{
		Store: st, PollInterval: 50 * time.Millisecond, ScanInterval: time.Hour,
		Jobs: func(ws *river.Workers) error { return river.AddWorkerSafely(ws, w) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.Stop(ctx)
	})
	return e
}

// wait polls the run until it has ended.
func wait(t *testing.T, ctx context.Context, client *ent.Client, id pulid.ID) *ent.WorkRun {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		run, err := client.WorkRun.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != workrun.StatusQueued && run.Status != workrun.StatusRunning {
			return run
		}
		if time.Now().After(deadline) {
			p, _ := runjob.ProgressOf(ctx, client, id)
			t.Fatalf("run still %s after 3 minutes: %+v", run.Status, p)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scoredOnce checks that each of the workspace's n leads has exactly one
// score.
func scoredOnce(t *testing.T, ctx context.Context, client *ent.Client, n int) {
	t.Helper()
	var rows []struct {
		SubjectID pulid.ID `json:"subject_id"`
		Count     int      `json:"count"`
	}
	if err := client.Score.Query().Where(score.SubjectTypeEQ(score.SubjectTypeLead)).GroupBy(score.FieldSubjectID).
		Aggregate(ent.Count()).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != n {
		t.Errorf("%d leads scored, want %d", len(rows), n)
	}
	for _, r := range rows {
		if r.Count != 1 {
			t.Errorf("lead %s scored %d times", r.SubjectID, r.Count)
		}
	}
}

// TestTwoWorkerSets runs a run of 5,000 leads in ranges of 250 on two
// worker sets racing on one store, each range also queued a second time:
// every lead is scored exactly once, and the run ends succeeded with its
// counts equal to the leads.
func TestTwoWorkerSets(t *testing.T) {
	r := extensiontest.Registry(t, extensiontest.Plugins(t))
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := workspace(t, st, r, "alpha", 5000)
		var worked [2]atomic.Int64
		var eng [2]*automation.Engine
		for i := range eng {
			eng[i] = engine(t, st, &runjob.Worker{Client: st.Client, Plugins: r, Fault: func(pulid.ID, int) error {
				worked[i].Add(1)
				return nil
			}})
		}
		run, err := runjob.Start(ctx, eng[0], st.Client, r, runjob.StartOptions{SubjectType: "lead", RangeSize: 250})
		if err != nil {
			t.Fatal(err)
		}
		if run.Total != 5000 || run.Plugin != "leadscore@1.0.0" || run.Status != workrun.StatusQueued {
			t.Fatalf("started %+v", run)
		}
		// A second enqueuer queues every range again: the jobs are unique.
		ids := st.Client.WorkRange.Query().Where(workrange.RunID(run.ID)).IDsX(ctx)
		if err := runjob.Enqueue(ctx, eng[1], st.Client, run.ID, ids); err != nil {
			t.Fatal(err)
		}
		run = wait(t, ctx, st.Client, run.ID)
		if run.Status != workrun.StatusSucceeded || run.Done != 5000 || run.FailedBatches != 0 || run.StartedAt == nil || run.FinishedAt == nil {
			t.Fatalf("finished %+v", run)
		}
		scoredOnce(t, ctx, st.Client, 5000)
		p, err := runjob.ProgressOf(ctx, st.Client, run.ID)
		if err != nil || p.Total != 20 || p.Done != 20 || p.Pending != 0 || p.Failed != 0 || len(p.Errors) != 0 {
			t.Fatalf("progress %+v, %v", p, err)
		}
		if n := worked[0].Load() + worked[1].Load(); n != 20 {
			t.Errorf("%d ranges stored, want 20", n)
		}
		t.Logf("worker sets stored %d and %d ranges", worked[0].Load(), worked[1].Load())
	})
}

// TestKilledMidRange makes the worker die (panic) inside three ranges'
// transactions on their first attempt, after their scores are written:
// nothing of those ranges is left, the queue retries them, and in the end
// every lead is scored exactly once.
func TestKilledMidRange(t *testing.T) {
	r := extensiontest.Registry(t, extensiontest.Plugins(t))
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := workspace(t, st, r, "alpha", 1000)
		var (
			mu     sync.Mutex
			killed = map[pulid.ID]bool{}
		)
		w := &runjob.Worker{Client: st.Client, Plugins: r, Fault: func(id pulid.ID, attempt int) error {
			mu.Lock()
			defer mu.Unlock()
			if attempt == 1 && len(killed) < 3 {
				killed[id] = true
				panic("worker killed mid-range")
			}
			return nil
		}}
		e := engine(t, st, w)
		run, err := runjob.Start(ctx, e, st.Client, r, runjob.StartOptions{SubjectType: "lead", RangeSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		run = wait(t, ctx, st.Client, run.ID)
		if run.Status != workrun.StatusSucceeded || run.Done != 1000 || run.FailedBatches != 0 {
			t.Fatalf("finished %+v", run)
		}
		scoredOnce(t, ctx, st.Client, 1000)
		mu.Lock()
		defer mu.Unlock()
		if len(killed) != 3 {
			t.Fatalf("%d ranges killed", len(killed))
		}
		for id := range killed {
			rg := st.Client.WorkRange.GetX(ctx, id)
			if rg.Status != workrange.StatusDone || rg.Attempts != 2 || rg.Done != 100 {
				t.Errorf("killed range %+v", rg)
			}
		}
	})
}

// TestRangeRollsBack works a range by hand: a failure inside its
// transaction leaves no score and the range pending; the next attempt
// stores it all; a third finds it done and stores nothing more.
func TestRangeRollsBack(t *testing.T) {
	r := extensiontest.Registry(t, extensiontest.Plugins(t))
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := workspace(t, st, r, "alpha", 30)
		run, err := runjob.Start(ctx, nopQueue{}, st.Client, r, runjob.StartOptions{SubjectType: "lead", RangeSize: 10})
		if err != nil {
			t.Fatal(err)
		}
		ids := st.Client.WorkRange.Query().Where(workrange.RunID(run.ID)).Order(ent.Asc(workrange.FieldFirstID)).IDsX(ctx)
		if len(ids) != 3 {
			t.Fatalf("%d ranges", len(ids))
		}
		boom := errors.New("worker died")
		err = runjob.RunRange(context.Background(), st.Client, r, ids[0], runjob.RangeOptions{Attempt: 1, Fault: func(pulid.ID, int) error { return boom }})
		if !errors.Is(err, boom) {
			t.Fatalf("first attempt: %v", err)
		}
		if n := st.Client.Score.Query().CountX(ctx); n != 0 {
			t.Fatalf("%d scores left by a failed attempt", n)
		}
		if rg := st.Client.WorkRange.GetX(ctx, ids[0]); rg.Status != workrange.StatusPending || rg.Attempts != 1 {
			t.Fatalf("range after a failed attempt: %+v", rg)
		}
		if run := st.Client.WorkRun.GetX(ctx, run.ID); run.Status != workrun.StatusRunning || run.Done != 0 {
			t.Fatalf("run after a failed attempt: %+v", run)
		}
		for _, id := range ids {
			if err := runjob.RunRange(context.Background(), st.Client, r, id, runjob.RangeOptions{Attempt: 2}); err != nil {
				t.Fatal(err)
			}
		}
		if err := runjob.RunRange(context.Background(), st.Client, r, ids[0], runjob.RangeOptions{Attempt: 3}); err != nil {
			t.Fatal(err)
		}
		scoredOnce(t, ctx, st.Client, 30)
		if run := st.Client.WorkRun.GetX(ctx, run.ID); run.Status != workrun.StatusSucceeded || run.Done != 30 {
			t.Fatalf("run %+v", run)
		}
	})
}

// TestPluginFails binds a scorer that always fails: each range is failed
// with the plugin's error, at once, and so is the run.
func TestPluginFails(t *testing.T) {
	r := extensiontest.Registry(t, extensiontest.Plugins(t))
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := workspace(t, st, r, "alpha", 20)
		admin := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: tenancy.FromContext(ctx).WorkspaceID, Role: tenancy.RoleAdmin})
		if _, err := r.Bind(admin, st.Client, extension.BindInput{Point: sdk.PointScore, SubjectType: "lead", Plugin: "faulty", Version: "0.1.0",
			Config: map[string]any{"Mode": "error"}}); err != nil {
			t.Fatal(err)
		}
		run, err := runjob.Start(ctx, nopQueue{}, st.Client, r, runjob.StartOptions{SubjectType: "lead", RangeSize: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range st.Client.WorkRange.Query().Where(workrange.RunID(run.ID)).IDsX(ctx) {
			if err := runjob.RunRange(context.Background(), st.Client, r, id, runjob.RangeOptions{Attempt: 1}); err != nil {
				t.Fatal(err)
			}
		}
		run = st.Client.WorkRun.GetX(ctx, run.ID)
		p, err := runjob.ProgressOf(ctx, st.Client, run.ID)
		if err != nil || run.Status != workrun.StatusFailed || run.FailedBatches != 2 || run.Done != 0 || p.Failed != 2 || len(p.Errors) != 2 || p.Errors[0] == "" {
			t.Fatalf("run %+v, progress %+v, %v", run, p, err)
		}
		if n := st.Client.Score.Query().CountX(ctx); n != 0 {
			t.Errorf("%d scores", n)
		}
	})
}

// TestIsolationAndPermission: another workspace's member does not find
// the run, nor can cancel it; a viewer may not start one, refused before
// its subject type is looked at; a run over nothing is succeeded at once.
func TestIsolationAndPermission(t *testing.T) {
	r := extensiontest.Registry(t, extensiontest.Plugins(t))
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := workspace(t, st, r, "alpha", 5)
		b := workspace(t, st, r, "beta", 5)
		run, err := runjob.Start(a, nopQueue{}, st.Client, r, runjob.StartOptions{SubjectType: "lead"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Client.WorkRun.Get(b, run.ID); !ent.IsNotFound(err) {
			t.Errorf("workspace B reading A's run: %v", err)
		}
		if n := st.Client.WorkRun.Query().CountX(b); n != 0 {
			t.Errorf("workspace B lists %d runs", n)
		}
		if p, err := runjob.ProgressOf(b, st.Client, run.ID); err != nil || p.Total != 0 {
			t.Errorf("workspace B's progress of A's run: %+v, %v", p, err)
		}
		if _, err := runjob.Cancel(b, st.Client, run.ID); errcode.Of(err) != errcode.NotFound {
			t.Errorf("workspace B canceling A's run: %v", err)
		}
		if got, err := runjob.Cancel(a, st.Client, run.ID); err != nil || got.Status != workrun.StatusCanceled {
			t.Errorf("canceling: %+v, %v", got, err)
		}
		viewer := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: tenancy.FromContext(a).WorkspaceID, Role: tenancy.RoleViewer})
		if _, err := runjob.Start(viewer, nopQueue{}, st.Client, r, runjob.StartOptions{SubjectType: "widget"}); errcode.Of(err) != errcode.Forbidden {
			t.Errorf("a viewer starting a run: %v", err)
		}
		if _, err := runjob.Start(a, nopQueue{}, st.Client, r, runjob.StartOptions{SubjectType: "widget"}); errcode.Of(err) != errcode.BadUserInput {
			t.Errorf("an unknown subject type: %v", err)
		}
		empty, err := runjob.Start(a, nopQueue{}, st.Client, r, runjob.StartOptions{SubjectType: "lead", Where: &ent.LeadWhereInput{Title: ptr("none")}})
		if err != nil || empty.Status != workrun.StatusSucceeded || empty.Total != 0 {
			t.Errorf("a run over nothing: %+v, %v", empty, err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// nopQueue queues nothing: tests work the ranges by hand.
type nopQueue struct{}

func (nopQueue) Insert(context.Context, river.JobArgs, *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return &rivertype.JobInsertResult{}, nil
}

// TestFilterKeptInRanges starts a run over the leads from one source: the
// filter is stored with the run and applied again when a range is worked,
// so a lead that no longer matches by then is not scored, and one of
// another source never is.
func TestFilterKeptInRanges(t *testing.T) {
	r := extensiontest.Registry(t, extensiontest.Plugins(t))
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := workspace(t, st, r, "alpha", 10)
		other := st.Client.Lead.Create().SetTitle("Other").SetSource("event").SaveX(ctx)
		run, err := runjob.Start(ctx, nopQueue{}, st.Client, r, runjob.StartOptions{SubjectType: "lead", Where: &ent.LeadWhereInput{Source: ptr("web")}, RangeSize: 4})
		if err != nil {
			t.Fatal(err)
		}
		if run.Total != 10 {
			t.Fatalf("total %d", run.Total)
		}
		leads := st.Client.Lead.Query().Order(ent.Asc("id")).AllX(ctx)
		moved := leads[0]
		st.Client.Lead.UpdateOne(moved).SetSource("referral").ExecX(ctx)
		for _, id := range st.Client.WorkRange.Query().Where(workrange.RunID(run.ID)).IDsX(ctx) {
			if err := runjob.RunRange(context.Background(), st.Client, r, id, runjob.RangeOptions{Attempt: 1}); err != nil {
				t.Fatal(err)
			}
		}
		run = st.Client.WorkRun.GetX(ctx, run.ID)
		if run.Status != workrun.StatusSucceeded || run.Done != 9 {
			t.Fatalf("run %+v", run)
		}
		for _, id := range []pulid.ID{moved.ID, other.ID} {
			if n := st.Client.Score.Query().Where(score.SubjectID(id)).CountX(ctx); n != 0 {
				t.Errorf("lead %s scored %d times", id, n)
			}
		}
		if n := st.Client.Score.Query().CountX(ctx); n != 9 {
			t.Errorf("%d scores", n)
		}
	})
}

// TestSegmentation runs a background segmentation of 60 leads in ranges
// of 10, worked by two racing workers: while it goes on, no other run of
// the binding may start (CONFLICT); each lead ends in its two segments
// with a segment.entered event per membership, and the SegmentRun ends
// succeeded with its lock released. A second run moves one lead from
// small to big: one left and one entered event more.
func TestSegmentation(t *testing.T) {
	r := extensiontest.Registry(t, extensiontest.Plugins(t))
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := workspace(t, st, r, "alpha", 60)
		admin := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: tenancy.FromContext(ctx).WorkspaceID, Role: tenancy.RoleAdmin})
		for i, id := range st.Client.Lead.Query().Order(ent.Asc("id")).IDsX(ctx) {
			st.Client.Lead.UpdateOneID(id).SetEstimatedValue(crm.Money(i * 1000 * 100)).ExecX(ctx)
		}
		if _, err := r.Bind(admin, st.Client, extension.BindInput{Point: sdk.PointSegment, SubjectType: "lead", Plugin: "faulty", Version: "0.1.0"}); err != nil {
			t.Fatal(err)
		}
		segment := func() *ent.WorkRun {
			t.Helper()
			run, err := runjob.Start(ctx, nopQueue{}, st.Client, r, runjob.StartOptions{Kind: workrun.KindSegment, SubjectType: "lead", RangeSize: 10})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := runjob.Start(ctx, nopQueue{}, st.Client, r, runjob.StartOptions{Kind: workrun.KindSegment, SubjectType: "lead"}); errcode.Of(err) != errcode.Conflict {
				t.Fatalf("a second background run: %v", err)
			}
			if _, err := r.SegmentSubjects(ctx, st.Client, extension.SegmentOptions{SubjectType: "lead"}); errcode.Of(err) != errcode.Conflict {
				t.Fatalf("a run within a request: %v", err)
			}
			ids := st.Client.WorkRange.Query().Where(workrange.RunID(run.ID)).Order(ent.Asc(workrange.FieldFirstID)).IDsX(ctx)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for w := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range ids {
						id := ids[i]
						if w == 1 {
							id = ids[len(ids)-1-i]
						}
						if err := runjob.RunRange(context.Background(), st.Client, r, id, runjob.RangeOptions{Attempt: 1}); err != nil {
							// A range the other worker is storing may
							// fail here: the queue would retry it.
							if err := runjob.RunRange(context.Background(), st.Client, r, id, runjob.RangeOptions{Attempt: 2}); err != nil {
								errs[w] = err
							}
						}
					}
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			return st.Client.WorkRun.GetX(ctx, run.ID)
		}
		run := segment()
		if run.Status != workrun.StatusSucceeded || run.Done != 60 || run.Plugin != "faulty@0.1.0" || run.SegmentRunID == nil {
			t.Fatalf("run %+v", run)
		}
		sr := st.Client.SegmentRun.GetX(ctx, *run.SegmentRunID)
		if sr.Status != segmentrun.StatusSucceeded || sr.Lock != nil || sr.Segmented != 60 || sr.Entered != 120 || sr.Left != 0 {
			t.Fatalf("segment run %+v", sr)
		}
		count := func(typ string) int {
			return st.Client.Event.Query().Where(event.Type(typ)).CountX(ctx)
		}
		open := func() int {
			return st.Client.SegmentMembership.Query().Where(segmentmembership.EndedAtIsNil()).CountX(ctx)
		}
		if n, e := open(), count(extension.EventSegmentEntered); n != 120 || e != 120 {
			t.Fatalf("%d open memberships, %d entered events", n, e)
		}
		first := st.Client.Lead.Query().Order(ent.Asc("id")).FirstX(ctx)
		st.Client.Lead.UpdateOne(first).SetEstimatedValue(crm.Money(50_000 * 100)).ExecX(ctx)
		run = segment()
		sr = st.Client.SegmentRun.GetX(ctx, *run.SegmentRunID)
		if run.Status != workrun.StatusSucceeded || sr.Status != segmentrun.StatusSucceeded || sr.Entered != 1 || sr.Left != 1 || sr.Stayed != 119 {
			t.Fatalf("second run %+v, segment run %+v", run, sr)
		}
		if n, e, l := open(), count(extension.EventSegmentEntered), count(extension.EventSegmentLeft); n != 120 || e != 121 || l != 1 {
			t.Fatalf("%d open memberships, %d entered and %d left events", n, e, l)
		}
	})
}

// TestStaleLockReleased: a process that ends a background segmentation
// run (the last range's Finish, or Cancel) and dies before it releases
// the binding's lock leaves the lock held. The next Finish of one of the
// run's jobs (the queue hands the dead worker's job on) releases it once
// the run ended more than StaleAfter ago, and not before (its ender may
// still be at work); so does the next start of a segmentation run.
func TestStaleLockReleased(t *testing.T) {
	r := extensiontest.Registry(t, extensiontest.Plugins(t))
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := workspace(t, st, r, "alpha", 30)
		admin := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: tenancy.FromContext(ctx).WorkspaceID, Role: tenancy.RoleAdmin})
		if _, err := r.Bind(admin, st.Client, extension.BindInput{Point: sdk.PointSegment, SubjectType: "lead", Plugin: "faulty", Version: "0.1.0"}); err != nil {
			t.Fatal(err)
		}
		start := func() *ent.WorkRun {
			t.Helper()
			run, err := runjob.Start(ctx, nopQueue{}, st.Client, r, runjob.StartOptions{Kind: workrun.KindSegment, SubjectType: "lead", RangeSize: 10})
			if err != nil {
				t.Fatal(err)
			}
			return run
		}
		// died ends run as its ender did, ended ago, and stops there.
		died := func(run *ent.WorkRun, status workrun.Status, ago time.Duration) {
			st.Client.WorkRun.UpdateOneID(run.ID).SetStatus(status).SetFinishedAt(time.Now().Add(-ago)).ExecX(ctx)
		}
		held := func(run *ent.WorkRun) bool {
			return st.Client.SegmentRun.GetX(ctx, *run.SegmentRunID).Lock != nil
		}
		ranges := func(run *ent.WorkRun) []pulid.ID {
			return st.Client.WorkRange.Query().Where(workrange.RunID(run.ID)).IDsX(ctx)
		}

		// Canceled with ranges left: a job of one of them finds the lock.
		run := start()
		died(run, workrun.StatusCanceled, time.Second)
		if err := runjob.RunRange(context.Background(), st.Client, r, ranges(run)[0], runjob.RangeOptions{Attempt: 1}); err != nil {
			t.Fatal(err)
		}
		if !held(run) {
			t.Fatal("a lock released a second after its run ended: its ender may still be at work")
		}
		died(run, workrun.StatusCanceled, 2*runjob.StaleAfter)
		if err := runjob.RunRange(context.Background(), st.Client, r, ranges(run)[1], runjob.RangeOptions{Attempt: 1}); err != nil {
			t.Fatal(err)
		}
		if held(run) {
			t.Fatal("the canceled run's lock is still held")
		}
		if sr := st.Client.SegmentRun.GetX(ctx, *run.SegmentRunID); sr.Status != segmentrun.StatusInterrupted {
			t.Errorf("the canceled run's SegmentRun is %s, want interrupted", sr.Status)
		}

		// Succeeded, every range stored, and the ender died before the
		// lock: the rescued job of the last range.
		run = start()
		st.Client.WorkRange.Update().Where(workrange.RunID(run.ID)).SetStatus(workrange.StatusDone).ExecX(ctx)
		died(run, workrun.StatusSucceeded, 2*runjob.StaleAfter)
		if err := runjob.RunRange(context.Background(), st.Client, r, ranges(run)[2], runjob.RangeOptions{Attempt: 2}); err != nil {
			t.Fatal(err)
		}
		if held(run) {
			t.Fatal("the succeeded run's lock is still held")
		}
		if sr := st.Client.SegmentRun.GetX(ctx, *run.SegmentRunID); sr.Status != segmentrun.StatusSucceeded {
			t.Errorf("the succeeded run's SegmentRun is %s", sr.Status)
		}

		// Canceled and no job left: the next start releases the lock.
		run = start()
		died(run, workrun.StatusCanceled, 2*runjob.StaleAfter)
		if !held(run) {
			t.Fatal("the lock went before the next start")
		}
		next := start()
		if held(run) || !held(next) {
			t.Fatalf("old run's lock held: %v, new run's: %v", held(run), held(next))
		}
	})
}

// A segmentation run whose work run has ended holds its binding's lock a
// moment longer (its ender sweeps the memberships of deleted subjects,
// then releases it): a start in that moment waits for the release rather
// than answering CONFLICT, while a start beside a run still going is
// refused at once.
func TestEndingLockWaitedFor(t *testing.T) {
	r := extensiontest.Registry(t, extensiontest.Plugins(t))
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := workspace(t, st, r, "alpha", 30)
		admin := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: tenancy.FromContext(ctx).WorkspaceID, Role: tenancy.RoleAdmin})
		if _, err := r.Bind(admin, st.Client, extension.BindInput{Point: sdk.PointSegment, SubjectType: "lead", Plugin: "faulty", Version: "0.1.0"}); err != nil {
			t.Fatal(err)
		}
		start := func() (*ent.WorkRun, error) {
			return runjob.Start(ctx, nopQueue{}, st.Client, r, runjob.StartOptions{Kind: workrun.KindSegment, SubjectType: "lead", RangeSize: 10})
		}
		first, err := start()
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		if _, err := start(); errcode.Of(err) != errcode.Conflict {
			t.Fatalf("a start beside a run still going: %v, want CONFLICT", err)
		}
		if waited := time.Since(t0); waited > 5*time.Second {
			t.Errorf("a start beside a run still going waited %v before CONFLICT", waited)
		}

		st.Client.WorkRun.UpdateOneID(first.ID).SetStatus(workrun.StatusSucceeded).SetFinishedAt(time.Now()).ExecX(ctx)
		released := make(chan error, 1)
		go func() {
			time.Sleep(300 * time.Millisecond)
			released <- extension.EndSegmentation(ctx, st.Client, *first.SegmentRunID, false, false)
		}()
		next, err := start()
		if err != nil {
			t.Fatalf("a start as the ended run released its lock: %v", err)
		}
		if err := <-released; err != nil {
			t.Fatal(err)
		}
		if st.Client.SegmentRun.GetX(ctx, *first.SegmentRunID).Lock != nil || st.Client.SegmentRun.GetX(ctx, *next.SegmentRunID).Lock == nil {
			t.Error("the lock did not pass from the ended run to the new one")
		}
	})
}
