-- +goose Up
-- create "work_runs" table
CREATE TABLE "work_runs" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "kind" character varying NOT NULL, "plugin" character varying NOT NULL, "subject_type" character varying NOT NULL, "match" jsonb NULL, "status" character varying NOT NULL DEFAULT 'queued', "total" bigint NOT NULL DEFAULT 0, "done" bigint NOT NULL DEFAULT 0, "failed_batches" bigint NOT NULL DEFAULT 0, "actor" character varying NOT NULL DEFAULT '', "started_at" timestamptz NULL, "finished_at" timestamptz NULL, "workspace_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "work_runs_workspaces_workspace" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- create index "workrun_workspace_id_created_at" to table: "work_runs"
CREATE INDEX "workrun_workspace_id_created_at" ON "work_runs" ("workspace_id", "created_at");
-- create "work_ranges" table
CREATE TABLE "work_ranges" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "first_id" character varying NOT NULL, "last_id" character varying NOT NULL, "count" bigint NOT NULL, "status" character varying NOT NULL DEFAULT 'pending', "attempts" bigint NOT NULL DEFAULT 0, "done" bigint NOT NULL DEFAULT 0, "error" character varying NOT NULL DEFAULT '', "workspace_id" character varying NOT NULL, "run_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "work_ranges_work_runs_run" FOREIGN KEY ("run_id") REFERENCES "work_runs" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "work_ranges_workspaces_workspace" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- create index "workrange_run_id_status" to table: "work_ranges"
CREATE INDEX "workrange_run_id_status" ON "work_ranges" ("run_id", "status");
-- create index "workrange_workspace_id_created_at" to table: "work_ranges"
CREATE INDEX "workrange_workspace_id_created_at" ON "work_ranges" ("workspace_id", "created_at");

-- +goose Down
-- reverse: create index "workrange_workspace_id_created_at" to table: "work_ranges"
DROP INDEX "workrange_workspace_id_created_at";
-- reverse: create index "workrange_run_id_status" to table: "work_ranges"
DROP INDEX "workrange_run_id_status";
-- reverse: create "work_ranges" table
DROP TABLE "work_ranges";
-- reverse: create index "workrun_workspace_id_created_at" to table: "work_runs"
DROP INDEX "workrun_workspace_id_created_at";
-- reverse: create "work_runs" table
DROP TABLE "work_runs";
