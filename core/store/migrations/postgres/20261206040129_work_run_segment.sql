-- +goose Up
-- modify "work_runs" table
ALTER TABLE "work_runs" ADD COLUMN "segment_run_id" character varying NULL;

-- +goose Down
-- reverse: modify "work_runs" table
ALTER TABLE "work_runs" DROP COLUMN "segment_run_id";
