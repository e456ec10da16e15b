package graph_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/automation"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/extension/runjob"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/graph"
)

// TestStartScoring starts a background scoring run through the API on a
// server whose engine works the ranges: a viewer is refused before the
// subject type is looked at, the run is polled through node to
// succeeded, its counts and ranges read back, every matching lead scored
// once; workspace B neither finds nor lists nor cancels A's run.
func TestStartScoring(t *testing.T) {
	dir := extensiontest.Plugins(t)
	for _, dia := range storetest.Dialects {
		t.Run(dia, func(t *testing.T) {
			reg := extensiontest.Registry(t, dir)
			e := newEnvWith(t, dia, reg)
			e.srv.Close()
			ctx := context.Background()
			if err := automation.Migrate(ctx, e.st); err != nil {
				t.Fatal(err)
			}
			eng, err := automation.New(ctx, automation.Config{Store: e.st, PollInterval: 50 * time.Millisecond, ScanInterval: time.Hour,
				Jobs: runjob.Register(e.st.Client, reg)})
			if err != nil {
				t.Fatal(err)
			}
			if err := eng.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = eng.Stop(context.Background()) })
			e.srv = httptest.NewServer(graph.NewHandler(graph.Config{Client: e.st.Client, Ping: e.st.Ping, Extensions: reg, Runs: eng}))
			t.Cleanup(e.srv.Close)

			for i := 0; i < 12; i++ {
				e.ok("a", `mutation($in: CreateLeadInput!) { createLead(input: $in) { id } }`,
					map[string]any{"in": map[string]any{"title": fmt.Sprintf("L%d", i), "source": "web", "email": "x@y.test"}})
			}
			e.fail("aViewer", `mutation { startScoring(subjectType: lead, leadWhere: {titleHasPrefix: "L1"}) { id } }`, nil, "FORBIDDEN")
			e.fail("a", `mutation { startScoring(subjectType: lead) { id } }`, nil, "NOT_FOUND") // nothing bound yet
			e.ok("a", bindLeads, map[string]any{"p": "leadscore", "v": "1.0.0"})
			d := e.ok("a", `mutation { startScoring(subjectType: lead, leadWhere: {titleHasPrefix: "L1"}) { id status total kind plugin } }`, nil)
			id := str(d, "startScoring", "id")
			if num(d, "startScoring", "total") != 3 || str(d, "startScoring", "plugin") != "leadscore@1.0.0" || str(d, "startScoring", "kind") != "score" {
				t.Fatalf("started %v", d) // L1, L10, L11
			}
			const q = `query($id: ID!) { node(id: $id) { ... on WorkRun { status total done failedBatches errors ranges { total pending done failed } } } }`
			run := waitRun(t, e, q, id)
			if str(run, "status") != "succeeded" || num(run, "done") != 3 || num(run, "failedBatches") != 0 ||
				num(run, "ranges", "total") != 1 || num(run, "ranges", "done") != 1 || len(get(run, "errors").([]any)) != 0 {
				t.Fatalf("run %v", run)
			}
			if n := num(e.ok("a", `{ scores { totalCount } }`, nil), "scores", "totalCount"); n != 3 {
				t.Errorf("%v scores", n)
			}
			if d := e.ok("a", `{ workRuns(where: {status: succeeded}) { totalCount edges { node { id } } } }`, nil); num(d, "workRuns", "totalCount") != 1 {
				t.Errorf("A's runs %v", d)
			}
			// B sees nothing of A's run.
			e.fail("b", q, map[string]any{"id": id}, "NOT_FOUND")
			if d := e.ok("b", `{ workRuns { totalCount } }`, nil); num(d, "workRuns", "totalCount") != 0 {
				t.Errorf("B's runs %v", d)
			}
			e.fail("b", `mutation($id: ID!) { cancelRun(id: $id) { id } }`, map[string]any{"id": id}, "NOT_FOUND")
			// Canceling a run that ended changes nothing.
			if d := e.ok("a", `mutation($id: ID!) { cancelRun(id: $id) { status } }`, map[string]any{"id": id}); str(d, "cancelRun", "status") != "succeeded" {
				t.Errorf("canceling an ended run: %v", d)
			}

			// Background segmentation, with the lead segmenter bound.
			e.fail("aViewer", `mutation { startSegmentation(subjectType: widget) { id } }`, nil, "FORBIDDEN")
			e.ok("a", `mutation { bindExtension(input: {point: segment, subjectType: lead, plugin: "faulty", version: "0.1.0"}) { id } }`, nil)
			d = e.ok("a", `mutation { startSegmentation(subjectType: lead) { id kind total segmentRunID } }`, nil)
			if str(d, "startSegmentation", "kind") != "segment" || num(d, "startSegmentation", "total") != 12 || str(d, "startSegmentation", "segmentRunID") == "" {
				t.Fatalf("started %v", d)
			}
			run = waitRun(t, e, q, str(d, "startSegmentation", "id"))
			if str(run, "status") != "succeeded" || num(run, "done") != 12 {
				t.Fatalf("segmentation run %v", run)
			}
			// The SegmentRun (the binding's lock) is ended by the worker
			// that finished the last range, right after the run itself.
			var sr map[string]any
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				sr = e.ok("a", `query($id: ID!) { node(id: $id) { ... on SegmentRun { status segmented entered } } }`,
					map[string]any{"id": str(d, "startSegmentation", "segmentRunID")})
				if str(sr, "node", "status") != "running" || time.Now().After(deadline) {
					break
				}
			}
			if str(sr, "node", "status") != "succeeded" || num(sr, "node", "segmented") != 12 || num(sr, "node", "entered") == 0 {
				t.Fatalf("segment run %v", sr)
			}
		})
	}
}

// waitRun polls the run with q until it has ended, and returns it.
func waitRun(t *testing.T, e *env, q, id string) any {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		run := get(e.ok("a", q, map[string]any{"id": id}), "node")
		if s := str(run, "status"); s != "queued" && s != "running" {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run not ended: %v", run)
		}
	}
}
