package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ExtensionBinding binds an extension point of a workspace to one version
// of a plugin, with its configuration. Scoring the workspace's leads, say,
// runs the plugin its (score, lead) binding names. Changes are audited in
// the timeline like any record's.
type ExtensionBinding struct{ ent.Schema }

// Mixin of the ExtensionBinding.
func (ExtensionBinding) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "ext"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the ExtensionBinding.
func (ExtensionBinding) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("point").Values("score", "segment", "report"),
		field.Enum("subject_type").Values(subjectTypes...).Optional().Nillable().
			Comment("the subjects this binding serves; unset serves every type"),
		field.String("plugin").NotEmpty().MaxLen(63),
		field.String("version").NotEmpty().MaxLen(64),
		field.JSON("config", map[string]any{}).Optional().Annotations(entgql.Type("Map")),
	}
}

// Indexes of the ExtensionBinding.
func (ExtensionBinding) Indexes() []ent.Index {
	return []ent.Index{index.Fields("workspace_id", "point", "subject_type")}
}

// Annotations of the ExtensionBinding.
func (ExtensionBinding) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}
