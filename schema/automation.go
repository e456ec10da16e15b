package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Automation reacts to a workspace's record events (or to time) with an
// ordered list of actions: when a record event of the trigger's type
// happens and the record meets the condition, the actions run. Trigger,
// condition and actions are validated by core/automation before they are
// stored.
type Automation struct{ ent.Schema }

// Mixin of the Automation.
func (Automation) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "aut"}, TimeMixin{}, WorkspaceMixin{}, SoftDeleteMixin{}}
}

// Fields of the Automation.
func (Automation) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.Bool("enabled").Default(true),
		field.String("event").Optional().MaxLen(100).
			Comment("the event type that fires it, e.g. deal.stage_changed; empty for a time trigger"),
		field.JSON("schedule", map[string]any{}).Optional().Annotations(entgql.Type("Map")).
			Comment(`a time trigger, e.g. {"subject": "deal", "idle_days": 14} or {"subject": "deal", "cron": "0 9 * * 1", "timezone": "Europe/Berlin"}`),
		field.Time("schedule_fired_at").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("where a cron schedule stands: ticks at or before it never fire. The latest tick fired, or the time the automation was last updated or enabled if later"),
		field.JSON("condition", map[string]any{}).Optional().Annotations(entgql.Type("Map")).
			Comment("the condition the record must meet; none fires on every event"),
		field.JSON("actions", []map[string]any{}).Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("the actions, in order; GraphQL shows them with webhook secrets hidden"),
		field.Int64("assign_cursor").Default(0).Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("round-robin position of assign_owner actions"),
	}
}

// Edges of the Automation.
func (Automation) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("runs", AutomationRun.Type).Ref("automation").Annotations(entgql.RelayConnection()),
	}
}

// Indexes of the Automation.
func (Automation) Indexes() []ent.Index {
	return []ent.Index{index.Fields("workspace_id", "event")}
}

// Annotations of the Automation.
func (Automation) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(), entgql.RelayConnection(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}
