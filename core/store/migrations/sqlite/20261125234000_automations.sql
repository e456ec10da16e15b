-- +goose Up
-- create "automations" table
CREATE TABLE `automations` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `deleted_at` datetime NULL, `name` text NOT NULL, `enabled` bool NOT NULL DEFAULT (true), `event` text NULL, `schedule` json NULL, `condition` json NULL, `actions` json NOT NULL, `assign_cursor` integer NOT NULL DEFAULT (0), `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `automations_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "automation_workspace_id_created_at" to table: "automations"
CREATE INDEX `automation_workspace_id_created_at` ON `automations` (`workspace_id`, `created_at`);
-- create index "automation_workspace_id_event" to table: "automations"
CREATE INDEX `automation_workspace_id_event` ON `automations` (`workspace_id`, `event`);
-- create "automation_runs" table
CREATE TABLE `automation_runs` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `key` text NOT NULL, `trigger` text NOT NULL, `event_id` text NULL, `subject_type` text NOT NULL, `subject_id` text NOT NULL, `status` text NOT NULL DEFAULT ('pending'), `depth` integer NOT NULL DEFAULT (0), `queued` bool NOT NULL DEFAULT (false), `attempts` integer NOT NULL DEFAULT (0), `error` text NULL, `actions` json NOT NULL, `steps` json NULL, `fired_at` datetime NOT NULL, `finished_at` datetime NULL, `workspace_id` text NOT NULL, `automation_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `automation_runs_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `automation_runs_automations_automation` FOREIGN KEY (`automation_id`) REFERENCES `automations` (`id`) ON DELETE NO ACTION);
-- create index "automation_runs_key_key" to table: "automation_runs"
CREATE UNIQUE INDEX `automation_runs_key_key` ON `automation_runs` (`key`);
-- create index "automationrun_workspace_id_created_at" to table: "automation_runs"
CREATE INDEX `automationrun_workspace_id_created_at` ON `automation_runs` (`workspace_id`, `created_at`);
-- create index "automationrun_workspace_id_fired_at" to table: "automation_runs"
CREATE INDEX `automationrun_workspace_id_fired_at` ON `automation_runs` (`workspace_id`, `fired_at`);
-- create index "automationrun_automation_id_fired_at" to table: "automation_runs"
CREATE INDEX `automationrun_automation_id_fired_at` ON `automation_runs` (`automation_id`, `fired_at`);
-- create index "automationrun_status_queued" to table: "automation_runs"
CREATE INDEX `automationrun_status_queued` ON `automation_runs` (`status`, `queued`);
-- create "deliveries" table
CREATE TABLE `deliveries` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `automation_id` text NOT NULL, `key` text NOT NULL, `step` integer NOT NULL, `kind` text NOT NULL, `target` text NOT NULL, `status` text NOT NULL DEFAULT ('pending'), `attempts` integer NOT NULL DEFAULT (0), `last_error` text NULL, `response_status` integer NULL, `delivered_at` datetime NULL, `workspace_id` text NOT NULL, `run_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `deliveries_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `deliveries_automation_runs_run` FOREIGN KEY (`run_id`) REFERENCES `automation_runs` (`id`) ON DELETE NO ACTION);
-- create index "deliveries_key_key" to table: "deliveries"
CREATE UNIQUE INDEX `deliveries_key_key` ON `deliveries` (`key`);
-- create index "delivery_workspace_id_created_at" to table: "deliveries"
CREATE INDEX `delivery_workspace_id_created_at` ON `deliveries` (`workspace_id`, `created_at`);
-- create index "delivery_run_id" to table: "deliveries"
CREATE INDEX `delivery_run_id` ON `deliveries` (`run_id`);
-- create "events" table
CREATE TABLE `events` (`id` text NOT NULL, `type` text NOT NULL, `subject_type` text NOT NULL, `subject_id` text NOT NULL, `actor` text NOT NULL DEFAULT (''), `changes` json NULL, `depth` integer NOT NULL DEFAULT (0), `occurred_at` datetime NOT NULL, `created_at` datetime NOT NULL, `dispatched_at` datetime NULL, `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `events_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "event_workspace_id_created_at" to table: "events"
CREATE INDEX `event_workspace_id_created_at` ON `events` (`workspace_id`, `created_at`);
-- create index "event_dispatched_at_occurred_at" to table: "events"
CREATE INDEX `event_dispatched_at_occurred_at` ON `events` (`dispatched_at`, `occurred_at`);

-- +goose Down
-- reverse: create index "event_dispatched_at_occurred_at" to table: "events"
DROP INDEX `event_dispatched_at_occurred_at`;
-- reverse: create index "event_workspace_id_created_at" to table: "events"
DROP INDEX `event_workspace_id_created_at`;
-- reverse: create "events" table
DROP TABLE `events`;
-- reverse: create index "delivery_run_id" to table: "deliveries"
DROP INDEX `delivery_run_id`;
-- reverse: create index "delivery_workspace_id_created_at" to table: "deliveries"
DROP INDEX `delivery_workspace_id_created_at`;
-- reverse: create index "deliveries_key_key" to table: "deliveries"
DROP INDEX `deliveries_key_key`;
-- reverse: create "deliveries" table
DROP TABLE `deliveries`;
-- reverse: create index "automationrun_status_queued" to table: "automation_runs"
DROP INDEX `automationrun_status_queued`;
-- reverse: create index "automationrun_automation_id_fired_at" to table: "automation_runs"
DROP INDEX `automationrun_automation_id_fired_at`;
-- reverse: create index "automationrun_workspace_id_fired_at" to table: "automation_runs"
DROP INDEX `automationrun_workspace_id_fired_at`;
-- reverse: create index "automationrun_workspace_id_created_at" to table: "automation_runs"
DROP INDEX `automationrun_workspace_id_created_at`;
-- reverse: create index "automation_runs_key_key" to table: "automation_runs"
DROP INDEX `automation_runs_key_key`;
-- reverse: create "automation_runs" table
DROP TABLE `automation_runs`;
-- reverse: create index "automation_workspace_id_event" to table: "automations"
DROP INDEX `automation_workspace_id_event`;
-- reverse: create index "automation_workspace_id_created_at" to table: "automations"
DROP INDEX `automation_workspace_id_created_at`;
-- reverse: create "automations" table
DROP TABLE `automations`;
