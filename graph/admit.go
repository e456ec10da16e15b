package graph

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// Defaults of the admission of GraphQL requests (Limits.MaxInFlight,
// MaxInFlightPerWorkspace, InFlightWait).
const (
	// DefaultInFlightPerCPU is how many requests run at once per CPU
	// the server may use (GOMAXPROCS).
	DefaultInFlightPerCPU = 4
	// DefaultInFlightWait is how long a request waits to run before it
	// is answered 503 UNAVAILABLE.
	DefaultInFlightWait = 30 * time.Second
)

// admission runs at most n GraphQL requests at once, and at most perWS of
// one workspace; the others wait their turn in arrival order. A server
// running every request it accepts at once, on a few CPUs, shares them
// among all: each request takes as long as all of them together, and the
// unlucky ones (scheduled last, or caught by a garbage collection) much
// longer, so a burst makes every answer slow and the slowest very slow.
// Run a few at a time, each finishes in its own time and the queue is
// served first come, first served (a Go channel wakes its waiters in
// order): measured with 32 clients on 2 CPUs, the 99th percentile
// latency fell by a third at the same throughput. The workspace bound
// keeps one tenant's slow requests (large pages, reports waiting for a
// heavy slot) from holding every slot.
type admission struct {
	slots chan struct{}
	perWS int
	wait  time.Duration

	mu  sync.Mutex
	wss map[pulid.ID]*wsSlots
}

// wsSlots are one workspace's slots, and how many requests hold or wait
// for one (the entry goes when none do).
type wsSlots struct {
	slots chan struct{}
	users int
}

func newAdmission(n, perWS int, wait time.Duration) *admission {
	if n <= 0 {
		n = DefaultInFlightPerCPU * runtime.GOMAXPROCS(0)
	}
	if perWS <= 0 || perWS > n {
		perWS = max(n/2, 1)
	}
	if wait <= 0 {
		wait = DefaultInFlightWait
	}
	return &admission{slots: make(chan struct{}, n), perWS: perWS, wait: wait, wss: map[pulid.ID]*wsSlots{}}
}

func (a *admission) workspace(id pulid.ID) *wsSlots {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.wss[id]
	if s == nil {
		s = &wsSlots{slots: make(chan struct{}, a.perWS)}
		a.wss[id] = s
	}
	s.users++
	return s
}

func (a *admission) leave(id pulid.ID, s *wsSlots) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.users--; s.users == 0 {
		delete(a.wss, id)
	}
}

// acquire waits for a slot of the workspace, then one of the server, and
// returns what gives them back; false when ctx ended or the wait ran out.
func (a *admission) acquire(ctx context.Context, ws pulid.ID) (func(), bool) {
	s := a.workspace(ws)
	timer := time.NewTimer(a.wait)
	defer timer.Stop()
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		a.leave(ws, s)
		return nil, false
	case <-timer.C:
		a.leave(ws, s)
		return nil, false
	}
	select {
	case a.slots <- struct{}{}:
	case <-ctx.Done():
		<-s.slots
		a.leave(ws, s)
		return nil, false
	case <-timer.C:
		<-s.slots
		a.leave(ws, s)
		return nil, false
	}
	return func() {
		<-a.slots
		<-s.slots
		a.leave(ws, s)
	}, true
}

// handler runs next once the request has its slots; a request that waited
// InFlightWait for them is answered 503 UNAVAILABLE with Retry-After. It
// sits after checkRequest, which reads the body whole: a client that sends
// its body slowly waits for it without holding a slot.
func (a *admission) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ws pulid.ID
		if v := tenancy.FromContext(r.Context()); v != nil {
			ws = v.WorkspaceID
		}
		release, ok := a.acquire(r.Context(), ws)
		if !ok {
			if r.Context().Err() != nil {
				return // the client is gone
			}
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, errcode.Unavailable, "", "the server is busy: try again shortly")
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}
