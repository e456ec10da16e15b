package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Contact is a person the team deals with, usually at an organization.
type Contact struct{ ent.Schema }

// Mixin of the Contact.
func (Contact) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "con"}, TimeMixin{}, WorkspaceMixin{}, ExternalMixin{}, SoftDeleteMixin{}, CustomFieldsMixin{Entity: "contact"}}
}

// Fields of the Contact.
func (Contact) Fields() []ent.Field {
	return []ent.Field{
		field.String("first_name").Default("").MaxLen(100).Annotations(entgql.OrderField("FIRST_NAME")),
		field.String("last_name").NotEmpty().MaxLen(100).Annotations(entgql.OrderField("LAST_NAME")),
		field.String("email").Optional().MaxLen(320).Validate(validEmail).Annotations(entgql.OrderField("EMAIL")),
		field.String("phone").Optional().MaxLen(40),
		field.String("title").Optional().MaxLen(200),
		field.String("organization_id").GoType(pulidID).Optional().Nillable(),
		field.String("owner_id").GoType(pulidID).Optional().Nillable(),
	}
}

// Edges of the Contact.
func (Contact) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("organization", Organization.Type).Field("organization_id").Unique(),
		edge.To("owner", Member.Type).Field("owner_id").Unique(),
		edge.From("deals", Deal.Type).Ref("contact").Annotations(entgql.RelayConnection()),
		edge.From("activities", Activity.Type).Ref("contact").Annotations(entgql.RelayConnection()),
		edge.From("orders", Order.Type).Ref("contact").Annotations(entgql.RelayConnection()),
		edge.From("leads", Lead.Type).Ref("contact"),
		edge.To("tags", Tag.Type),
	}
}

// Indexes of the Contact.
func (Contact) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("workspace_id", "last_name", "first_name"),
		index.Fields("workspace_id", "email"),
		index.Fields("organization_id"),
	}
}

// Annotations of the Contact.
func (Contact) Annotations() []schema.Annotation { return crudAnnotations() }
