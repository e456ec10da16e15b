-- +goose Up
-- create "automations" table
CREATE TABLE "automations" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "deleted_at" timestamptz NULL, "name" character varying NOT NULL, "enabled" boolean NOT NULL DEFAULT true, "event" character varying NULL, "schedule" jsonb NULL, "condition" jsonb NULL, "actions" jsonb NOT NULL, "assign_cursor" bigint NOT NULL DEFAULT 0, "workspace_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "automations_workspaces_workspace" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- create index "automation_workspace_id_created_at" to table: "automations"
CREATE INDEX "automation_workspace_id_created_at" ON "automations" ("workspace_id", "created_at");
-- create index "automation_workspace_id_event" to table: "automations"
CREATE INDEX "automation_workspace_id_event" ON "automations" ("workspace_id", "event");
-- create "automation_runs" table
CREATE TABLE "automation_runs" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "key" character varying NOT NULL, "trigger" character varying NOT NULL, "event_id" character varying NULL, "subject_type" character varying NOT NULL, "subject_id" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'pending', "depth" bigint NOT NULL DEFAULT 0, "queued" boolean NOT NULL DEFAULT false, "attempts" bigint NOT NULL DEFAULT 0, "error" character varying NULL, "actions" jsonb NOT NULL, "steps" jsonb NULL, "fired_at" timestamptz NOT NULL, "finished_at" timestamptz NULL, "workspace_id" character varying NOT NULL, "automation_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "automation_runs_automations_automation" FOREIGN KEY ("automation_id") REFERENCES "automations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "automation_runs_workspaces_workspace" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- create index "automation_runs_key_key" to table: "automation_runs"
CREATE UNIQUE INDEX "automation_runs_key_key" ON "automation_runs" ("key");
-- create index "automationrun_automation_id_fired_at" to table: "automation_runs"
CREATE INDEX "automationrun_automation_id_fired_at" ON "automation_runs" ("automation_id", "fired_at");
-- create index "automationrun_status_queued" to table: "automation_runs"
CREATE INDEX "automationrun_status_queued" ON "automation_runs" ("status", "queued");
-- create index "automationrun_workspace_id_created_at" to table: "automation_runs"
CREATE INDEX "automationrun_workspace_id_created_at" ON "automation_runs" ("workspace_id", "created_at");
-- create index "automationrun_workspace_id_fired_at" to table: "automation_runs"
CREATE INDEX "automationrun_workspace_id_fired_at" ON "automation_runs" ("workspace_id", "fired_at");
-- create "deliveries" table
CREATE TABLE "deliveries" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "automation_id" character varying NOT NULL, "key" character varying NOT NULL, "step" bigint NOT NULL, "kind" character varying NOT NULL, "target" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'pending', "attempts" bigint NOT NULL DEFAULT 0, "last_error" character varying NULL, "response_status" bigint NULL, "delivered_at" timestamptz NULL, "workspace_id" character varying NOT NULL, "run_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "deliveries_automation_runs_run" FOREIGN KEY ("run_id") REFERENCES "automation_runs" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "deliveries_workspaces_workspace" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- create index "deliveries_key_key" to table: "deliveries"
CREATE UNIQUE INDEX "deliveries_key_key" ON "deliveries" ("key");
-- create index "delivery_run_id" to table: "deliveries"
CREATE INDEX "delivery_run_id" ON "deliveries" ("run_id");
-- create index "delivery_workspace_id_created_at" to table: "deliveries"
CREATE INDEX "delivery_workspace_id_created_at" ON "deliveries" ("workspace_id", "created_at");
-- create "events" table
CREATE TABLE "events" ("id" character varying NOT NULL, "type" character varying NOT NULL, "subject_type" character varying NOT NULL, "subject_id" character varying NOT NULL, "actor" character varying NOT NULL DEFAULT '', "changes" jsonb NULL, "depth" bigint NOT NULL DEFAULT 0, "occurred_at" timestamptz NOT NULL, "created_at" timestamptz NOT NULL, "dispatched_at" timestamptz NULL, "workspace_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "events_workspaces_workspace" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- create index "event_dispatched_at_occurred_at" to table: "events"
CREATE INDEX "event_dispatched_at_occurred_at" ON "events" ("dispatched_at", "occurred_at");
-- create index "event_workspace_id_created_at" to table: "events"
CREATE INDEX "event_workspace_id_created_at" ON "events" ("workspace_id", "created_at");

-- +goose Down
-- reverse: create index "event_workspace_id_created_at" to table: "events"
DROP INDEX "event_workspace_id_created_at";
-- reverse: create index "event_dispatched_at_occurred_at" to table: "events"
DROP INDEX "event_dispatched_at_occurred_at";
-- reverse: create "events" table
DROP TABLE "events";
-- reverse: create index "delivery_workspace_id_created_at" to table: "deliveries"
DROP INDEX "delivery_workspace_id_created_at";
-- reverse: create index "delivery_run_id" to table: "deliveries"
DROP INDEX "delivery_run_id";
-- reverse: create index "deliveries_key_key" to table: "deliveries"
DROP INDEX "deliveries_key_key";
-- reverse: create "deliveries" table
DROP TABLE "deliveries";
-- reverse: create index "automationrun_workspace_id_fired_at" to table: "automation_runs"
DROP INDEX "automationrun_workspace_id_fired_at";
-- reverse: create index "automationrun_workspace_id_created_at" to table: "automation_runs"
DROP INDEX "automationrun_workspace_id_created_at";
-- reverse: create index "automationrun_status_queued" to table: "automation_runs"
DROP INDEX "automationrun_status_queued";
-- reverse: create index "automationrun_automation_id_fired_at" to table: "automation_runs"
DROP INDEX "automationrun_automation_id_fired_at";
-- reverse: create index "automation_runs_key_key" to table: "automation_runs"
DROP INDEX "automation_runs_key_key";
-- reverse: create "automation_runs" table
DROP TABLE "automation_runs";
-- reverse: create index "automation_workspace_id_event" to table: "automations"
DROP INDEX "automation_workspace_id_event";
-- reverse: create index "automation_workspace_id_created_at" to table: "automations"
DROP INDEX "automation_workspace_id_created_at";
-- reverse: create "automations" table
DROP TABLE "automations";
