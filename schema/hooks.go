package schema

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"

	"github.com/rapportcrm/rapport/core/crm"
	gen "github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/hook"
	"github.com/rapportcrm/rapport/core/ent/intercept"
	"github.com/rapportcrm/rapport/core/ent/timelineevent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// Hooks of the WorkspaceMixin: set and check the workspace on create,
// refuse cross-workspace links, and keep the timeline.
func (WorkspaceMixin) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
				if err := setWorkspace(ctx, m); err != nil {
					return nil, err
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate),
		hook.On(func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
				if err := checkLinks(ctx, m); err != nil {
					return nil, err
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
		recordTimeline,
	}
}

// untracked are the entities whose writes are not echoed into the
// timeline: the timeline itself, derived rows, and secrets.
var untracked = map[string]bool{
	gen.TypeTimelineEvent:     true,
	gen.TypeScore:             true,
	gen.TypeStageChange:       true,
	gen.TypeAPIToken:          true,
	gen.TypeSegmentMembership: true,
	gen.TypeSegmentRun:        true,
	gen.TypeEvent:             true,
	gen.TypeAutomationRun:     true,
	gen.TypeDelivery:          true,
	gen.TypeImportJob:         true,
	gen.TypeImportReject:      true,
	gen.TypeWorkRun:           true,
	gen.TypeWorkRange:         true,
}

// silent are the tracked entities whose writes are audited in the timeline
// but emit no record event: automations are configuration, not records.
var silent = map[string]bool{
	gen.TypeAutomation:       true,
	gen.TypeExtensionBinding: true,
	gen.TypeCustomField:      true,
	gen.TypeMember:           true,
	gen.TypeWorkspacePlugin:  true,
}

// unlisted are the fields the timeline never lists: a workspace plugin's
// package and manifest bytes (its name, version and SHA-256 say which).
var unlisted = map[string]bool{"archive": true, "manifest": true}

