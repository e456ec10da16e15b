package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// SegmentRun is one run of a segmentation plugin over a workspace's
// subjects: which binding and plugin version ran, over what, and what it
// changed. Its counts are updated in the transaction of each batch it
// stores, so they always match the memberships the run left behind, even
// when the process running it dies.
type SegmentRun struct{ ent.Schema }

// Mixin of the SegmentRun.
func (SegmentRun) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "sgr"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the SegmentRun.
func (SegmentRun) Fields() []ent.Field {
	return []ent.Field{
		field.String("binding_id").GoType(pulidID).Immutable().Annotations(entgql.Type("ID")),
		field.String("plugin").NotEmpty().MaxLen(200).Immutable().Annotations(entgql.OrderField("PLUGIN")).
			Comment("plugin@version that segmented"),
		field.Enum("subject_type").Values(subjectTypes...).Immutable(),
		field.String("trigger").Default("api").MaxLen(100).Immutable().
			Comment("what started the run: api, cli, demo or automation"),
		field.Enum("status").Values("running", "succeeded", "partial", "failed", "interrupted").Default("running").
			Annotations(entgql.OrderField("STATUS")).
			Comment("partial: some batches failed; interrupted: the process running it stopped"),
		field.Int("subjects").Default(0).NonNegative().Comment("subjects that matched"),
		field.Int("batches").Default(0).NonNegative(),
		field.Int("segmented").Default(0).NonNegative().Comment("subjects whose memberships were computed and stored"),
		field.Int("entered").Default(0).NonNegative().Comment("memberships the run started"),
		field.Int("left").Default(0).NonNegative().Comment("memberships the run ended"),
		field.Int("stayed").Default(0).NonNegative().Comment("memberships the run kept"),
		field.Int("failed_batches").Default(0).NonNegative(),
		field.JSON("errors", []string{}).Optional().Annotations(entgql.Skip(entgql.SkipWhereInput)).
			Comment("what went wrong with the failed batches, at most 10"),
		field.String("lock").Optional().Nillable().Unique().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("binding and subject type while running, so that two runs of one binding never interleave; cleared when it ends"),
		field.String("holder").Default("").MaxLen(300).Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("host:pid of the process running it, so that a run on the same host whose process is gone is taken over at once"),
		field.Time("heartbeat_at").Default(time.Now).Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("when the run last stored a batch: a lock whose run stopped beating is taken over"),
		field.Time("started_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("STARTED_AT")),
		field.Time("finished_at").Optional().Nillable(),
	}
}

// Indexes of the SegmentRun.
func (SegmentRun) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("workspace_id", "started_at"),
		index.Fields("binding_id", "started_at"),
	}
}

// Annotations of the SegmentRun.
func (SegmentRun) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(), entgql.RelayConnection(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}
