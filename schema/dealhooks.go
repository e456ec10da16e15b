package schema

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent"

	gen "github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/hook"
	"github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// Hooks of the Deal keep status, closed_at and the stage history in step
// with the stage: whatever path sets a deal's stage, a StageChange is
// recorded in the same transaction.
func (Deal) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.DealFunc(func(ctx context.Context, m *gen.DealMutation) (ent.Value, error) {
				switch {
				case m.Op().Is(ent.OpUpdate):
					if _, ok := m.StageID(); ok {
						return nil, errcode.Input("stageID", "move deals one at a time")
					}
					if _, ok := m.PipelineID(); ok {
						return nil, errcode.Input("pipelineID", "move deals one at a time")
					}
					return next.Mutate(ctx, m)
				case m.Op().Is(ent.OpCreate):
					return createDeal(ctx, m, next)
				default:
					return moveDeal(ctx, m, next)
				}
			})
		}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
		dealRollups,
		dealMetricRollups,
	}
}

func stageFor(ctx context.Context, m *gen.DealMutation, id pulid.ID) (*gen.Stage, error) {
	st, err := m.Client().Stage.Query().Where(stage.ID(id)).Only(ctx)
	if gen.IsNotFound(err) {
		return nil, &errcode.Error{Code: errcode.NotFound, Field: "stageID", Msg: "no such stage in this workspace"}
	}
	return st, err
}

// applyStage sets status and closed_at from the stage's kind. A closed_at
// the caller set explicitly (an import of past deals) is kept.
func applyStage(m *gen.DealMutation, st *gen.Stage, now time.Time) {
	if at, ok := m.ClosedAt(); ok {
		now = at
	}
	switch st.Kind {
	case stage.KindWon:
		m.SetStatus(deal.StatusWon)
		m.SetClosedAt(now)
	case stage.KindLost:
		m.SetStatus(deal.StatusLost)
		m.SetClosedAt(now)
	default:
		m.SetStatus(deal.StatusOpen)
		m.ClearClosedAt()
	}
}

func createDeal(ctx context.Context, m *gen.DealMutation, next ent.Mutator) (ent.Value, error) {
	stageID, _ := m.StageID()
	pipelineID, hasPipeline := m.PipelineID()
	st, err := stageFor(ctx, m, stageID)
	if err != nil {
		return nil, err
	}
	if !hasPipeline {
		m.SetPipelineID(st.PipelineID)
	} else if st.PipelineID != pipelineID {
		return nil, errcode.Input("stageID", "stage is not in the deal's pipeline")
	}
	now := tenancy.Now(ctx)
	if at, ok := m.CreatedAt(); ok {
		now = at
	}
	applyStage(m, st, now)
	v, err := next.Mutate(ctx, m)
	if err != nil || tenancy.IsUntrailed(ctx) {
		return v, err
	}
	id, _ := m.ID()
	ws, _ := workspaceOf(ctx, m)
	err = m.Client().StageChange.Create().
		SetWorkspaceID(ws).
		SetDealID(id).
		SetToStageID(st.ID).
		SetChangedAt(now).
		SetActor(tenancy.Actor(ctx)).
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("recording stage history: %w", err)
	}
	return v, nil
}

func moveDeal(ctx context.Context, m *gen.DealMutation, next ent.Mutator) (ent.Value, error) {
	stageID, stageSet := m.StageID()
	pipelineID, pipelineSet := m.PipelineID()
	if !stageSet && !pipelineSet {
		return next.Mutate(ctx, m)
	}
	oldStage, err := m.OldStageID(ctx)
	if err != nil {
		return nil, err
	}
	if !stageSet {
		return nil, errcode.Input("pipelineID", "moving a deal to another pipeline needs a stage of that pipeline")
	}
	if !pipelineSet {
		if pipelineID, err = m.OldPipelineID(ctx); err != nil {
			return nil, err
		}
	}
	st, err := stageFor(ctx, m, stageID)
	if err != nil {
		return nil, err
	}
	if st.PipelineID != pipelineID {
		return nil, errcode.Input("stageID", "stage is not in the deal's pipeline")
	}
	if stageID == oldStage {
		return next.Mutate(ctx, m)
	}
	now := tenancy.Now(ctx)
	applyStage(m, st, now)
	v, err := next.Mutate(ctx, m)
	if err != nil || tenancy.IsUntrailed(ctx) {
		return v, err
	}
	id, _ := m.ID()
	ws, _ := workspaceOf(ctx, m)
	err = m.Client().StageChange.Create().
		SetWorkspaceID(ws).
		SetDealID(id).
		SetFromStageID(oldStage).
		SetToStageID(st.ID).
		SetChangedAt(now).
		SetActor(tenancy.Actor(ctx)).
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("recording stage history: %w", err)
	}
	return v, nil
}

// Hooks of the LineItem keep amount = quantity × unit price.
func (LineItem) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.LineItemFunc(func(ctx context.Context, m *gen.LineItemMutation) (ent.Value, error) {
				q, qSet := m.Quantity()
				p, pSet := m.UnitPrice()
				if !qSet && !pSet && !m.Op().Is(ent.OpCreate) {
					return next.Mutate(ctx, m)
				}
				if m.Op().Is(ent.OpUpdate) {
					return nil, errcode.Input("quantity", "update line items one at a time")
				}
				var err error
				if !qSet && !m.Op().Is(ent.OpCreate) {
					if q, err = m.OldQuantity(ctx); err != nil {
						return nil, err
					}
				}
				if !pSet && !m.Op().Is(ent.OpCreate) {
					if p, err = m.OldUnitPrice(ctx); err != nil {
						return nil, err
					}
				}
				m.SetAmount(p * crmMoney(q))
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
	}
}
