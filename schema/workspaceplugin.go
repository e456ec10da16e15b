package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// WorkspacePlugin is a plugin package a workspace's admin installed into
// the workspace (see sdk/PACKAGES.md): the package's bytes live here, so
// every server over the database serves it, and only the workspace sees
// it. A workspace holds one package per name and version; installing and
// uninstalling are audited in the timeline.
type WorkspacePlugin struct{ ent.Schema }

// Mixin of the WorkspacePlugin.
func (WorkspacePlugin) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "wpl"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the WorkspacePlugin.
func (WorkspacePlugin) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(63).Immutable(),
		field.String("version").NotEmpty().MaxLen(64).Immutable(),
		field.String("sha256").NotEmpty().MaxLen(64).Immutable().
			Comment("SHA-256 of the package's bytes, in hex: the key its compiled module is shared by"),
		field.Int64("size").NonNegative().Immutable().Comment("the package's bytes"),
		field.Bytes("manifest").Immutable().Comment("the package's plugin.json"),
		field.Bytes("archive").Immutable().Comment("the package file as uploaded"),
		field.String("installed_by").Default("").Immutable(),
		field.Time("installed_at").Default(time.Now).Immutable(),
	}
}

// Indexes of the WorkspacePlugin.
func (WorkspacePlugin) Indexes() []ent.Index {
	return []ent.Index{index.Fields("workspace_id", "name", "version").Unique()}
}

// Annotations of the WorkspacePlugin: GraphQL shows workspace plugins as
// Plugins (origin WORKSPACE), not as records.
func (WorkspacePlugin) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
