package graph

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// gate bounds how much heavy work runs at once: at most total slots on the
// server and perWorkspace for one workspace. A caller waits for a slot up
// to wait, then is refused with UNAVAILABLE.
type gate struct {
	slots        chan struct{}
	perWorkspace int
	wait         time.Duration

	mu   sync.Mutex
	busy map[pulid.ID]int
	// freed is closed and replaced whenever a workspace slot frees up.
	freed chan struct{}
}

func newGate(total, perWorkspace int, wait time.Duration) *gate {
	return &gate{slots: make(chan struct{}, total), perWorkspace: perWorkspace, wait: wait,
		busy: map[pulid.ID]int{}, freed: make(chan struct{})}
}

var errBusy = errcode.New(errcode.Unavailable, "the server is running as many reports, metrics and plugin runs as it allows; retry later")

// acquire takes a slot for the workspace of ctx; release gives it back.
func (g *gate) acquire(ctx context.Context) (release func(), err error) {
	var ws pulid.ID
	if v := tenancy.FromContext(ctx); v != nil {
		ws = v.WorkspaceID
	}
	timer := time.NewTimer(g.wait)
	defer timer.Stop()
	for {
		g.mu.Lock()
		if g.busy[ws] < g.perWorkspace {
			g.busy[ws]++
			g.mu.Unlock()
			break
		}
		freed := g.freed
		g.mu.Unlock()
		select {
		case <-freed:
		case <-timer.C:
			return nil, errBusy
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	leave := func() {
		g.mu.Lock()
		if g.busy[ws]--; g.busy[ws] == 0 {
			delete(g.busy, ws)
		}
		close(g.freed)
		g.freed = make(chan struct{})
		g.mu.Unlock()
	}
	select {
	case g.slots <- struct{}{}:
	case <-timer.C:
		leave()
		return nil, errBusy
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
	return func() { <-g.slots; leave() }, nil
}

// rootFields holds each HeavyFields root field until it has a slot.
func (g *gate) rootFields(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	fc := graphql.GetRootFieldContext(ctx)
	if fc == nil || !HeavyFields[fc.Object+"."+fc.Field.Name] {
		return next(ctx)
	}
	release, err := g.acquire(ctx)
	if err != nil {
		graphql.AddError(ctx, err)
		return graphql.Null
	}
	defer release()
	return next(ctx)
}

// handler holds each request of next until it has a slot.
func (g *gate) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, err := g.acquire(r.Context())
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, errcode.Unavailable, "", err.Error())
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}
