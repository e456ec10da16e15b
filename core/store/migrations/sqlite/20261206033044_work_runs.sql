-- +goose Up
-- create "work_ranges" table
CREATE TABLE `work_ranges` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `first_id` text NOT NULL, `last_id` text NOT NULL, `count` integer NOT NULL, `status` text NOT NULL DEFAULT ('pending'), `attempts` integer NOT NULL DEFAULT (0), `done` integer NOT NULL DEFAULT (0), `error` text NOT NULL DEFAULT (''), `workspace_id` text NOT NULL, `run_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `work_ranges_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `work_ranges_work_runs_run` FOREIGN KEY (`run_id`) REFERENCES `work_runs` (`id`) ON DELETE NO ACTION);
-- create index "workrange_workspace_id_created_at" to table: "work_ranges"
CREATE INDEX `workrange_workspace_id_created_at` ON `work_ranges` (`workspace_id`, `created_at`);
-- create index "workrange_run_id_status" to table: "work_ranges"
CREATE INDEX `workrange_run_id_status` ON `work_ranges` (`run_id`, `status`);
-- create "work_runs" table
CREATE TABLE `work_runs` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kind` text NOT NULL, `plugin` text NOT NULL, `subject_type` text NOT NULL, `match` json NULL, `status` text NOT NULL DEFAULT ('queued'), `total` integer NOT NULL DEFAULT (0), `done` integer NOT NULL DEFAULT (0), `failed_batches` integer NOT NULL DEFAULT (0), `actor` text NOT NULL DEFAULT (''), `started_at` datetime NULL, `finished_at` datetime NULL, `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `work_runs_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "workrun_workspace_id_created_at" to table: "work_runs"
CREATE INDEX `workrun_workspace_id_created_at` ON `work_runs` (`workspace_id`, `created_at`);

-- +goose Down
-- reverse: create index "workrun_workspace_id_created_at" to table: "work_runs"
DROP INDEX `workrun_workspace_id_created_at`;
-- reverse: create "work_runs" table
DROP TABLE `work_runs`;
-- reverse: create index "workrange_run_id_status" to table: "work_ranges"
DROP INDEX `workrange_run_id_status`;
-- reverse: create index "workrange_workspace_id_created_at" to table: "work_ranges"
DROP INDEX `workrange_workspace_id_created_at`;
-- reverse: create "work_ranges" table
DROP TABLE `work_ranges`;
