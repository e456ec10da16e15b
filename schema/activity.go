package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Activity is an entry in the timeline of work with customers: a note, call,
// email, meeting or task, linked to the contact, organization, deal or lead
// it concerns.
type Activity struct{ ent.Schema }

// Mixin of the Activity.
func (Activity) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "act"}, TimeMixin{}, WorkspaceMixin{}, ExternalMixin{}, SoftDeleteMixin{}}
}

// Fields of the Activity.
func (Activity) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("note", "call", "email", "meeting", "task").Annotations(entgql.OrderField("KIND")),
		field.String("subject").NotEmpty().MaxLen(300),
		field.Text("body").Optional().MaxLen(100_000),
		field.Enum("direction").Values("inbound", "outbound").Optional().Nillable().
			Comment("for calls and emails: who reached out"),
		field.Time("occurred_at").Default(time.Now).Annotations(entgql.OrderField("OCCURRED_AT")),
		field.Time("due_at").Optional().Nillable().Annotations(entgql.OrderField("DUE_AT")),
		field.Time("done_at").Optional().Nillable(),
		field.String("contact_id").GoType(pulidID).Optional().Nillable(),
		field.String("organization_id").GoType(pulidID).Optional().Nillable(),
		field.String("deal_id").GoType(pulidID).Optional().Nillable(),
		field.String("lead_id").GoType(pulidID).Optional().Nillable(),
		field.String("owner_id").GoType(pulidID).Optional().Nillable(),
	}
}

// Edges of the Activity.
func (Activity) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("contact", Contact.Type).Field("contact_id").Unique(),
		edge.To("organization", Organization.Type).Field("organization_id").Unique(),
		edge.To("deal", Deal.Type).Field("deal_id").Unique(),
		edge.To("lead", Lead.Type).Field("lead_id").Unique(),
		edge.To("owner", Member.Type).Field("owner_id").Unique(),
	}
}

// Indexes of the Activity.
func (Activity) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("workspace_id", "kind", "occurred_at"),
		index.Fields("contact_id", "occurred_at"),
		index.Fields("organization_id"),
		index.Fields("deal_id"),
	}
}

// Annotations of the Activity.
func (Activity) Annotations() []schema.Annotation { return crudAnnotations() }
