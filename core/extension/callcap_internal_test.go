package extension

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
)

// heldRunner is a plugin whose calls run until the test lets them go,
// counting the calls running at once per workspace.
type heldRunner struct {
	mu      sync.Mutex
	running map[pulid.ID]int
	most    map[pulid.ID]int
	let     chan struct{}
	started chan pulid.ID
}

func (h *heldRunner) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	ws := tenancy.FromContext(ctx).WorkspaceID
	h.mu.Lock()
	h.running[ws]++
	h.most[ws] = max(h.most[ws], h.running[ws])
	h.mu.Unlock()
	h.started <- ws
	<-h.let
	h.mu.Lock()
	h.running[ws]--
	h.mu.Unlock()
	return sdk.NewScoreResponse(req.Batch.Count), nil
}
func (h *heldRunner) Segment(context.Context, *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
	return nil, errors.New("no segments")
}
func (h *heldRunner) Report(context.Context, *sdk.ReportRequest) (*sdk.Report, error) {
	return nil, errors.New("no reports")
}
func (h *heldRunner) Close(context.Context) error { return nil }

func heldPlugin(t *testing.T) (*Registry, *Plugin, *heldRunner) {
	h := &heldRunner{running: map[pulid.ID]int{}, most: map[pulid.ID]int{}, let: make(chan struct{}), started: make(chan pulid.ID, 64)}
	r := &Registry{plugins: map[string]*Plugin{}, now: time.Now}
	r.metrics = newMetrics(nil, r)
	p := &Plugin{Manifest: &manifest.Manifest{Name: "held", Version: "1.0.0", Runtime: "wasm", Points: []sdk.Point{sdk.PointScore}},
		Status: "ready", run: h, inflight: &sync.WaitGroup{}}
	return r, p, h
}

func as(ws pulid.ID) context.Context {
	return tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws, Role: tenancy.RoleMember})
}

// With two slots a workspace, six calls of workspace A and two of B: two
// of A run and four wait while both of B run; once let go, every call
// ends, never more than two of a workspace at once, and no workspace is
// left in the map.
func TestWorkspaceCallLimit(t *testing.T) {
	r, p, h := heldPlugin(t)
	r.LimitWorkspaceCalls(2, time.Minute)
	req := &sdk.ScoreRequest{Batch: sdk.Batch{SubjectType: "lead", Count: 1}}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	call := func(ws pulid.ID) {
		defer wg.Done()
		_, err := r.Score(as(ws), p, req)
		errs <- err
	}
	for range 6 {
		wg.Add(1)
		go call("A")
	}
	for range 2 {
		wg.Add(1)
		go call("B")
	}
	started := map[pulid.ID]int{}
	for range 4 {
		started[<-h.started]++
	}
	// The other four calls of A wait: none starts while the first hold.
	select {
	case ws := <-h.started:
		t.Fatalf("a call of %s started beyond the limit (started so far: %v)", ws, started)
	case <-time.After(100 * time.Millisecond):
	}
	if started["A"] != 2 || started["B"] != 2 {
		t.Fatalf("started %v, want 2 of A and 2 of B", started)
	}
	close(h.let)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if h.most["A"] != 2 || h.most["B"] != 2 {
		t.Errorf("most at once: %v, want 2 each", h.most)
	}
	if n := len(r.callSlots.Load().busy); n != 0 {
		t.Errorf("%d workspaces left in the slots map", n)
	}
}

// A call that waits longer than allowed fails UNAVAILABLE, while another
// workspace's call runs; a call whose context ends while waiting fails too.
func TestWorkspaceCallLimitWait(t *testing.T) {
	r, p, h := heldPlugin(t)
	r.LimitWorkspaceCalls(1, 50*time.Millisecond)
	req := &sdk.ScoreRequest{Batch: sdk.Batch{SubjectType: "lead", Count: 1}}
	done := make(chan error, 1)
	go func() { _, err := r.Score(as("A"), p, req); done <- err }()
	<-h.started
	_, err := r.Score(as("A"), p, req)
	if !errors.Is(err, ErrCallsBusy) || errcode.Of(err) != errcode.Unavailable {
		t.Errorf("second call of A: %v, want ErrCallsBusy (UNAVAILABLE)", err)
	}
	ctx, cancel := context.WithCancel(as("A"))
	cancel()
	if _, err := r.Score(ctx, p, req); errcode.Of(err) != errcode.Unavailable {
		t.Errorf("cancelled call of A: %v, want UNAVAILABLE", err)
	}
	other := make(chan error, 1)
	go func() { _, err := r.Score(as("B"), p, req); other <- err }()
	if ws := <-h.started; ws != "B" {
		t.Fatalf("started %s, want B", ws)
	}
	close(h.let)
	if err := <-done; err != nil {
		t.Error(err)
	}
	if err := <-other; err != nil {
		t.Error(err)
	}
	// Without a limit nothing waits.
	r.LimitWorkspaceCalls(0, 0)
	if r.callSlots.Load() != nil {
		t.Error("limit still set")
	}
}
