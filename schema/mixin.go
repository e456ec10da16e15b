// Package schema is Rapport's data model, written as ent schema: one file
// per entity, with the cross-cutting parts (identifiers, timestamps,
// workspace scope, soft delete, custom fields) as mixins. The generated
// code lives in core/ent; regenerate it with `go generate ./core/ent`.
package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"github.com/rapportcrm/rapport/core/pulid"
)

// PrefixAnnotation records the ID prefix of an entity; code generation
// turns it into the table lookup the GraphQL node resolver uses.
type PrefixAnnotation struct {
	Prefix string
}

// Name implements schema.Annotation.
func (PrefixAnnotation) Name() string { return "PULID" }

// IDMixin gives an entity a prefixed ULID primary key.
type IDMixin struct {
	mixin.Schema
	Prefix string
}

// Fields of the IDMixin.
func (m IDMixin) Fields() []ent.Field {
	p := m.Prefix
	return []ent.Field{
		field.String("id").
			GoType(pulid.ID("")).
			MaxLen(40).
			Immutable().
			DefaultFunc(func() pulid.ID { return pulid.New(p) }),
	}
}

// Annotations of the IDMixin.
func (m IDMixin) Annotations() []schema.Annotation {
	return []schema.Annotation{PrefixAnnotation{Prefix: m.Prefix}}
}

// TimeMixin records when a record was created and last updated.
type TimeMixin struct{ mixin.Schema }

// Fields of the TimeMixin.
func (TimeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(entgql.OrderField("CREATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("updated_at").
			Default(time.Now).
			UpdateDefault(time.Now).
			Annotations(entgql.OrderField("UPDATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// WorkspaceMixin puts an entity in a workspace. The workspace_id is set
// from the caller's identity on create, never from input, and every query
// and write is filtered to the caller's workspace by the policy in
// policy.go.
type WorkspaceMixin struct{ mixin.Schema }

// Fields of the WorkspaceMixin.
func (WorkspaceMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("workspace_id").
			GoType(pulid.ID("")).
			Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the WorkspaceMixin.
func (WorkspaceMixin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("workspace", Workspace.Type).
			Field("workspace_id").
			Unique().
			Required().
			Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the WorkspaceMixin.
func (WorkspaceMixin) Indexes() []ent.Index {
	return []ent.Index{index.Fields("workspace_id", "created_at")}
}

// SoftDeleteMixin keeps deleted records as tombstones: a delete sets
// deleted_at, and queries no longer see the record.
type SoftDeleteMixin struct{ mixin.Schema }

// Fields of the SoftDeleteMixin.
func (SoftDeleteMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("deleted_at").
			Optional().
			Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Annotations of the SoftDeleteMixin.
func (SoftDeleteMixin) Annotations() []schema.Annotation {
	return []schema.Annotation{SoftDeleteAnnotation{Enabled: true}}
}

// SoftDeleteAnnotation marks an entity whose deletes are soft.
type SoftDeleteAnnotation struct{ Enabled bool }

// Name implements schema.Annotation.
func (SoftDeleteAnnotation) Name() string { return "SoftDelete" }

// CustomFieldsMixin gives an entity workspace-defined custom fields, kept as
// one JSON object and checked against the workspace's CustomField
// definitions on every write.
type CustomFieldsMixin struct {
	mixin.Schema
	// Entity is the CustomField.entity value this mixin validates against.
	Entity string
}

// Fields of the CustomFieldsMixin.
func (CustomFieldsMixin) Fields() []ent.Field {
	return []ent.Field{
		field.JSON("custom_fields", map[string]any{}).
			Optional().
			Annotations(entgql.Type("Map")),
	}
}

// ExternalMixin keeps the identity a record had in the system it was
// imported from: the source (e.g. pipedrive, hubspot, salesforce, or a
// file's own name) and the source's ID. A workspace holds at most one
// record of a type per (source, ID), which makes imports idempotent: a
// second run updates the records the first one created.
type ExternalMixin struct{ mixin.Schema }

// Fields of the ExternalMixin.
func (ExternalMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("external_source").Optional().Nillable().MaxLen(40).Match(externalSourcePattern).
			Comment("the system the record was imported from"),
		field.String("external_id").Optional().Nillable().MaxLen(200).
			Comment("the record's ID in that system"),
	}
}

// Indexes of the ExternalMixin.
func (ExternalMixin) Indexes() []ent.Index {
	return []ent.Index{index.Fields("workspace_id", "external_source", "external_id").Unique()}
}
