package schema

import (
	"context"

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

// Deal is an opportunity to sell, moving through a pipeline's stages until
// it is won or lost.
type Deal struct{ ent.Schema }

// Mixin of the Deal.
func (Deal) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "del"}, TimeMixin{}, WorkspaceMixin{}, ExternalMixin{}, SoftDeleteMixin{}, CustomFieldsMixin{Entity: "deal"}}
}

// Fields of the Deal.
func (Deal) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.Int64("amount").GoType(money).Default(0).NonNegative().
			Annotations(entgql.Type("Money"), entgql.OrderField("AMOUNT")),
		field.String("currency").Default("USD").Match(currencyPattern),
		field.Enum("status").Values("open", "won", "lost").Default("open").
			Annotations(entgql.OrderField("STATUS"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Float("probability").Optional().Nillable().Min(0).Max(1).
			Comment("the deal's own win probability, 0 to 1; when unset the stage's applies"),
		field.Time("expected_close_date").Optional().Nillable().Annotations(entgql.OrderField("EXPECTED_CLOSE_DATE")),
		field.Time("closed_at").Optional().Nillable().
			Annotations(entgql.OrderField("CLOSED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.String("lost_reason").Optional().MaxLen(500),
		field.String("pipeline_id").GoType(pulidID),
		field.String("stage_id").GoType(pulidID).
			Annotations(entgql.Skip(entgql.SkipMutationUpdateInput)),
		field.String("contact_id").GoType(pulidID).Optional().Nillable(),
		field.String("organization_id").GoType(pulidID).Optional().Nillable(),
		field.String("owner_id").GoType(pulidID).Optional().Nillable(),
	}
}

// Edges of the Deal.
func (Deal) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("pipeline", Pipeline.Type).Field("pipeline_id").Unique().Required(),
		edge.To("stage", Stage.Type).Field("stage_id").Unique().Required().
			Annotations(entgql.Skip(entgql.SkipMutationUpdateInput)),
		edge.To("contact", Contact.Type).Field("contact_id").Unique(),
		edge.To("organization", Organization.Type).Field("organization_id").Unique(),
		edge.To("owner", Member.Type).Field("owner_id").Unique(),
		edge.From("line_items", LineItem.Type).Ref("deal"),
		edge.From("stage_changes", StageChange.Type).Ref("deal").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.From("activities", Activity.Type).Ref("deal").Annotations(entgql.RelayConnection()),
		edge.From("orders", Order.Type).Ref("deal"),
		edge.To("lead", Lead.Type).Unique().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.To("tags", Tag.Type),
	}
}

// Indexes of the Deal.
func (Deal) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("workspace_id", "status"),
		index.Fields("workspace_id", "expected_close_date"),
		index.Fields("stage_id"),
		index.Fields("pipeline_id"),
		index.Fields("contact_id"),
		index.Fields("organization_id"),
	}
}

// Annotations of the Deal.
func (Deal) Annotations() []schema.Annotation { return crudAnnotations() }

// StageChange records one move of a deal between stages; stage conversion
// metrics are computed from these rows.
type StageChange struct{ ent.Schema }

// Mixin of the StageChange.
func (StageChange) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "stc"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the StageChange.
func (StageChange) Fields() []ent.Field {
	return []ent.Field{
		field.String("deal_id").GoType(pulidID).Immutable(),
		field.String("from_stage_id").GoType(pulidID).Optional().Nillable().Immutable(),
		field.String("to_stage_id").GoType(pulidID).Immutable(),
		field.Time("changed_at").Immutable().Annotations(entgql.OrderField("CHANGED_AT")),
		field.String("actor").Default("").Immutable(),
	}
}

// Edges of the StageChange.
func (StageChange) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("deal", Deal.Type).Field("deal_id").Unique().Required().Immutable(),
		edge.To("from_stage", Stage.Type).Field("from_stage_id").Unique().Immutable(),
		edge.To("to_stage", Stage.Type).Field("to_stage_id").Unique().Required().Immutable(),
	}
}

// Indexes of the StageChange.
func (StageChange) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("deal_id", "changed_at"),
		index.Fields("workspace_id", "changed_at"),
	}
}

// Policy of the StageChange: the stage history is append-only; only the
// operator's tools (a system context without a viewer) may rewrite it.
func (StageChange) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			privacy.MutationRuleFunc(func(ctx context.Context, m gen.Mutation) error {
				if m.Op().Is(ent.OpCreate) || (tenancy.IsSystem(ctx) && tenancy.FromContext(ctx) == nil) {
					return privacy.Skip
				}
				return errcode.New(errcode.Forbidden, "stage history is append-only")
			}),
		},
	}
}

// Annotations of the StageChange.
func (StageChange) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.MultiOrder()}
}
