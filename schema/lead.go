package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Lead is a prospective deal not yet qualified. Converting a lead creates a
// deal (and links the lead to it).
type Lead struct{ ent.Schema }

// Mixin of the Lead.
func (Lead) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "led"}, TimeMixin{}, WorkspaceMixin{}, ExternalMixin{}, SoftDeleteMixin{}, CustomFieldsMixin{Entity: "lead"}}
}

// Fields of the Lead.
func (Lead) Fields() []ent.Field {
	return []ent.Field{
		field.String("title").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("TITLE")),
		field.String("first_name").Optional().MaxLen(100),
		field.String("last_name").Optional().MaxLen(100),
		field.String("email").Optional().MaxLen(320).Validate(validEmail),
		field.String("phone").Optional().MaxLen(40),
		field.String("company").Optional().MaxLen(200),
		field.String("source").Optional().MaxLen(100).Annotations(entgql.OrderField("SOURCE")),
		field.Enum("status").Values("new", "contacted", "qualified", "unqualified", "converted").Default("new").
			Annotations(entgql.OrderField("STATUS")),
		field.Int64("estimated_value").GoType(money).Optional().NonNegative().Annotations(entgql.Type("Money")),
		field.String("currency").Default("USD").Match(currencyPattern),
		field.Time("converted_at").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.String("organization_id").GoType(pulidID).Optional().Nillable(),
		field.String("contact_id").GoType(pulidID).Optional().Nillable(),
		field.String("deal_id").GoType(pulidID).Optional().Nillable().Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.String("owner_id").GoType(pulidID).Optional().Nillable(),
	}
}

// Edges of the Lead.
func (Lead) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("organization", Organization.Type).Field("organization_id").Unique(),
		edge.To("contact", Contact.Type).Field("contact_id").Unique(),
		edge.From("deal", Deal.Type).Ref("lead").Field("deal_id").Unique().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.To("owner", Member.Type).Field("owner_id").Unique(),
		edge.From("activities", Activity.Type).Ref("lead"),
	}
}

// Indexes of the Lead.
func (Lead) Indexes() []ent.Index {
	return []ent.Index{index.Fields("workspace_id", "status")}
}

// Annotations of the Lead.
func (Lead) Annotations() []schema.Annotation { return crudAnnotations() }