// recordTimeline writes a TimelineEvent for every create, update and
// delete of a tracked entity, through the mutation's own client so that it
// joins the mutation's transaction when there is one.
func recordTimeline(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		if m.Type() == gen.TypeScore && m.Op().Is(ent.OpCreate) {
			return recordScoreEvent(ctx, m, next)
		}
		if untracked[m.Type()] || tenancy.IsUntrailed(ctx) {
			return next.Mutate(ctx, m)
		}
		fields := m.Fields()
		if m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) && onlyBookkeeping(fields) {
			return next.Mutate(ctx, m)
		}
		ws, ok := workspaceOf(ctx, m)
		if !ok {
			return next.Mutate(ctx, m)
		}
		idm, ok := m.(interface {
			IDs(context.Context) ([]pulid.ID, error)
			ID() (pulid.ID, bool)
			Client() *gen.Client
		})
		if !ok {
			return next.Mutate(ctx, m)
		}
		var (
			ids     []pulid.ID
			changes []crm.Change
			err     error
		)
		switch {
		case m.Op().Is(ent.OpCreate):
			id, _ := idm.ID()
			ids = []pulid.ID{id}
		case m.Op().Is(ent.OpUpdateOne | ent.OpDeleteOne):
			if id, ok := idm.ID(); ok {
				ids = []pulid.ID{id}
			}
		default:
			if ids, err = idm.IDs(ctx); err != nil {
				return nil, err
			}
		}
		for _, f := range fields {
			if f == "updated_at" || f == "workspace_id" || bookkeeping[f] || unlisted[f] {
				continue
			}
			after, _ := m.Field(f)
			c := crm.Change{Field: errcode.FieldName(f), After: after}
			if m.Op().Is(ent.OpUpdateOne) {
				if before, err := m.OldField(ctx, f); err == nil {
					c.Before = before
				}
			}
			changes = append(changes, c)
		}
		action := timelineevent.ActionUpdate
		switch {
		case m.Op().Is(ent.OpCreate):
			action = timelineevent.ActionCreate
		case m.Op().Is(ent.OpDelete | ent.OpDeleteOne):
			action = timelineevent.ActionDelete
		}
		// The soft-delete hook below may turn m into an update: the action
		// is decided before it runs.
		v, err := next.Mutate(ctx, m)
		if err != nil || len(ids) == 0 {
			return v, err
		}
		actor := tenancy.Actor(ctx)
		now := tenancy.Now(ctx)
		builders := make([]*gen.TimelineEventCreate, len(ids))
		for i, id := range ids {
			builders[i] = idm.Client().TimelineEvent.Create().
				SetWorkspaceID(ws).
				SetAction(action).
				SetSubjectType(m.Type()).
				SetSubjectID(id).
				SetActor(actor).
				SetChanges(changes).
				SetOccurredAt(now)
		}
		b := batchOf(ctx)
		if b != nil {
			b.timeline = append(b.timeline, builders...)
		} else if err := idm.Client().TimelineEvent.CreateBulk(builders...).Exec(ctx); err != nil {
			return nil, fmt.Errorf("recording timeline: %w", err)
		}
		if silent[m.Type()] {
			return v, nil
		}
		types := []string{EventType(m.Type(), string(action))}
		switch {
		case m.Type() == gen.TypeDeal && m.Op().Is(ent.OpUpdateOne) && changed(changes, errcode.FieldName("stage_id")):
			types = append(types, "deal.stage_changed")
		case m.Type() == gen.TypeLead && !m.Op().Is(ent.OpCreate|ent.OpDelete|ent.OpDeleteOne):
			if st, ok := m.Field("status"); ok && fmt.Sprint(st) == "converted" {
				types = append(types, "lead.converted")
			}
		}
		events := make([]*gen.EventCreate, 0, len(ids)*len(types))
		for _, id := range ids {
			for _, typ := range types {
				events = append(events, newEvent(ctx, idm.Client(), ws, typ, m.Type(), id, changes, now))
			}
		}
		if b != nil {
			b.events = append(b.events, events...)
			return v, nil
		}
		if err := idm.Client().Event.CreateBulk(events...).Exec(ctx); err != nil {
			return nil, fmt.Errorf("recording events: %w", err)
		}
		return v, nil
	})
}

// EventType names the event of an action on an entity: the entity in
// snake case, a dot, and the action in the past tense, e.g.
// deal.updated or line_item.created.
func EventType(entity, action string) string {
	past := map[string]string{"create": "created", "update": "updated", "delete": "deleted"}[action]
	if past == "" {
		past = action
	}
	return SnakeCase(entity) + "." + past
}

// SnakeCase turns an entity name into the snake case events use:
// LineItem becomes line_item.
func SnakeCase(entity string) string {
	out := make([]byte, 0, len(entity)+4)
	for i := 0; i < len(entity); i++ {
		c := entity[i]
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				out = append(out, '_')
			}
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}

// changed reports whether changes hold a change of field to another value.
func changed(changes []crm.Change, field string) bool {
	for _, c := range changes {
		if c.Field == field && fmt.Sprint(c.Before) != fmt.Sprint(c.After) {
			return true
		}
	}
	return false
}

func newEvent(ctx context.Context, c *gen.Client, ws pulid.ID, typ, subjectType string, id pulid.ID, changes []crm.Change, now time.Time) *gen.EventCreate {
	return c.Event.Create().
		SetWorkspaceID(ws).
		SetType(typ).
		SetSubjectType(SnakeCase(subjectType)).
		SetSubjectID(id).
		SetActor(tenancy.Actor(ctx)).
		SetChanges(changes).
		SetDepth(tenancy.AutomationDepth(ctx)).
		SetOccurredAt(now).
		SetNillableDispatchedAt(quietly(ctx))
}

// quietly is when an event written through ctx counts as dispatched: now
// when ctx is Quiet (its change fires no automation), else never.
func quietly(ctx context.Context) *time.Time {
	if !tenancy.IsQuiet(ctx) {
		return nil
	}
	now := time.Now()
	return &now
}

