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

// ImportJob is one import of a file into a workspace (see core/transfer):
// the file itself, how its columns map, and how far the import got. An
// import commits in batches and records next_row in the batch's
// transaction, so a job whose process died resumes where it stopped.
type ImportJob struct{ ent.Schema }

// Mixin of the ImportJob.
func (ImportJob) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "imp"}, TimeMixin{}, WorkspaceMixin{}}
}

// Fields of the ImportJob.
func (ImportJob) Fields() []ent.Field {
	return []ent.Field{
		field.String("type").NotEmpty().MaxLen(40).Immutable().
			Comment("the record type imported: contacts, organizations, deals, …"),
		field.String("file_name").Default("").MaxLen(255).Immutable(),
		field.String("file_sha256").NotEmpty().MaxLen(64).Immutable().
			Comment("SHA-256 of the file, in hex: a second run of the same file and options resumes this job"),
		field.Int64("file_size").NonNegative().Immutable(),
		field.Bytes("file").Immutable().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("the file as given, so that any worker can run or resume the job"),
		field.JSON("options", map[string]any{}).Optional().Immutable().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("the import's options: mapping, source, linking, merge, dry run"),
		field.Enum("status").Values("queued", "running", "done", "failed").Default("queued"),
		field.Int("next_row").Default(0).NonNegative().
			Comment("how many data rows are committed: a resumed job starts after them"),
		field.Int("total_rows").Optional().Nillable().NonNegative(),
		field.Int("created").Default(0).NonNegative(),
		field.Int("updated").Default(0).NonNegative(),
		field.Int("unchanged").Default(0).NonNegative(),
		field.Int("failed").Default(0).NonNegative(),
		field.JSON("failed_by_reason", map[string]int{}).Optional().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("error").Default("").MaxLen(2000),
		field.String("actor").Default("").Immutable(),
		field.Time("heartbeat_at").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("when the process working the job last proved alive"),
		field.Time("finished_at").Optional().Nillable(),
	}
}

// Edges of the ImportJob.
func (ImportJob) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("rejects", ImportReject.Type).Ref("job").Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the ImportJob.
func (ImportJob) Indexes() []ent.Index {
	return []ent.Index{index.Fields("workspace_id", "file_sha256")}
}

// Annotations of the ImportJob.
func (ImportJob) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}

// ImportReject is a row of an import that was not taken: its row number
// in the file, the column at fault and why.
type ImportReject struct{ ent.Schema }

// Mixin of the ImportReject.
func (ImportReject) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{Prefix: "imr"}, WorkspaceMixin{}}
}

// Fields of the ImportReject.
func (ImportReject) Fields() []ent.Field {
	return []ent.Field{
		field.String("job_id").GoType(pulidID).Immutable(),
		field.Int("row").Positive().Immutable().Comment("the row's number in the file, the header being row 1"),
		field.String("column").Default("").MaxLen(255).Immutable(),
		field.String("reason").NotEmpty().MaxLen(64).Immutable().Comment("a short code, e.g. invalid_email"),
		field.String("message").Default("").MaxLen(1000).Immutable(),
		field.Time("created_at").Default(time.Now).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the ImportReject.
func (ImportReject) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("job", ImportJob.Type).Field("job_id").Unique().Required().Immutable(),
	}
}

// Annotations of the ImportReject: GraphQL lists rejects through
// ImportJob.rejects, a resolver of its own.
func (ImportReject) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Indexes of the ImportReject.
func (ImportReject) Indexes() []ent.Index {
	return []ent.Index{index.Fields("job_id", "row")}
}
