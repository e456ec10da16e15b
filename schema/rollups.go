package schema

import (
	"context"
	"sync"

	"entgo.io/ent"

	gen "github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/hook"
	"github.com/rapportcrm/rapport/core/ent/order"
	"github.com/rapportcrm/rapport/core/metrics/rollup"
	"github.com/rapportcrm/rapport/core/pulid"
)

// Hooks of the Order keep the customer rollups of core/metrics/rollup.
func (Order) Hooks() []ent.Hook { return []ent.Hook{orderRollups} }

// dirtySet is what one write made dirty, by workspace.
type dirtySet map[pulid.ID]*rollup.Dirty

func (s dirtySet) of(ws pulid.ID) *rollup.Dirty {
	d := s[ws]
	if d == nil {
		d = &rollup.Dirty{}
		s[ws] = d
	}
	return d
}

// txMutation is a mutation that tells its client and transaction.
type txMutation interface {
	Client() *gen.Client
	Tx() (*gen.Tx, error)
}

// refreshRollups brings the rollups of what s marks up to date in m's
// transaction, as the transaction commits: each entity a transaction
// touched is refreshed once, and every transaction takes its entities'
// locks and moves the shared aggregate rows at the same point, in one
// order, so concurrent writers neither lose updates nor deadlock. Under
// a Batch they wait for the Batch's Flush. A write outside a transaction
// has its rollups refreshed in a transaction of their own, just after
// it.
func refreshRollups(ctx context.Context, m txMutation, s dirtySet) error {
	if len(s) == 0 {
		return nil
	}
	if b := batchOf(ctx); b != nil {
		for ws, d := range s {
			b.dirty.of(ws).Merge(d)
		}
		return nil
	}
	if tx, err := m.Tx(); err == nil {
		atCommit(tx, m.Client().TxKey(), s)
		return nil
	}
	tx, err := m.Client().Tx(ctx)
	if err != nil {
		return err
	}
	if err := refreshAll(ctx, tx.Client(), s); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// pending holds, by transaction (Client.TxKey), what its writes made
// dirty until it commits or rolls back.
var pending sync.Map

// atCommit adds s to what tx refreshes as it commits.
func atCommit(tx *gen.Tx, key any, s dirtySet) {
	v, loaded := pending.LoadOrStore(key, &txDirty{s: dirtySet{}})
	d := v.(*txDirty)
	d.mu.Lock()
	for ws, x := range s {
		d.s.of(ws).Merge(x)
	}
	d.mu.Unlock()
	if loaded {
		return
	}
	tx.OnCommit(func(next gen.Committer) gen.Committer {
		return gen.CommitFunc(func(ctx context.Context, tx *gen.Tx) error {
			pending.Delete(key)
			d.mu.Lock()
			defer d.mu.Unlock()
			if err := refreshAll(ctx, tx.Client(), d.s); err != nil {
				return err
			}
			return next.Commit(ctx, tx)
		})
	})
	tx.OnRollback(func(next gen.Rollbacker) gen.Rollbacker {
		return gen.RollbackFunc(func(ctx context.Context, tx *gen.Tx) error {
			pending.Delete(key)
			return next.Rollback(ctx, tx)
		})
	})
}

type txDirty struct {
	mu sync.Mutex
	s  dirtySet
}

func refreshAll(ctx context.Context, c *gen.Client, s dirtySet) error {
	for ws, d := range s {
		if err := rollup.Refresh(ctx, c, c.Dialect(), ws, d); err != nil {
			return err
		}
	}
	return nil
}

// customersOfOrders marks the customers of the orders ids dirty in s.
func customersOfOrders(ctx context.Context, c *gen.Client, where func(*gen.OrderQuery), s dirtySet) error {
	q := c.Order.Query()
	where(q)
	var rows []struct {
		Workspace    pulid.ID  `json:"workspace_id"`
		Organization *pulid.ID `json:"organization_id"`
		Contact      *pulid.ID `json:"contact_id"`
	}
	if err := q.Select(order.FieldWorkspaceID, order.FieldOrganizationID, order.FieldContactID).Scan(ctx, &rows); err != nil {
		return err
	}
	for _, r := range rows {
		s.of(r.Workspace).Customer(customerOf(r.Organization, r.Contact))
	}
	return nil
}

// customerOf is an order's customer: its organization, else its contact.
func customerOf(org, contact *pulid.ID) string {
	switch {
	case org != nil:
		return string(*org)
	case contact != nil:
		return string(*contact)
	}
	return ""
}

// orderRollups marks an order's customer dirty before and after every
// write of it (an update may move the order to another customer, a
// delete takes it away) and refreshes their rollups.
func orderRollups(next ent.Mutator) ent.Mutator {
	return hook.OrderFunc(func(ctx context.Context, m *gen.OrderMutation) (ent.Value, error) {
		s := dirtySet{}
		var ids []pulid.ID
		if !m.Op().Is(ent.OpCreate) {
			var err error
			if ids, err = m.IDs(ctx); err != nil {
				return nil, err
			}
			if len(ids) == 0 {
				return next.Mutate(ctx, m)
			}
			if err := customersOfOrders(ctx, m.Client(), func(q *gen.OrderQuery) { q.Where(order.IDIn(ids...)) }, s); err != nil {
				return nil, err
			}
		}
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return v, err
		}
		switch {
		case m.Op().Is(ent.OpCreate):
			if o, ok := v.(*gen.Order); ok {
				s.of(o.WorkspaceID).Customer(customerOf(o.OrganizationID, o.ContactID))
			}
		case m.Op().Is(ent.OpUpdate | ent.OpUpdateOne):
			if err := customersOfOrders(ctx, m.Client(), func(q *gen.OrderQuery) { q.Where(order.IDIn(ids...)) }, s); err != nil {
				return nil, err
			}
		}
		return v, refreshRollups(ctx, m, s)
	})
}

// dealRollups keeps the customer rollups of a deal's orders: they are
// kept by the pipeline of the order's deal, so a deal moved to another
// pipeline, or removed for good, changes its orders' rows.
func dealRollups(next ent.Mutator) ent.Mutator {
	return hook.DealFunc(func(ctx context.Context, m *gen.DealMutation) (ent.Value, error) {
		_, moved := m.PipelineID()
		if m.Op().Is(ent.OpCreate) || !(moved || m.Op().Is(ent.OpDelete|ent.OpDeleteOne)) {
			return next.Mutate(ctx, m)
		}
		ids, err := m.IDs(ctx)
		if err != nil || len(ids) == 0 {
			if err != nil {
				return nil, err
			}
			return next.Mutate(ctx, m)
		}
		s := dirtySet{}
		if err := customersOfOrders(ctx, m.Client(), func(q *gen.OrderQuery) { q.Where(order.DealIDIn(ids...)) }, s); err != nil {
			return nil, err
		}
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return v, err
		}
		return v, refreshRollups(ctx, m, s)
	})
}
