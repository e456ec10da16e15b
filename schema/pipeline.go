package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Pipeline is an ordered sequence of stages that deals move through.
type Pipeline struct{ ent.Schema }

// Mixin of the Pipeline.
func (Pipeline) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "pip"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the Pipeline.
func (Pipeline) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.Bool("is_default").Default(false),
	}
}

// Edges of the Pipeline.
func (Pipeline) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("stages", Stage.Type).Ref("pipeline"),
		edge.From("deals", Deal.Type).Ref("pipeline").Annotations(entgql.RelayConnection()),
	}
}

// Annotations of the Pipeline.
func (Pipeline) Annotations() []schema.Annotation { return crudAnnotations() }

// Stage is one step of a pipeline. Stages are ordered by position; a stage
// of kind won or lost is terminal, and moving a deal there closes it.
type Stage struct{ ent.Schema }

// Mixin of the Stage.
func (Stage) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "stg"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the Stage.
func (Stage) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.Int("position").NonNegative().Annotations(entgql.OrderField("POSITION")),
		field.Float("probability").Min(0).Max(1).Default(0).
			Comment("win probability of a deal in this stage, 0 to 1").
			Annotations(entgql.OrderField("PROBABILITY")),
		field.Enum("kind").Values("open", "won", "lost").Default("open"),
		field.String("pipeline_id").GoType(pulidID).Immutable(),
	}
}

// Edges of the Stage.
func (Stage) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("pipeline", Pipeline.Type).Field("pipeline_id").Unique().Required().Immutable(),
		edge.From("deals", Deal.Type).Ref("stage").Annotations(entgql.RelayConnection()),
	}
}

// Indexes of the Stage.
func (Stage) Indexes() []ent.Index {
	return []ent.Index{index.Fields("pipeline_id", "position")}
}

// Annotations of the Stage.
func (Stage) Annotations() []schema.Annotation { return crudAnnotations() }
