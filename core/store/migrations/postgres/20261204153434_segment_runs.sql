-- +goose Up
-- drop index "segmentmembership_segment_id_subject_type_subject_id" from table: "segment_memberships"
DROP INDEX "segmentmembership_segment_id_subject_type_subject_id";
-- modify "segment_memberships" table
ALTER TABLE "segment_memberships" ADD COLUMN "started_at" timestamptz NOT NULL DEFAULT now(), ADD COLUMN "ended_at" timestamptz NULL, ADD COLUMN "run_id" character varying NULL, ADD COLUMN "ended_run_id" character varying NULL;
-- existing memberships started when they were made (written by hand)
UPDATE "segment_memberships" SET "started_at" = "created_at";
ALTER TABLE "segment_memberships" ALTER COLUMN "started_at" DROP DEFAULT;
-- create index "segmentmembership_segment_id_subject_type_subject_id" to table: "segment_memberships"
CREATE INDEX "segmentmembership_segment_id_subject_type_subject_id" ON "segment_memberships" ("segment_id", "subject_type", "subject_id");
-- at most one open membership of a subject in a segment (written by hand:
-- the ent schema cannot say a partial index)
CREATE UNIQUE INDEX "segmentmembership_open" ON "segment_memberships" ("segment_id", "subject_type", "subject_id") WHERE "ended_at" IS NULL;
-- drop index "segment_workspace_id_key" from table: "segments"
DROP INDEX "segment_workspace_id_key";
-- modify "segments" table
ALTER TABLE "segments" ADD COLUMN "binding_id" character varying NOT NULL DEFAULT '';
-- create index "segment_workspace_id_key" to table: "segments"
CREATE INDEX "segment_workspace_id_key" ON "segments" ("workspace_id", "key");
-- create index "segment_workspace_id_binding_id_key" to table: "segments"
CREATE UNIQUE INDEX "segment_workspace_id_binding_id_key" ON "segments" ("workspace_id", "binding_id", "key");
-- create "segment_runs" table
CREATE TABLE "segment_runs" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "binding_id" character varying NOT NULL, "plugin" character varying NOT NULL, "subject_type" character varying NOT NULL, "trigger" character varying NOT NULL DEFAULT 'api', "status" character varying NOT NULL DEFAULT 'running', "subjects" bigint NOT NULL DEFAULT 0, "batches" bigint NOT NULL DEFAULT 0, "segmented" bigint NOT NULL DEFAULT 0, "entered" bigint NOT NULL DEFAULT 0, "left" bigint NOT NULL DEFAULT 0, "stayed" bigint NOT NULL DEFAULT 0, "failed_batches" bigint NOT NULL DEFAULT 0, "errors" jsonb NULL, "lock" character varying NULL, "heartbeat_at" timestamptz NOT NULL, "started_at" timestamptz NOT NULL, "finished_at" timestamptz NULL, "workspace_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "segment_runs_workspaces_workspace" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- create index "segment_runs_lock_key" to table: "segment_runs"
CREATE UNIQUE INDEX "segment_runs_lock_key" ON "segment_runs" ("lock");
-- create index "segmentrun_binding_id_started_at" to table: "segment_runs"
CREATE INDEX "segmentrun_binding_id_started_at" ON "segment_runs" ("binding_id", "started_at");
-- create index "segmentrun_workspace_id_created_at" to table: "segment_runs"
CREATE INDEX "segmentrun_workspace_id_created_at" ON "segment_runs" ("workspace_id", "created_at");
-- create index "segmentrun_workspace_id_started_at" to table: "segment_runs"
CREATE INDEX "segmentrun_workspace_id_started_at" ON "segment_runs" ("workspace_id", "started_at");

-- +goose Down
DROP INDEX "segmentmembership_open";
-- reverse: create index "segmentrun_workspace_id_started_at" to table: "segment_runs"
DROP INDEX "segmentrun_workspace_id_started_at";
-- reverse: create index "segmentrun_workspace_id_created_at" to table: "segment_runs"
DROP INDEX "segmentrun_workspace_id_created_at";
-- reverse: create index "segmentrun_binding_id_started_at" to table: "segment_runs"
DROP INDEX "segmentrun_binding_id_started_at";
-- reverse: create index "segment_runs_lock_key" to table: "segment_runs"
DROP INDEX "segment_runs_lock_key";
-- reverse: create "segment_runs" table
DROP TABLE "segment_runs";
-- reverse: create index "segment_workspace_id_binding_id_key" to table: "segments"
DROP INDEX "segment_workspace_id_binding_id_key";
-- reverse: create index "segment_workspace_id_key" to table: "segments"
DROP INDEX "segment_workspace_id_key";
-- reverse: modify "segments" table
ALTER TABLE "segments" DROP COLUMN "binding_id";
-- reverse: drop index "segment_workspace_id_key" from table: "segments"
CREATE UNIQUE INDEX "segment_workspace_id_key" ON "segments" ("workspace_id", "key");
-- reverse: create index "segmentmembership_segment_id_subject_type_subject_id" to table: "segment_memberships"
DROP INDEX "segmentmembership_segment_id_subject_type_subject_id";
-- reverse: modify "segment_memberships" table
ALTER TABLE "segment_memberships" DROP COLUMN "ended_run_id", DROP COLUMN "run_id", DROP COLUMN "ended_at", DROP COLUMN "started_at";
-- reverse: drop index "segmentmembership_segment_id_subject_type_subject_id" from table: "segment_memberships"
CREATE UNIQUE INDEX "segmentmembership_segment_id_subject_type_subject_id" ON "segment_memberships" ("segment_id", "subject_type", "subject_id");
