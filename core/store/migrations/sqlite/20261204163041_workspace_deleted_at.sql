-- +goose Up
-- add column "deleted_at" to table: "workspaces"
ALTER TABLE `workspaces` ADD COLUMN `deleted_at` datetime NULL;

-- +goose Down
-- reverse: add column "deleted_at" to table: "workspaces"
ALTER TABLE `workspaces` DROP COLUMN `deleted_at`;
