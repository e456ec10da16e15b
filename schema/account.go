package schema

import (
	"context"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	gen "github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/privacy"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// Account is a person who signs in with an email and a password. Accounts
// are global, not workspace scoped: a person's workspaces are those with a
// Member of the account's email. Only the password's argon2id hash is
// stored. Accounts are not exposed in GraphQL.
type Account struct{ ent.Schema }

// Mixin of the Account.
func (Account) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "acc"}, TimeMixin{}}
}

// Fields of the Account.
func (Account) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").NotEmpty().MaxLen(320).Unique().Match(emailPattern).
			Comment("lower-cased"),
		field.String("name").Default("").MaxLen(200),
		field.String("password_hash").NotEmpty().Sensitive().
			Comment("argon2id, in the PHC string format"),
		field.Bool("disabled").Default(false),
	}
}

// Edges of the Account.
func (Account) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("sessions", Session.Type).Ref("account"),
	}
}

// Annotations of the Account: not in GraphQL.
func (Account) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the Account: only the operator's code (a system context with
// no viewer) reads or writes accounts.
func (Account) Policy() ent.Policy { return systemOnly("accounts") }

// AccountLink is a one-time link sent to a person: an invite to sign up
// (with the workspace and role it grants) or a password reset. Only the
// SHA-256 hash of its secret is stored.
type AccountLink struct{ ent.Schema }

// Mixin of the AccountLink.
func (AccountLink) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "aln"}, TimeMixin{}}
}

// Fields of the AccountLink.
func (AccountLink) Fields() []ent.Field {
	return []ent.Field{
		field.String("token_hash").NotEmpty().Unique().Immutable().Sensitive(),
		field.Enum("purpose").Values("invite", "reset").Immutable(),
		field.String("email").NotEmpty().MaxLen(320).Immutable().Comment("lower-cased"),
		field.String("workspace_id").GoType(pulidID).Optional().Nillable().Immutable().
			Comment("the workspace an invite is to"),
		field.Enum("role").Values("admin", "member", "viewer").Optional().Nillable().Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
	}
}

// Indexes of the AccountLink.
func (AccountLink) Indexes() []ent.Index {
	return []ent.Index{index.Fields("email")}
}

// Annotations of the AccountLink: not in GraphQL.
func (AccountLink) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the AccountLink: operator's code only.
func (AccountLink) Policy() ent.Policy { return systemOnly("account links") }

// Session is a signed-in browser: an account acting in one of its
// workspaces. Only the SHA-256 hash of the cookie's secret is stored.
type Session struct{ ent.Schema }

// Mixin of the Session.
func (Session) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "ses"}, TimeMixin{}}
}

// Fields of the Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.String("token_hash").NotEmpty().Unique().Immutable().Sensitive(),
		field.String("account_id").GoType(pulidID).Immutable(),
		field.String("workspace_id").GoType(pulidID).Comment("the workspace the session acts in"),
		field.String("csrf").NotEmpty().Sensitive(),
		field.Time("last_seen_at").Default(time.Now),
		field.Time("expires_at").Immutable().Comment("absolute expiry"),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Edges of the Session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("account", Account.Type).Field("account_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Session: an account's sessions are revoked together, and
// ended ones purged by expiry.
func (Session) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id"), index.Fields("expires_at")}
}

// Annotations of the Session: not in GraphQL.
func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the Session: operator's code only.
func (Session) Policy() ent.Policy { return systemOnly("sessions") }

// LoginFailure records one failed sign-in, by email and by client address,
// so that sign-in throttling holds across every server sharing the store.
type LoginFailure struct{ ent.Schema }

// Mixin of the LoginFailure.
func (LoginFailure) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "lgf"}}
}

// Fields of the LoginFailure.
func (LoginFailure) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").MaxLen(320).Immutable().Comment("lower-cased, as typed"),
		field.String("ip").MaxLen(64).Immutable(),
		field.Time("at").Default(time.Now).Immutable(),
	}
}

// Indexes of the LoginFailure.
func (LoginFailure) Indexes() []ent.Index {
	return []ent.Index{index.Fields("email", "at"), index.Fields("ip", "at"), index.Fields("at")}
}

// Annotations of the LoginFailure: not in GraphQL.
func (LoginFailure) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the LoginFailure: operator's code only.
func (LoginFailure) Policy() ent.Policy { return systemOnly("login failures") }

// systemOnly allows reads and writes only to a system context with no
// viewer: nothing a request's viewer does reaches these records.
func systemOnly(what string) privacy.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{privacy.QueryRuleFunc(func(ctx context.Context, _ gen.Query) error {
			if tenancy.IsSystem(ctx) && tenancy.FromContext(ctx) == nil {
				return privacy.Allow
			}
			return errcode.New(errcode.Forbidden, "only the server reads %s", what)
		})},
		Mutation: privacy.MutationPolicy{privacy.MutationRuleFunc(func(ctx context.Context, _ gen.Mutation) error {
			if tenancy.IsSystem(ctx) && tenancy.FromContext(ctx) == nil {
				return privacy.Allow
			}
			return errcode.New(errcode.Forbidden, "only the server changes %s", what)
		})},
	}
}
