package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/rapportcrm/rapport/core/crm"
)

// AutomationRun is one firing of an automation on one record: the trigger
// that fired it, the actions it runs (copied from the automation when it
// fired), each action's outcome and attempts, and the last error.
type AutomationRun struct{ ent.Schema }

// Mixin of the AutomationRun.
func (AutomationRun) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "arn"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the AutomationRun.
func (AutomationRun) Fields() []ent.Field {
	return []ent.Field{
		field.String("automation_id").GoType(pulidID).Immutable(),
		field.String("key").NotEmpty().MaxLen(200).Unique().Immutable().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("idempotency key: the automation and what fired it"),
		field.String("trigger").NotEmpty().MaxLen(100).Immutable().
			Comment("the event type, or schedule for a time trigger"),
		field.String("event_id").GoType(pulidID).Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		field.String("subject_type").Immutable(),
		field.String("subject_id").GoType(pulidID).Immutable().Annotations(entgql.Type("ID")),
		field.Enum("status").Values("pending", "running", "succeeded", "failed").Default("pending").
			Annotations(entgql.OrderField("STATUS")),
		field.Int("depth").Default(0).NonNegative().Immutable(),
		field.Bool("queued").Default(false).Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("attempts").Default(0),
		field.String("error").Optional().MaxLen(2000),
		field.JSON("actions", []map[string]any{}).Immutable().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("the automation's actions when it fired; GraphQL shows them with webhook secrets hidden"),
		field.JSON("steps", []crm.AutomationStep{}).Optional().Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Time("fired_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("FIRED_AT")),
		field.Time("finished_at").Optional().Nillable(),
	}
}

// Edges of the AutomationRun.
func (AutomationRun) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("automation", Automation.Type).Field("automation_id").Unique().Required().Immutable(),
		edge.From("deliveries", Delivery.Type).Ref("run"),
	}
}

// Indexes of the AutomationRun.
func (AutomationRun) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("workspace_id", "fired_at"),
		index.Fields("automation_id", "fired_at"),
		index.Fields("status", "queued"),
	}
}

// Annotations of the AutomationRun.
func (AutomationRun) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(), entgql.RelayConnection(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}
