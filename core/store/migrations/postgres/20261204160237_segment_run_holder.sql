-- +goose Up
-- modify "segment_runs" table
ALTER TABLE "segment_runs" ADD COLUMN "holder" character varying NOT NULL DEFAULT '';

-- +goose Down
-- reverse: modify "segment_runs" table
ALTER TABLE "segment_runs" DROP COLUMN "holder";
