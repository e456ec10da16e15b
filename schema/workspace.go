package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// Workspace is a tenant: a team's own CRM. Every other record belongs to
// exactly one workspace. Deleting a workspace archives it: deleted_at is
// set, its tokens are revoked and its automations disabled, its records
// stay (every one references the workspace) but no token reaches them, and
// its slug stays reserved so that it never names another tenant.
type Workspace struct{ ent.Schema }

// Mixin of the Workspace.
func (Workspace) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "wsp"}, TimeMixin{}}
}

// Fields of the Workspace.
func (Workspace) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		field.String("slug").NotEmpty().MaxLen(63).Unique().Immutable().
			Match(slugPattern),
		field.Time("deleted_at").Optional().Nillable().
			Comment("when the workspace was deleted (archived); unset while it is live").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Annotations of the Workspace.
func (Workspace) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)}
}