// recordScoreEvent writes a <subject>.score_changed event for a new score,
// in the score's transaction.
func recordScoreEvent(ctx context.Context, m ent.Mutation, next ent.Mutator) (ent.Value, error) {
	sm, ok := m.(*gen.ScoreMutation)
	if !ok {
		return next.Mutate(ctx, m)
	}
	ws, ok := workspaceOf(ctx, m)
	subjectType, hasType := sm.SubjectType()
	subjectID, hasID := sm.SubjectID()
	v, err := next.Mutate(ctx, m)
	if err != nil || !ok || !hasType || !hasID || tenancy.IsUntrailed(ctx) {
		return v, err
	}
	value, _ := sm.Value()
	changes := []crm.Change{{Field: "score", After: value}}
	if p, ok := sm.Plugin(); ok {
		changes = append(changes, crm.Change{Field: "plugin", After: p})
	}
	ev := newEvent(ctx, sm.Client(), ws, string(subjectType)+".score_changed", string(subjectType), subjectID, changes, time.Now())
	if b := batchOf(ctx); b != nil {
		b.events = append(b.events, ev)
		return v, nil
	}
	if err := ev.Exec(ctx); err != nil {
		return nil, fmt.Errorf("recording score event: %w", err)
	}
	return v, nil
}

// bookkeeping are the fields the engine keeps for itself: an
// automation's round-robin position and where its cron schedule stands.
// Writes of them alone are not audited, and the timeline never lists them.
var bookkeeping = map[string]bool{"assign_cursor": true, "schedule_fired_at": true}

// onlyBookkeeping reports whether an update touches nothing but
// timestamps (for instance the update behind a soft delete) or
// bookkeeping fields.
func onlyBookkeeping(fields []string) bool {
	for _, f := range fields {
		if f != "updated_at" && f != "deleted_at" && !bookkeeping[f] {
			return false
		}
	}
	return true
}

type softDeleteKey struct{}

// IncludeDeleted returns a context whose queries also see soft-deleted
// records, and whose deletes remove rows for good.
func IncludeDeleted(ctx context.Context) context.Context {
	return context.WithValue(ctx, softDeleteKey{}, true)
}

func includeDeleted(ctx context.Context) bool {
	b, _ := ctx.Value(softDeleteKey{}).(bool)
	return b
}

// Interceptors of the SoftDeleteMixin hide deleted records from queries.
func (d SoftDeleteMixin) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{
		intercept.TraverseFunc(func(ctx context.Context, q intercept.Query) error {
			if !includeDeleted(ctx) {
				q.WhereP(sql.FieldIsNull("deleted_at"))
			}
			return nil
		}),
	}
}

// Hooks of the SoftDeleteMixin turn deletes into updates of deleted_at.
func (d SoftDeleteMixin) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
				if includeDeleted(ctx) {
					return next.Mutate(ctx, m)
				}
				mx, ok := m.(interface {
					SetOp(ent.Op)
					Client() *gen.Client
					WhereP(...func(*sql.Selector))
				})
				if !ok {
					return nil, fmt.Errorf("unexpected mutation type %T", m)
				}
				mx.WhereP(sql.FieldIsNull("deleted_at"))
				mx.SetOp(ent.OpUpdate)
				if err := m.SetField("deleted_at", time.Now()); err != nil {
					return nil, err
				}
				return mx.Client().Mutate(ctx, m)
			})
		}, ent.OpDeleteOne|ent.OpDelete),
	}
}

// NewEvent starts an event about a subject for the host to write in the
// transaction of the change it reports, as the hooks do for record
// changes: segmentation runs write segment.entered and segment.left this
// way. ws is the subject's workspace; the actor and automation depth come
// from ctx.
func NewEvent(ctx context.Context, c *gen.Client, ws pulid.ID, typ, subjectType string, id pulid.ID, changes []crm.Change, now time.Time) *gen.EventCreate {
	return newEvent(ctx, c, ws, typ, subjectType, id, changes, now)
}
