-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_segments" table
CREATE TABLE `new_segments` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `key` text NOT NULL, `name` text NOT NULL, `description` text NULL, `source` text NOT NULL DEFAULT ('manual'), `binding_id` text NOT NULL DEFAULT (''), `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `segments_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- copy rows from old table "segments" to new temporary table "new_segments"
INSERT INTO `new_segments` (`id`, `created_at`, `updated_at`, `key`, `name`, `description`, `source`, `workspace_id`) SELECT `id`, `created_at`, `updated_at`, `key`, `name`, `description`, `source`, `workspace_id` FROM `segments`;
-- drop "segments" table after copying rows
DROP TABLE `segments`;
-- rename temporary table "new_segments" to "segments"
ALTER TABLE `new_segments` RENAME TO `segments`;
-- create index "segment_workspace_id_created_at" to table: "segments"
CREATE INDEX `segment_workspace_id_created_at` ON `segments` (`workspace_id`, `created_at`);
-- create index "segment_workspace_id_binding_id_key" to table: "segments"
CREATE UNIQUE INDEX `segment_workspace_id_binding_id_key` ON `segments` (`workspace_id`, `binding_id`, `key`);
-- create index "segment_workspace_id_key" to table: "segments"
CREATE INDEX `segment_workspace_id_key` ON `segments` (`workspace_id`, `key`);
-- create "new_segment_memberships" table
CREATE TABLE `new_segment_memberships` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `subject_type` text NOT NULL, `subject_id` text NOT NULL, `weight` real NULL, `started_at` datetime NOT NULL, `ended_at` datetime NULL, `run_id` text NULL, `ended_run_id` text NULL, `workspace_id` text NOT NULL, `segment_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `segment_memberships_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `segment_memberships_segments_segment` FOREIGN KEY (`segment_id`) REFERENCES `segments` (`id`) ON DELETE NO ACTION);
-- copy rows from old table "segment_memberships" to new temporary table "new_segment_memberships"
-- (by hand: existing memberships started when they were made)
INSERT INTO `new_segment_memberships` (`id`, `created_at`, `updated_at`, `subject_type`, `subject_id`, `weight`, `started_at`, `workspace_id`, `segment_id`) SELECT `id`, `created_at`, `updated_at`, `subject_type`, `subject_id`, `weight`, `created_at`, `workspace_id`, `segment_id` FROM `segment_memberships`;
-- drop "segment_memberships" table after copying rows
DROP TABLE `segment_memberships`;
-- rename temporary table "new_segment_memberships" to "segment_memberships"
ALTER TABLE `new_segment_memberships` RENAME TO `segment_memberships`;
-- create index "segmentmembership_workspace_id_created_at" to table: "segment_memberships"
CREATE INDEX `segmentmembership_workspace_id_created_at` ON `segment_memberships` (`workspace_id`, `created_at`);
-- create index "segmentmembership_segment_id_subject_type_subject_id" to table: "segment_memberships"
CREATE INDEX `segmentmembership_segment_id_subject_type_subject_id` ON `segment_memberships` (`segment_id`, `subject_type`, `subject_id`);
-- create index "segmentmembership_workspace_id_subject_type_subject_id" to table: "segment_memberships"
CREATE INDEX `segmentmembership_workspace_id_subject_type_subject_id` ON `segment_memberships` (`workspace_id`, `subject_type`, `subject_id`);
-- at most one open membership of a subject in a segment (written by hand:
-- the ent schema cannot say a partial index)
CREATE UNIQUE INDEX `segmentmembership_open` ON `segment_memberships` (`segment_id`, `subject_type`, `subject_id`) WHERE `ended_at` IS NULL;
-- create "segment_runs" table
CREATE TABLE `segment_runs` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `binding_id` text NOT NULL, `plugin` text NOT NULL, `subject_type` text NOT NULL, `trigger` text NOT NULL DEFAULT ('api'), `status` text NOT NULL DEFAULT ('running'), `subjects` integer NOT NULL DEFAULT (0), `batches` integer NOT NULL DEFAULT (0), `segmented` integer NOT NULL DEFAULT (0), `entered` integer NOT NULL DEFAULT (0), `left` integer NOT NULL DEFAULT (0), `stayed` integer NOT NULL DEFAULT (0), `failed_batches` integer NOT NULL DEFAULT (0), `errors` json NULL, `lock` text NULL, `heartbeat_at` datetime NOT NULL, `started_at` datetime NOT NULL, `finished_at` datetime NULL, `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `segment_runs_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "segment_runs_lock_key" to table: "segment_runs"
CREATE UNIQUE INDEX `segment_runs_lock_key` ON `segment_runs` (`lock`);
-- create index "segmentrun_workspace_id_created_at" to table: "segment_runs"
CREATE INDEX `segmentrun_workspace_id_created_at` ON `segment_runs` (`workspace_id`, `created_at`);
-- create index "segmentrun_workspace_id_started_at" to table: "segment_runs"
CREATE INDEX `segmentrun_workspace_id_started_at` ON `segment_runs` (`workspace_id`, `started_at`);
-- create index "segmentrun_binding_id_started_at" to table: "segment_runs"
CREATE INDEX `segmentrun_binding_id_started_at` ON `segment_runs` (`binding_id`, `started_at`);
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
DROP INDEX `segmentmembership_open`;
-- reverse: create index "segmentrun_binding_id_started_at" to table: "segment_runs"
DROP INDEX `segmentrun_binding_id_started_at`;
-- reverse: create index "segmentrun_workspace_id_started_at" to table: "segment_runs"
DROP INDEX `segmentrun_workspace_id_started_at`;
-- reverse: create index "segmentrun_workspace_id_created_at" to table: "segment_runs"
DROP INDEX `segmentrun_workspace_id_created_at`;
-- reverse: create index "segment_runs_lock_key" to table: "segment_runs"
DROP INDEX `segment_runs_lock_key`;
-- reverse: create "segment_runs" table
DROP TABLE `segment_runs`;
-- reverse: create index "segmentmembership_workspace_id_subject_type_subject_id" to table: "segment_memberships"
DROP INDEX `segmentmembership_workspace_id_subject_type_subject_id`;
-- reverse: create index "segmentmembership_segment_id_subject_type_subject_id" to table: "segment_memberships"
DROP INDEX `segmentmembership_segment_id_subject_type_subject_id`;
-- reverse: create index "segmentmembership_workspace_id_created_at" to table: "segment_memberships"
DROP INDEX `segmentmembership_workspace_id_created_at`;
-- reverse: create "new_segment_memberships" table
DROP TABLE `new_segment_memberships`;
-- reverse: create index "segment_workspace_id_key" to table: "segments"
DROP INDEX `segment_workspace_id_key`;
-- reverse: create index "segment_workspace_id_binding_id_key" to table: "segments"
DROP INDEX `segment_workspace_id_binding_id_key`;
-- reverse: create index "segment_workspace_id_created_at" to table: "segments"
DROP INDEX `segment_workspace_id_created_at`;
-- reverse: create "new_segments" table
DROP TABLE `new_segments`;
