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

// TimelineEvent is the audit trail: who created, changed or deleted which
// record, when, and which fields changed. Written in the same transaction as
// the change.
type TimelineEvent struct{ ent.Schema }

// Mixin of the TimelineEvent.
func (TimelineEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "tle"}, WorkspaceMixin{}}
}

// Fields of the TimelineEvent.
func (TimelineEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("action").Values("create", "update", "delete").Immutable(),
		field.String("subject_type").Immutable(),
		field.String("subject_id").GoType(pulidID).Annotations(entgql.Type("ID")).Immutable(),
		field.String("actor").Default("").Immutable(),
		field.JSON("changes", []crm.Change{}).Optional().Immutable().Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Time("occurred_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("OCCURRED_AT")),
		field.Time("created_at").Default(time.Now).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the TimelineEvent.
func (TimelineEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("workspace_id", "subject_id", "occurred_at"),
		index.Fields("workspace_id", "occurred_at"),
	}
}

// Annotations of the TimelineEvent.
func (TimelineEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}
