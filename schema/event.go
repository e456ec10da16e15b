package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/rapportcrm/rapport/core/crm"
)

// Event is the outbox of record changes: every create, update, delete,
// stage move, lead conversion and score of a record writes one, in the
// same transaction as the change, so an event exists if and only if its
// change committed. Automations are fired from events; dispatched_at is
// set once an event has been matched against them. seq is set after the
// event committed, in the order events became visible, for the live
// subscriptions' cursors.
type Event struct{ ent.Schema }

// Mixin of the Event.
func (Event) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "evt"}, WorkspaceMixin{}}
}

// Fields of the Event.
func (Event) Fields() []ent.Field {
	return []ent.Field{
		field.String("type").NotEmpty().MaxLen(100).Immutable().
			Comment("what happened, e.g. deal.stage_changed or contact.created"),
		field.String("subject_type").Immutable(),
		field.String("subject_id").GoType(pulidID).Immutable(),
		field.String("actor").Default("").Immutable(),
		field.JSON("changes", []crm.Change{}).Optional().Immutable(),
		field.Int("depth").Default(0).NonNegative().Immutable().
			Comment("how many automation runs led to this change: 0 for a person's change"),
		field.Time("occurred_at").Default(time.Now).Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("dispatched_at").Optional().Nillable(),
		field.Int64("seq").Optional().Nillable().
			Comment("the event's place in commit order, assigned once it committed (see core/live); live subscriptions read the outbox by it"),
	}
}

// Indexes of the Event.
func (Event) Indexes() []ent.Index {
	return []ent.Index{index.Fields("dispatched_at", "occurred_at"), index.Fields("seq"), index.Fields("workspace_id", "seq")}
}

// Annotations of the Event: events reach GraphQL through automation runs.
func (Event) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
