package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Member is a person who works in a workspace, with a role.
type Member struct{ ent.Schema }

// Mixin of the Member.
func (Member) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "mem"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the Member.
func (Member) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.String("email").NotEmpty().MaxLen(320).Match(emailPattern),
		field.Enum("role").Values("admin", "member", "viewer").Default("member"),
	}
}

// Indexes of the Member.
func (Member) Indexes() []ent.Index {
	return []ent.Index{index.Fields("workspace_id", "email").Unique()}
}

// Annotations of the Member: members are listed by the members query and
// changed only by the member-management mutations (admins only).
func (Member) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}
