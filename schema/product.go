package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Product is something the team sells, with a list price and a unit cost
// (the cost makes margins, and so lifetime value, computable).
type Product struct{ ent.Schema }

// Mixin of the Product.
func (Product) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "prd"}, TimeMixin{}, WorkspaceMixin{}, ExternalMixin{}, SoftDeleteMixin{}}
}

// Fields of the Product.
func (Product) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.String("sku").Optional().MaxLen(64).Annotations(entgql.OrderField("SKU")),
		field.Text("description").Optional().MaxLen(10_000),
		field.Int64("price").GoType(money).Default(0).NonNegative().
			Annotations(entgql.Type("Money"), entgql.OrderField("PRICE")),
		field.Int64("unit_cost").GoType(money).Default(0).NonNegative().Annotations(entgql.Type("Money")),
		field.String("currency").Default("USD").Match(currencyPattern),
		field.Bool("active").Default(true),
	}
}

// Edges of the Product.
func (Product) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("line_items", LineItem.Type).Ref("product").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the Product.
func (Product) Indexes() []ent.Index {
	return []ent.Index{index.Fields("workspace_id", "sku")}
}

// Annotations of the Product.
func (Product) Annotations() []schema.Annotation { return crudAnnotations() }

// LineItem is a product (or free-text item) on a deal or an order, with a
// quantity and unit price; amount = quantity × unit price, kept on write.
type LineItem struct{ ent.Schema }

// Mixin of the LineItem.
func (LineItem) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "lit"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the LineItem.
func (LineItem) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		field.Int("quantity").Default(1).Positive(),
		field.Int64("unit_price").GoType(money).NonNegative().Annotations(entgql.Type("Money")),
		field.Int64("amount").GoType(money).Default(0).
			Annotations(entgql.Type("Money"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.String("product_id").GoType(pulidID).Optional().Nillable(),
		field.String("deal_id").GoType(pulidID).Optional().Nillable(),
		field.String("order_id").GoType(pulidID).Optional().Nillable(),
	}
}

// Edges of the LineItem.
func (LineItem) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("product", Product.Type).Field("product_id").Unique(),
		edge.To("deal", Deal.Type).Field("deal_id").Unique(),
		edge.To("order", Order.Type).Field("order_id").Unique(),
	}
}

// Indexes of the LineItem.
func (LineItem) Indexes() []ent.Index {
	return []ent.Index{index.Fields("deal_id"), index.Fields("order_id"), index.Fields("product_id")}
}

// Annotations of the LineItem.
func (LineItem) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate())}
}
