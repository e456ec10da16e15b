package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Organization is a company or other body that contacts work for and that
// buys: an account.
type Organization struct{ ent.Schema }

// Mixin of the Organization.
func (Organization) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "org"}, TimeMixin{}, WorkspaceMixin{}, ExternalMixin{}, SoftDeleteMixin{}, CustomFieldsMixin{Entity: "organization"}}
}

// Fields of the Organization.
func (Organization) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.String("domain").Optional().MaxLen(253).Annotations(entgql.OrderField("DOMAIN")),
		field.String("industry").Optional().MaxLen(100).Annotations(entgql.OrderField("INDUSTRY")),
		field.Int("employees").Optional().Nillable().NonNegative().Annotations(entgql.OrderField("EMPLOYEES")),
		field.String("owner_id").GoType(pulidID).Optional().Nillable(),
	}
}

// Edges of the Organization.
func (Organization) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("owner", Member.Type).Field("owner_id").Unique(),
		edge.From("contacts", Contact.Type).Ref("organization").Annotations(entgql.RelayConnection()),
		edge.From("deals", Deal.Type).Ref("organization").Annotations(entgql.RelayConnection()),
		edge.From("activities", Activity.Type).Ref("organization").Annotations(entgql.RelayConnection()),
		edge.From("orders", Order.Type).Ref("organization").Annotations(entgql.RelayConnection()),
		edge.From("leads", Lead.Type).Ref("organization"),
		edge.To("tags", Tag.Type),
	}
}

// Indexes of the Organization.
func (Organization) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("workspace_id", "name"),
		index.Fields("workspace_id", "domain"),
	}
}

// Annotations of the Organization.
func (Organization) Annotations() []schema.Annotation {
	return crudAnnotations()
}
