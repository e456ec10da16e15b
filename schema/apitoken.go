package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// APIToken grants API access to one workspace with one role. Only a SHA-256
// hash of the secret is stored; the secret is shown once, at creation.
type APIToken struct{ ent.Schema }

// Mixin of the APIToken.
func (APIToken) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "tok"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the APIToken.
func (APIToken) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Default("").MaxLen(200),
		field.String("token_hash").NotEmpty().Unique().Immutable().Sensitive(),
		field.String("hint").Default("").MaxLen(16).Comment("the token's first characters, to tell tokens apart"),
		field.Enum("role").Values("admin", "member", "viewer"),
		field.String("member_id").GoType(pulidID).Optional().Nillable(),
		field.Time("expires_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
		field.Time("last_used_at").Optional().Nillable(),
	}
}

// Edges of the APIToken.
func (APIToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("member", Member.Type).Field("member_id").Unique(),
	}
}

// Annotations of the APIToken: tokens are not exposed in GraphQL.
func (APIToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
