-- +goose Up
-- create "extension_bindings" table
CREATE TABLE `extension_bindings` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `point` text NOT NULL, `subject_type` text NULL, `plugin` text NOT NULL, `version` text NOT NULL, `config` json NULL, `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `extension_bindings_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "extensionbinding_workspace_id_created_at" to table: "extension_bindings"
CREATE INDEX `extensionbinding_workspace_id_created_at` ON `extension_bindings` (`workspace_id`, `created_at`);
-- create index "extensionbinding_workspace_id_point_subject_type" to table: "extension_bindings"
CREATE INDEX `extensionbinding_workspace_id_point_subject_type` ON `extension_bindings` (`workspace_id`, `point`, `subject_type`);

-- +goose Down
-- reverse: create index "extensionbinding_workspace_id_point_subject_type" to table: "extension_bindings"
DROP INDEX `extensionbinding_workspace_id_point_subject_type`;
-- reverse: create index "extensionbinding_workspace_id_created_at" to table: "extension_bindings"
DROP INDEX `extensionbinding_workspace_id_created_at`;
-- reverse: create "extension_bindings" table
DROP TABLE `extension_bindings`;
