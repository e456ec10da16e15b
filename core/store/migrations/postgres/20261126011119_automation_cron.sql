-- +goose Up
-- modify "automations" table
ALTER TABLE "automations" ADD COLUMN "schedule_fired_at" timestamptz NULL;

-- +goose Down
-- reverse: modify "automations" table
ALTER TABLE "automations" DROP COLUMN "schedule_fired_at";
