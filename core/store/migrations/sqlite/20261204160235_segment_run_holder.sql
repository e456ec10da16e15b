-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_segment_runs" table
CREATE TABLE `new_segment_runs` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `binding_id` text NOT NULL, `plugin` text NOT NULL, `subject_type` text NOT NULL, `trigger` text NOT NULL DEFAULT ('api'), `status` text NOT NULL DEFAULT ('running'), `subjects` integer NOT NULL DEFAULT (0), `batches` integer NOT NULL DEFAULT (0), `segmented` integer NOT NULL DEFAULT (0), `entered` integer NOT NULL DEFAULT (0), `left` integer NOT NULL DEFAULT (0), `stayed` integer NOT NULL DEFAULT (0), `failed_batches` integer NOT NULL DEFAULT (0), `errors` json NULL, `lock` text NULL, `holder` text NOT NULL DEFAULT (''), `heartbeat_at` datetime NOT NULL, `started_at` datetime NOT NULL, `finished_at` datetime NULL, `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `segment_runs_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- copy rows from old table "segment_runs" to new temporary table "new_segment_runs"
INSERT INTO `new_segment_runs` (`id`, `created_at`, `updated_at`, `binding_id`, `plugin`, `subject_type`, `trigger`, `status`, `subjects`, `batches`, `segmented`, `entered`, `left`, `stayed`, `failed_batches`, `errors`, `lock`, `heartbeat_at`, `started_at`, `finished_at`, `workspace_id`) SELECT `id`, `created_at`, `updated_at`, `binding_id`, `plugin`, `subject_type`, `trigger`, `status`, `subjects`, `batches`, `segmented`, `entered`, `left`, `stayed`, `failed_batches`, `errors`, `lock`, `heartbeat_at`, `started_at`, `finished_at`, `workspace_id` FROM `segment_runs`;
-- drop "segment_runs" table after copying rows
DROP TABLE `segment_runs`;
-- rename temporary table "new_segment_runs" to "segment_runs"
ALTER TABLE `new_segment_runs` RENAME TO `segment_runs`;
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
-- reverse: create index "segmentrun_binding_id_started_at" to table: "segment_runs"
DROP INDEX `segmentrun_binding_id_started_at`;
-- reverse: create index "segmentrun_workspace_id_started_at" to table: "segment_runs"
DROP INDEX `segmentrun_workspace_id_started_at`;
-- reverse: create index "segmentrun_workspace_id_created_at" to table: "segment_runs"
DROP INDEX `segmentrun_workspace_id_created_at`;
-- reverse: create index "segment_runs_lock_key" to table: "segment_runs"
DROP INDEX `segment_runs_lock_key`;
-- reverse: create "new_segment_runs" table
DROP TABLE `new_segment_runs`;
