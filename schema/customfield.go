package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// CustomField defines a workspace's own field on contacts, organizations,
// leads or deals. Values live in the record's customFields object and are
// checked against the definition on every write.
type CustomField struct{ ent.Schema }

// Mixin of the CustomField.
func (CustomField) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "cfd"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the CustomField.
func (CustomField) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("entity").Values("contact", "organization", "lead", "deal").Immutable(),
		field.String("key").NotEmpty().MaxLen(63).Match(keyPattern).Immutable(),
		field.String("label").NotEmpty().MaxLen(200),
		field.Enum("type").Values("text", "number", "boolean", "date", "select").Immutable(),
		field.Strings("options").Optional().Comment("allowed values of a select field"),
		field.Bool("required").Default(false),
	}
}

// Indexes of the CustomField.
func (CustomField) Indexes() []ent.Index {
	return []ent.Index{index.Fields("workspace_id", "entity", "key").Unique()}
}

// Annotations of the CustomField.
func (CustomField) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate())}
}
