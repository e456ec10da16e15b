package schema

import (
	"time"

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
		field.String("key").NotEmpty().MaxLen(64).Match(segmentKeyPattern).Annotations(entgql.OrderField("KEY")),
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.String("description").Optional().MaxLen(2000),
		field.String("source").Default("manual").MaxLen(200).
			Comment(`"manual", or the plugin@version that keeps the membership`),
		field.String("binding_id").GoType(pulidID).Default("").Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("the extension binding whose segmentation runs keep this segment; empty for a hand-made one, which no plugin touches"),
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
	return []ent.Index{index.Fields("workspace_id", "binding_id", "key").Unique(), index.Fields("workspace_id", "key")}
}

// Annotations of the Segment.
func (Segment) Annotations() []schema.Annotation { return crudAnnotations() }

// SegmentMembership puts one subject in a segment, with an optional weight,
// from started_at until ended_at. A membership that ends is kept, so the
// members of a segment on any date can be answered; a subject that enters
// again gets a new row. At most one membership of a subject in a segment
// is open at a time (a partial unique index, written by hand in the
// migrations).
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
		field.Time("started_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("STARTED_AT")).
			Comment("when the subject entered the segment"),
		field.Time("ended_at").Optional().Nillable().
			Comment("when the subject left the segment; unset while it is a member"),
		field.String("run_id").GoType(pulidID).Optional().Nillable().Immutable().Annotations(entgql.Type("ID")).
			Comment("the segmentation run that put the subject in; unset for a hand-made membership"),
		field.String("ended_run_id").GoType(pulidID).Optional().Nillable().Annotations(entgql.Type("ID")).
			Comment("the segmentation run that took the subject out"),
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
		index.Fields("segment_id", "subject_type", "subject_id"),
		index.Fields("workspace_id", "subject_type", "subject_id"),
	}
}

// Annotations of the SegmentMembership.
func (SegmentMembership) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.MultiOrder()}
}
