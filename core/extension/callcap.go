package extension

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/internal/telemetry"
	"github.com/rapportcrm/rapport/sdk"
)

// ErrCallsBusy is the error of a plugin call that waited for one of its
// workspace's call slots longer than allowed (see
// Registry.LimitWorkspaceCalls). Its code is UNAVAILABLE.
var ErrCallsBusy = errcode.New(errcode.Unavailable, "the workspace runs as many plugin calls at once as the server allows; retry later")

// LimitWorkspaceCalls bounds the plugin calls one workspace runs at once
// to n (none when n is 0 or less): a call over the bound waits for a slot,
// up to wait (30 s when 0), then fails with ErrCallsBusy. Calls without a
// workspace in their context (the operator's CLI) are not bounded. It
// applies to calls that start after it returns.
func (r *Registry) LimitWorkspaceCalls(n int, wait time.Duration) {
	if n <= 0 {
		r.callSlots.Store(nil)
		return
	}
	if wait <= 0 {
		wait = 30 * time.Second
	}
	r.callSlots.Store(&workspaceSlots{per: n, wait: wait, busy: map[pulid.ID]*slots{}})
}

// workspaceSlots holds, for every workspace with calls running or
// waiting, a semaphore of per slots; a workspace's entry goes when its
// last call leaves, so the map holds only workspaces at work.
type workspaceSlots struct {
	per  int
	wait time.Duration

	mu   sync.Mutex
	busy map[pulid.ID]*slots
}

type slots struct {
	sem   chan struct{}
	users int // calls holding or waiting for a slot
}

// acquire takes a slot of ws; release must follow when it succeeds.
func (w *workspaceSlots) acquire(ctx context.Context, ws pulid.ID) (release func(), err error) {
	w.mu.Lock()
	s := w.busy[ws]
	if s == nil {
		s = &slots{sem: make(chan struct{}, w.per)}
		w.busy[ws] = s
	}
	s.users++
	w.mu.Unlock()
	leave := func() {
		w.mu.Lock()
		if s.users--; s.users == 0 {
			delete(w.busy, ws)
		}
		w.mu.Unlock()
	}
	select {
	case s.sem <- struct{}{}:
		return func() { <-s.sem; leave() }, nil
	default:
	}
	timer := time.NewTimer(w.wait)
	defer timer.Stop()
	select {
	case s.sem <- struct{}{}:
		return func() { <-s.sem; leave() }, nil
	case <-timer.C:
		leave()
		return nil, ErrCallsBusy
	case <-ctx.Done():
		leave()
		return nil, errcode.New(errcode.Unavailable, "waiting for a plugin call slot: %v", ctx.Err())
	}
}

// Span attributes of plugin calls.
const (
	attrPlugin    = attribute.Key("rapport.plugin")
	attrPoint     = attribute.Key("rapport.plugin.point")
	attrRuntime   = attribute.Key("rapport.plugin.runtime")
	attrBatch     = attribute.Key("rapport.plugin.batch_size")
	attrGuestTime = attribute.Key("rapport.plugin.guest_time_ms")
	attrQueued    = attribute.Key("rapport.plugin.queued_ms")
	attrWorkspace = attribute.Key("rapport.workspace")
)

// invoke runs one call of p's point on a batch of items: it waits for a
// slot of the caller's workspace (see LimitWorkspaceCalls), traces the call
// as a span "plugin <point>" carrying plugin@version, the batch size and
// the time spent in the plugin, and counts it in the metrics.
func (r *Registry) invoke(ctx context.Context, p *Plugin, point sdk.Point, items int, call func(context.Context, runner) error) error {
	ctx, span := telemetry.Start(ctx, "plugin "+string(point), trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attrPoint.String(string(point)), attrBatch.Int(items)))
	defer span.End()
	err := r.invokeTraced(ctx, span, p, point, items, call)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

func (r *Registry) invokeTraced(ctx context.Context, span trace.Span, p *Plugin, point sdk.Point, items int, call func(context.Context, runner) error) error {
	queued := time.Now()
	p, err := r.ready(ctx, p)
	if err != nil {
		return err
	}
	span.SetAttributes(attrPlugin.String(p.Ref()), attrRuntime.String(p.Manifest.Runtime))
	if v := tenancy.FromContext(ctx); v != nil {
		span.SetAttributes(attrWorkspace.String(string(v.WorkspaceID)))
		if w := r.callSlots.Load(); w != nil {
			release, err := w.acquire(ctx, v.WorkspaceID)
			if err != nil {
				return err
			}
			defer release()
		}
	}
	mod, err := p.acquire(point)
	if err != nil {
		return err
	}
	defer p.release()
	start := time.Now()
	span.SetAttributes(attrQueued.Float64(float64(start.Sub(queued).Microseconds()) / 1000))
	err = call(ctx, mod)
	span.SetAttributes(attrGuestTime.Float64(float64(time.Since(start).Microseconds()) / 1000))
	r.metrics.observe(p, point, items, start, err)
	return pluginError(p, point, err)
}
