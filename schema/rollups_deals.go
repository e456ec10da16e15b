package schema

import (
	"context"
	"slices"

	"entgo.io/ent"

	gen "github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/hook"
	"github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/ent/stagechange"
	"github.com/rapportcrm/rapport/core/pulid"
)

// The deal rollups of core/metrics/rollup (the deal series and the
// conversion funnels) read a deal's pipeline, creation and close dates,
// status and amount, whether it is deleted, its stage history and the
// kind and position of the stages it entered. The hooks below mark the
// deals whose rollups a write changes dirty:
//
//   - a deal, when it is created or deleted, or an update sets one of
//     dealRollupFields;
//   - a deal, when a StageChange of it is written;
//   - the deals that entered a stage, when the stage's position or kind
//     changes, or it is deleted.
//
// A pipeline's own fields (name, default) feed no rollup, and neither a
// pipeline with stages nor a stage with stage history can be deleted
// (their foreign keys have no cascade), so pipeline writes need no hook.

// Hooks of the StageChange keep the deal rollups.
func (StageChange) Hooks() []ent.Hook { return []ent.Hook{stageChangeRollups} }

// Hooks of the Stage keep the deal rollups.
func (Stage) Hooks() []ent.Hook { return []ent.Hook{stageRollups} }

// dealRollupFields are the deal fields the deal rollups read.
var dealRollupFields = []string{
	deal.FieldAmount, deal.FieldStatus, deal.FieldClosedAt, deal.FieldPipelineID,
	deal.FieldStageID, deal.FieldDeletedAt, deal.FieldCreatedAt,
}

// touchesAny tells whether m sets or clears one of fields.
func touchesAny(m ent.Mutation, fields []string) bool {
	for _, f := range append(m.Fields(), m.ClearedFields()...) {
		if slices.Contains(fields, f) {
			return true
		}
	}
	return false
}

// markDeals marks the deals ids dirty in s, in their workspaces. Deleted
// deals are included: an update may restore one.
func markDeals(ctx context.Context, c *gen.Client, ids []pulid.ID, s dirtySet) error {
	var rows []struct {
		ID        pulid.ID `json:"id"`
		Workspace pulid.ID `json:"workspace_id"`
	}
	err := c.Deal.Query().Where(deal.IDIn(ids...)).
		Select(deal.FieldID, deal.FieldWorkspaceID).Scan(IncludeDeleted(ctx), &rows)
	for _, r := range rows {
		s.of(r.Workspace).Deal(string(r.ID))
	}
	return err
}

// dealMetricRollups marks a deal dirty when a write changes what its
// deal rollups read, and refreshes them.
func dealMetricRollups(next ent.Mutator) ent.Mutator {
	return hook.DealFunc(func(ctx context.Context, m *gen.DealMutation) (ent.Value, error) {
		create := m.Op().Is(ent.OpCreate)
		if !create && !m.Op().Is(ent.OpDelete|ent.OpDeleteOne) && !touchesAny(m, dealRollupFields) {
			return next.Mutate(ctx, m)
		}
		s := dirtySet{}
		if !create {
			ids, err := m.IDs(IncludeDeleted(ctx))
			if err != nil {
				return nil, err
			}
			if len(ids) == 0 {
				return next.Mutate(ctx, m)
			}
			if err := markDeals(ctx, m.Client(), ids, s); err != nil {
				return nil, err
			}
		}
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return v, err
		}
		if create {
			if d, ok := v.(*gen.Deal); ok {
				s.of(d.WorkspaceID).Deal(string(d.ID))
			}
		}
		return v, refreshRollups(ctx, m, s)
	})
}

// stageChangeRollups marks the deal of a StageChange dirty whenever one
// is written (recorded, or rewritten by the operator's tools).
func stageChangeRollups(next ent.Mutator) ent.Mutator {
	return hook.StageChangeFunc(func(ctx context.Context, m *gen.StageChangeMutation) (ent.Value, error) {
		s := dirtySet{}
		if !m.Op().Is(ent.OpCreate) {
			ids, err := m.IDs(ctx)
			if err != nil {
				return nil, err
			}
			if len(ids) == 0 {
				return next.Mutate(ctx, m)
			}
			var rows []struct {
				Deal      pulid.ID `json:"deal_id"`
				Workspace pulid.ID `json:"workspace_id"`
			}
			if err := m.Client().StageChange.Query().Where(stagechange.IDIn(ids...)).
				Select(stagechange.FieldDealID, stagechange.FieldWorkspaceID).Scan(ctx, &rows); err != nil {
				return nil, err
			}
			for _, r := range rows {
				s.of(r.Workspace).Deal(string(r.Deal))
			}
		}
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return v, err
		}
		if sc, ok := v.(*gen.StageChange); ok && m.Op().Is(ent.OpCreate) {
			s.of(sc.WorkspaceID).Deal(string(sc.DealID))
		}
		return v, refreshRollups(ctx, m, s)
	})
}

// stageRollups marks the deals that entered a stage dirty when its rank
// in the funnel may change: its position or kind is set, or it is
// deleted. A new stage has been entered by no deal yet.
func stageRollups(next ent.Mutator) ent.Mutator {
	return hook.StageFunc(func(ctx context.Context, m *gen.StageMutation) (ent.Value, error) {
		if m.Op().Is(ent.OpCreate) || (!m.Op().Is(ent.OpDelete|ent.OpDeleteOne) && !touchesAny(m, []string{stage.FieldPosition, stage.FieldKind})) {
			return next.Mutate(ctx, m)
		}
		ids, err := m.IDs(ctx)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return next.Mutate(ctx, m)
		}
		var rows []struct {
			Deal      pulid.ID `json:"deal_id"`
			Workspace pulid.ID `json:"workspace_id"`
		}
		if err := m.Client().StageChange.Query().Where(stagechange.ToStageIDIn(ids...)).
			Unique(true).Select(stagechange.FieldDealID, stagechange.FieldWorkspaceID).Scan(ctx, &rows); err != nil {
			return nil, err
		}
		s := dirtySet{}
		for _, r := range rows {
			s.of(r.Workspace).Deal(string(r.Deal))
		}
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return v, err
		}
		return v, refreshRollups(ctx, m, s)
	})
}
