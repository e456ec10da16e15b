package extension

import (
	"context"
	"sync"

	"github.com/rapportcrm/rapport/core/pulid"
)

// stagedBatch is one batch on its way through runStaged: read, then
// answered by the plugin, then stored, or failed at one of these.
type stagedBatch[Q, A any] struct {
	ids  []pulid.ID
	req  Q
	resp A
	err  error
}

// runStaged takes pages of subject IDs from next until it returns none,
// and runs each through three stages at once: while the plugin answers
// one batch (call), the next is read and built (build) and the one before
// is stored (store), so that the plugin's time and the database's overlap
// instead of adding up. store is called for every batch in order, from the
// caller's goroutine, with the batch's build or call error if it failed;
// an error it returns stops the run and is returned. An error of next or
// build also stops the run (build's after store saw it). runStaged returns
// ctx's error when it ends before every page went through.
func runStaged[Q, A any](ctx context.Context, next func() ([]pulid.ID, error),
	build func(context.Context, []pulid.ID) (Q, error),
	call func(context.Context, Q) (A, error),
	store func(ids []pulid.ID, resp A, err error) error,
) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	loaded, answered := make(chan *stagedBatch[Q, A], 1), make(chan *stagedBatch[Q, A], 1)
	complete := false // every page was read; set before loaded closes
	wg.Add(2)
	go func() { // read the next batch from the database
		defer wg.Done()
		defer close(loaded)
		for {
			b := &stagedBatch[Q, A]{}
			b.ids, b.err = next()
			switch {
			case b.err != nil:
				b.ids = nil
			case len(b.ids) == 0:
				complete = true
				return
			default:
				b.req, b.err = build(ctx, b.ids)
			}
			failed := b.err != nil // b is the plugin stage's once sent
			select {
			case loaded <- b:
			case <-ctx.Done():
				return
			}
			if failed {
				return
			}
		}
	}()
	go func() { // have the plugin answer it
		defer wg.Done()
		defer close(answered)
		for b := range loaded {
			if b.err == nil {
				b.resp, b.err = call(ctx, b.req)
			}
			select {
			case answered <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	for b := range answered { // and store it
		if b.ids == nil {
			return b.err // paging failed
		}
		if err := store(b.ids, b.resp, b.err); err != nil {
			return err
		}
	}
	if !complete {
		return ctx.Err() // cancelled before every batch went through
	}
	return nil
}
