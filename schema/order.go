package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Order is a customer revenue event: what a contact or organization bought,
// when, for how much, and at what cost. Refunds are orders with a negative
// amount. Orders are the source of lifetime value, churn and retention.
type Order struct{ ent.Schema }

// Mixin of the Order.
func (Order) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "ord"}, TimeMixin{}, WorkspaceMixin{}, ExternalMixin{}}
}

// Fields of the Order.
func (Order) Fields() []ent.Field {
	return []ent.Field{
		field.String("number").Optional().MaxLen(64).Annotations(entgql.OrderField("NUMBER")),
		field.Int64("amount").GoType(money).Annotations(entgql.Type("Money"), entgql.OrderField("AMOUNT")),
		field.Int64("cost").GoType(money).Default(0).Annotations(entgql.Type("Money")).
			Comment("cost of goods; margin = amount - cost"),
		field.String("currency").Default("USD").Match(currencyPattern),
		field.Time("ordered_at").Annotations(entgql.OrderField("ORDERED_AT")),
		field.String("contact_id").GoType(pulidID).Optional().Nillable(),
		field.String("organization_id").GoType(pulidID).Optional().Nillable(),
		field.String("deal_id").GoType(pulidID).Optional().Nillable(),
	}
}

// Edges of the Order.
func (Order) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("contact", Contact.Type).Field("contact_id").Unique(),
		edge.To("organization", Organization.Type).Field("organization_id").Unique(),
		edge.To("deal", Deal.Type).Field("deal_id").Unique(),
		edge.From("line_items", LineItem.Type).Ref("order"),
	}
}

// Indexes of the Order.
func (Order) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("workspace_id", "ordered_at"),
		index.Fields("contact_id", "ordered_at"),
		index.Fields("organization_id", "ordered_at"),
	}
}

// Annotations of the Order.
func (Order) Annotations() []schema.Annotation { return crudAnnotations() }
