-- +goose Up
-- add column "schedule_fired_at" to table: "automations"
ALTER TABLE `automations` ADD COLUMN `schedule_fired_at` datetime NULL;

-- +goose Down
-- reverse: add column "schedule_fired_at" to table: "automations"
ALTER TABLE `automations` DROP COLUMN `schedule_fired_at`;
