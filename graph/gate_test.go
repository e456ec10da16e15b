package graph

import (
	"context"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// TestGateBoundsHeavyWork: at most total heavy fields run at once, at most
// perWorkspace of one workspace; a caller waits for a slot, and past the
// wait is refused with UNAVAILABLE.
func TestGateBoundsHeavyWork(t *testing.T) {
	g := newGate(2, 1, 30*time.Millisecond)
	ws := func(id string) context.Context {
		return tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: pulid.ID("wsp_" + id)})
	}
	relA, err := g.acquire(ws("a"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := g.acquire(ws("a")); errcode.Of(err) != errcode.Unavailable {
		t.Fatalf("second slot of one workspace: %v", err)
	}
	if d := time.Since(start); d < 30*time.Millisecond || d > time.Second {
		t.Errorf("refused after %v, want the 30ms wait", d)
	}
	relB, err := g.acquire(ws("b"))
	if err != nil {
		t.Fatalf("another workspace waits behind a busy one: %v", err)
	}
	if _, err := g.acquire(ws("c")); errcode.Of(err) != errcode.Unavailable {
		t.Fatalf("third slot of a two-slot server: %v", err)
	}
	// A waiter gets the slot as soon as it frees.
	got := make(chan error, 1)
	go func() {
		rel, err := g.acquire(ws("a"))
		if err == nil {
			rel()
		}
		got <- err
	}()
	time.Sleep(5 * time.Millisecond)
	relA()
	if err := <-got; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	relB()
	// A caller that gives up stops waiting.
	rel1, _ := g.acquire(ws("a"))
	ctx, cancel := context.WithCancel(ws("a"))
	cancel()
	if _, err := g.acquire(ctx); err == nil {
		t.Fatal("acquired with a cancelled context")
	}
	rel1()
	if n := len(g.slots); n != 0 {
		t.Errorf("%d slots still taken", n)
	}
}
