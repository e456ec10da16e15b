package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Delivery is one outgoing message of an automation run — a webhook POST
// or one email — and the log of its attempts. Its key (run, action,
// recipient) is unique: a message recorded as delivered is never sent
// again, whatever retries the run goes through.
type Delivery struct{ ent.Schema }

// Mixin of the Delivery.
func (Delivery) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "dlv"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the Delivery.
func (Delivery) Fields() []ent.Field {
	return []ent.Field{
		field.String("run_id").GoType(pulidID).Immutable(),
		field.String("automation_id").GoType(pulidID).Immutable().Annotations(entgql.Type("ID")),
		field.String("key").NotEmpty().MaxLen(500).Unique().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("step").NonNegative().Immutable().Comment("index of the action in the run"),
		field.Enum("kind").Values("webhook", "email").Immutable(),
		field.String("target").MaxLen(2000).Immutable().Comment("the URL or the email address"),
		field.Enum("status").Values("pending", "delivered", "failed").Default("pending").
			Annotations(entgql.OrderField("STATUS")),
		field.Int("attempts").Default(0),
		field.String("last_error").Optional().MaxLen(2000),
		field.Int("response_status").Optional().Nillable().Comment("the webhook target's last HTTP status"),
		field.Time("delivered_at").Optional().Nillable(),
	}
}

// Edges of the Delivery.
func (Delivery) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("run", AutomationRun.Type).Field("run_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Delivery.
func (Delivery) Indexes() []ent.Index {
	return []ent.Index{index.Fields("run_id")}
}

// Annotations of the Delivery.
func (Delivery) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(), entgql.RelayConnection(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}
