package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AssessmentAnswer is a workspace's current answer to one question of a
// model's questionnaire (e.g. the QCI assessment): the model names the
// plugin whose question set the question belongs to. Recording an answer
// again replaces it; every change is audited in the timeline.
type AssessmentAnswer struct{ ent.Schema }

// Mixin of the AssessmentAnswer.
func (AssessmentAnswer) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "asa"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the AssessmentAnswer.
func (AssessmentAnswer) Fields() []ent.Field {
	return []ent.Field{
		field.String("plugin").NotEmpty().MaxLen(63).Comment("the plugin whose question set holds the question"),
		field.String("question").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("QUESTION")),
		field.Int("answer").NonNegative(),
		field.Text("note").Optional().MaxLen(2000),
		field.String("answered_by").Default("").Comment("who recorded the answer: member:<id>, token:<id>…"),
	}
}

// Indexes of the AssessmentAnswer.
func (AssessmentAnswer) Indexes() []ent.Index {
	return []ent.Index{index.Fields("workspace_id", "plugin", "question").Unique()}
}

// Annotations of the AssessmentAnswer.
func (AssessmentAnswer) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection(), entgql.MultiOrder(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}
