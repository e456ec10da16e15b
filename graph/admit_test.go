package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// TestAdmission: at most n requests run at once and at most perWS of one
// workspace; a workspace at its bound waits while another gets in; a
// request that waits too long gets 503 UNAVAILABLE with Retry-After; a
// request whose client left gives its place up; and every slot is back
// once the requests are done.
func TestAdmission(t *testing.T) {
	a := newAdmission(3, 2, 5*time.Second)
	// A full server with a short wait, for the refusals.
	full := newAdmission(1, 1, 200*time.Millisecond)
	release := make(chan struct{})
	var mu sync.Mutex
	running := map[pulid.ID]int{}
	most := map[pulid.ID]int{}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws := tenancy.FromContext(r.Context()).WorkspaceID
		mu.Lock()
		running[ws]++
		most[ws] = max(most[ws], running[ws])
		mu.Unlock()
		<-release
		mu.Lock()
		running[ws]--
		mu.Unlock()
	})
	h, hFull := a.handler(app), full.handler(app)
	serveOn := func(h http.Handler, ws pulid.ID, ctx context.Context) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/graphql", nil).WithContext(
			tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws, Role: tenancy.RoleViewer}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	serve := func(ws pulid.ID, ctx context.Context) *httptest.ResponseRecorder { return serveOn(h, ws, ctx) }
	inside := func(ws pulid.ID) int {
		mu.Lock()
		defer mu.Unlock()
		return running[ws]
	}
	waitUntil := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	// Workspace A sends three: two run, the third waits for one of them.
	var wg sync.WaitGroup
	codes := make(chan int, 10)
	for range 3 {
		wg.Go(func() { codes <- serve("A", context.Background()).Code })
	}
	waitUntil("two of A's requests to run", func() bool { return inside("A") == 2 })
	// B gets the server's third slot though A queued first.
	wg.Go(func() { codes <- serve("B", context.Background()).Code })
	waitUntil("B's request to run", func() bool { return inside("B") == 1 })

	// On the full server, X holds the one slot; C gives up after the wait.
	wg.Go(func() { codes <- serveOn(hFull, "X", context.Background()).Code })
	waitUntil("X's request to run", func() bool { return inside("X") == 1 })
	w := serveOn(hFull, "C", context.Background())
	var body struct {
		Errors []struct {
			Extensions map[string]any
		}
	}
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" ||
		json.Unmarshal(w.Body.Bytes(), &body) != nil || len(body.Errors) != 1 || body.Errors[0].Extensions["code"] != "UNAVAILABLE" {
		t.Errorf("over the wait: %d %q %s", w.Code, w.Header().Get("Retry-After"), w.Body.Bytes())
	}
	// D's client leaves while it waits: nothing is written, no slot kept.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if w := serveOn(hFull, "D", ctx); w.Body.Len() != 0 {
		t.Errorf("a request whose client left got %d %s", w.Code, w.Body.Bytes())
	}

	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a request that got its turn answered %d", c)
		}
	}
	if most["A"] != 2 || most["B"] != 1 {
		t.Errorf("most at once: A %d (bound 2), B %d", most["A"], most["B"])
	}
	for _, a := range []*admission{a, full} {
		a.mu.Lock()
		left := len(a.wss)
		a.mu.Unlock()
		if len(a.slots) != 0 || left != 0 {
			t.Errorf("after the requests: %d server slots held, %d workspaces tracked", len(a.slots), left)
		}
	}
}

// TestAdmissionDefaults: 4 requests per CPU, half of them per workspace.
func TestAdmissionDefaults(t *testing.T) {
	a := newAdmission(0, 0, 0)
	if n := cap(a.slots); n < 4 || n%DefaultInFlightPerCPU != 0 || a.perWS != n/2 || a.wait != DefaultInFlightWait {
		t.Errorf("defaults: %d slots, %d per workspace, wait %v", n, a.perWS, a.wait)
	}
	if a := newAdmission(1, 0, 0); a.perWS != 1 {
		t.Errorf("one slot: %d per workspace, want 1", a.perWS)
	}
}
