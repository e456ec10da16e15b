-- +goose Up
-- add column "segment_run_id" to table: "work_runs"
ALTER TABLE `work_runs` ADD COLUMN `segment_run_id` text NULL;

-- +goose Down
-- reverse: add column "segment_run_id" to table: "work_runs"
ALTER TABLE `work_runs` DROP COLUMN `segment_run_id`;
