-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_events" table
CREATE TABLE `new_events` (`id` text NOT NULL, `type` text NOT NULL, `subject_type` text NOT NULL, `subject_id` text NOT NULL, `actor` text NOT NULL DEFAULT (''), `changes` json NULL, `depth` integer NOT NULL DEFAULT (0), `occurred_at` datetime NOT NULL, `created_at` datetime NOT NULL, `dispatched_at` datetime NULL, `seq` integer NULL, `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `events_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- copy rows from old table "events" to new temporary table "new_events"
INSERT INTO `new_events` (`id`, `type`, `subject_type`, `subject_id`, `actor`, `changes`, `depth`, `occurred_at`, `created_at`, `dispatched_at`, `workspace_id`) SELECT `id`, `type`, `subject_type`, `subject_id`, `actor`, `changes`, `depth`, `occurred_at`, `created_at`, `dispatched_at`, `workspace_id` FROM `events`;
-- drop "events" table after copying rows
DROP TABLE `events`;
-- rename temporary table "new_events" to "events"
ALTER TABLE `new_events` RENAME TO `events`;
-- create index "event_workspace_id_created_at" to table: "events"
CREATE INDEX `event_workspace_id_created_at` ON `events` (`workspace_id`, `created_at`);
-- create index "event_dispatched_at_occurred_at" to table: "events"
CREATE INDEX `event_dispatched_at_occurred_at` ON `events` (`dispatched_at`, `occurred_at`);
-- create index "event_seq" to table: "events"
CREATE INDEX `event_seq` ON `events` (`seq`);
-- create index "event_workspace_id_seq" to table: "events"
CREATE INDEX `event_workspace_id_seq` ON `events` (`workspace_id`, `seq`);
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: create index "event_workspace_id_seq" to table: "events"
DROP INDEX `event_workspace_id_seq`;
-- reverse: create index "event_seq" to table: "events"
DROP INDEX `event_seq`;
-- reverse: create index "event_dispatched_at_occurred_at" to table: "events"
DROP INDEX `event_dispatched_at_occurred_at`;
-- reverse: create index "event_workspace_id_created_at" to table: "events"
DROP INDEX `event_workspace_id_created_at`;
-- reverse: create "new_events" table
DROP TABLE `new_events`;
