package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/rapportcrm/rapport/core/crm"
)

// Score is one computed score of a subject by a scoring plugin, with the
// explanation the plugin gave. Scores are append-only: rescoring adds rows.
type Score struct{ ent.Schema }

// Mixin of the Score.
func (Score) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "scr"}, WorkspaceMixin{}}
}

// Fields of the Score.
func (Score) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("subject_type").Values(subjectTypes...).Immutable(),
		field.String("subject_id").GoType(pulidID).Annotations(entgql.Type("ID")).Immutable(),
		field.String("point").Default("score").Immutable().Comment("extension point that produced it"),
		field.String("plugin").NotEmpty().Immutable().Annotations(entgql.OrderField("PLUGIN")),
		field.String("plugin_version").NotEmpty().Immutable(),
		field.Float("value").Immutable().Annotations(entgql.OrderField("VALUE")),
		field.String("label").Optional().Immutable(),
		field.JSON("explanation", []crm.Factor{}).Optional().Immutable().Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Time("computed_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("COMPUTED_AT")),
		field.Time("created_at").Default(time.Now).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the Score.
func (Score) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("workspace_id", "subject_type", "subject_id", "computed_at"),
		index.Fields("workspace_id", "plugin", "computed_at"),
	}
}

// Annotations of the Score.
func (Score) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection(), entgql.MultiOrder()}
}
