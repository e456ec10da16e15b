package schema

import (
	"encoding/json"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// WorkRun is one background run of a plugin over a workspace's subjects
// (scoring or segmentation, see core/extension/runjob): what it runs and over which
// subjects, and how far it got. The matching subjects are split, when the
// run is started, into WorkRanges of consecutive IDs, each worked by a
// queue job of its own on whichever worker takes it.
type WorkRun struct{ ent.Schema }

// Mixin of the WorkRun.
func (WorkRun) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "wrn"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the WorkRun.
func (WorkRun) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("score", "segment").Immutable().Annotations(entgql.OrderField("KIND")).
			Comment("what the run does to each subject"),
		field.String("plugin").NotEmpty().MaxLen(200).Immutable().
			Comment("plugin@version bound when the run started: a range finding another bound fails"),
		field.Enum("subject_type").Values(subjectTypes...).Immutable(),
		field.String("segment_run_id").GoType(pulidID).Optional().Nillable().Immutable().Annotations(entgql.Type("ID")).
			Comment("a segmentation run's SegmentRun, which holds the binding's lock while the run goes on and counts what it changed"),
		field.JSON("match", json.RawMessage{}).Optional().Immutable().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("the where filter, as the API's where input in JSON; a range works the subjects of its IDs that still match it"),
		field.Enum("status").Values("queued", "running", "succeeded", "failed", "canceled").Default("queued").
			Annotations(entgql.OrderField("STATUS")),
		field.Int("total").Default(0).NonNegative().Comment("subjects that matched when the run started"),
		field.Int("done").Default(0).NonNegative().
			Comment("subjects worked and stored, added in each range's own transaction"),
		field.Int("failed_batches").Default(0).NonNegative().Comment("ranges that failed"),
		field.String("actor").Default("").Immutable().Comment("member:ID or token:ID that started the run"),
		field.Time("started_at").Optional().Nillable(),
		field.Time("finished_at").Optional().Nillable(),
	}
}

// Edges of the WorkRun.
func (WorkRun) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("ranges", WorkRange.Type).Ref("run").Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Annotations of the WorkRun.
func (WorkRun) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(), entgql.RelayConnection(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// WorkRange is the part of a WorkRun one queue job works: the run's
// subjects whose IDs lie in [first_id, last_id]. Its status becomes done
// (or failed) in the transaction that stores its results, so a worker
// that dies mid-range leaves nothing of it, and the retry redoes it all.
type WorkRange struct{ ent.Schema }

// Mixin of the WorkRange.
func (WorkRange) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "wrg"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the WorkRange.
func (WorkRange) Fields() []ent.Field {
	return []ent.Field{
		field.String("run_id").GoType(pulidID).Immutable(),
		field.String("first_id").GoType(pulidID).Immutable().Comment("the range's first subject ID"),
		field.String("last_id").GoType(pulidID).Immutable().Comment("the range's last subject ID, inclusive"),
		field.Int("count").NonNegative().Immutable().Comment("subjects in the range when the run started"),
		field.Enum("status").Values("pending", "done", "failed").Default("pending"),
		field.Int("attempts").Default(0).NonNegative().Comment("times a worker started on the range"),
		field.Int("done").Default(0).NonNegative().Comment("subjects worked and stored"),
		field.String("error").Default("").MaxLen(2000),
	}
}

// Edges of the WorkRange.
func (WorkRange) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("run", WorkRun.Type).Field("run_id").Unique().Required().Immutable(),
	}
}

// Indexes of the WorkRange.
func (WorkRange) Indexes() []ent.Index {
	return []ent.Index{index.Fields("run_id", "status")}
}

// Annotations of the WorkRange: GraphQL shows a run's ranges as counts.
func (WorkRange) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
