package schema

import (
	"context"
	"fmt"

	gen "github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/metrics/rollup"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// Batch gathers what the hooks of many writes in one transaction would
// otherwise do a statement at a time: their timeline entries and record
// events wait in the Batch until Flush writes them in a few bulk
// statements, and the custom field definitions and the links a write
// checks are looked up once per batch. Bulk writers (imports) use it;
// the trail they leave is the same as without it, once flushed.
//
// A Batch belongs to one goroutine and may span the transactions of one
// bulk run, flushed in each. What it caches (definitions, records found
// in the workspace) holds for the run: records never move between
// workspaces, and a bulk writer adds no custom field while it writes.
type Batch struct {
	timeline []*gen.TimelineEventCreate
	events   []*gen.EventCreate
	// defs are custom field definitions by workspace and entity.
	defs map[string][]*gen.CustomField
	// linked are the records checks found in a workspace, by ID.
	linked map[pulid.ID]pulid.ID
	// dirty are the entities whose rollups the writes changed.
	dirty dirtySet
}

type batchKey struct{}

// Batched returns a context whose writes gather their trail in a new
// Batch, and the Batch. Writes through the context leave no timeline
// entry or event until the Batch is flushed, in the same transaction.
func Batched(ctx context.Context) (context.Context, *Batch) {
	b := &Batch{defs: map[string][]*gen.CustomField{}, linked: map[pulid.ID]pulid.ID{}, dirty: dirtySet{}}
	return context.WithValue(ctx, batchKey{}, b), b
}

func batchOf(ctx context.Context) *Batch {
	b, _ := ctx.Value(batchKey{}).(*Batch)
	return b
}

// flushChunk bounds the rows of one bulk insert, well inside the bind
// parameter limits of SQLite and PostgreSQL.
const flushChunk = 1000

// Flush writes the gathered timeline entries and events through c, in
// the order the writes made them, refreshes the rollups of the entities
// the writes changed (core/metrics/rollup), and empties the Batch.
func (b *Batch) Flush(ctx context.Context, c *gen.Client) error {
	for len(b.timeline) > 0 {
		n := min(len(b.timeline), flushChunk)
		if err := c.TimelineEvent.CreateBulk(b.timeline[:n]...).Exec(ctx); err != nil {
			return fmt.Errorf("recording timeline: %w", err)
		}
		b.timeline = b.timeline[n:]
	}
	for len(b.events) > 0 {
		n := min(len(b.events), flushChunk)
		if err := c.Event.CreateBulk(b.events[:n]...).Exec(ctx); err != nil {
			return fmt.Errorf("recording events: %w", err)
		}
		b.events = b.events[n:]
	}
	b.timeline, b.events = nil, nil
	for ws, d := range b.dirty {
		if err := rollup.Refresh(ctx, c, c.Dialect(), ws, d); err != nil {
			return err
		}
		delete(b.dirty, ws)
	}
	return nil
}

// Pending is how many timeline entries and events wait to be flushed.
func (b *Batch) Pending() int { return len(b.timeline) + len(b.events) }

// Vouch records that ids are records of the workspace of ctx's viewer,
// so that writes under ctx's Batch link to them without checking each.
// The caller must have read them in this run through a query scoped to
// that workspace; never vouch for IDs from a request. Without a Batch
// or a viewer in ctx it does nothing.
func Vouch(ctx context.Context, ids ...pulid.ID) {
	b, v := batchOf(ctx), tenancy.FromContext(ctx)
	if b == nil || v == nil {
		return
	}
	for _, id := range ids {
		b.linked[id] = v.WorkspaceID
	}
}
