package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// subjectTypes are the records that scores and segments are about.
var subjectTypes = []string{"contact", "organization", "lead", "deal"}

// Segment is a named group of subjects, kept by hand or by a segmentation
// plugin.
type Segment struct{ ent.Schema }

// Mixin of the Segment.
func (Segment) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "seg"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the Segment.
func (Segment) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").NotEmpty().MaxLen(63).Match(keyPattern).Annotations(entgql.OrderField("KEY")),
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.String("description").Optional().MaxLen(2000),
		field.String("source").Default("manual").MaxLen(200).
			Comment(`"manual", or the plugin@version that keeps the membership`),
	}
}

// Edges of the Segment.
func (Segment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("memberships", SegmentMembership.Type).Ref("segment").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the Segment.
func (Segment) Indexes() []ent.Index {
	return []ent.Index{index.Fields("workspace_id", "key").Unique()}
}

// Annotations of the Segment.
func (Segment) Annotations() []schema.Annotation { return crudAnnotations() }

// SegmentMembership puts one subject in a segment, with an optional weight.
type SegmentMembership struct{ ent.Schema }

// Mixin of the SegmentMembership.
func (SegmentMembership) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "sgm"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the SegmentMembership.
func (SegmentMembership) Fields() []ent.Field {
	return []ent.Field{
		field.String("segment_id").GoType(pulidID),
		field.Enum("subject_type").Values(subjectTypes...),
		field.String("subject_id").GoType(pulidID).Annotations(entgql.Type("ID")),
		field.Float("weight").Optional().Nillable(),
	}
}

// Edges of the SegmentMembership.
func (SegmentMembership) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("segment", Segment.Type).Field("segment_id").Unique().Required(),
	}
}

// Indexes of the SegmentMembership.
func (SegmentMembership) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("segment_id", "subject_type", "subject_id").Unique(),
		index.Fields("workspace_id", "subject_type", "subject_id"),
	}
}

// Annotations of the SegmentMembership.
func (SegmentMembership) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
