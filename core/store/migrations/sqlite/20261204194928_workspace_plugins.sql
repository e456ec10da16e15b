-- +goose Up
-- create "workspace_plugins" table
CREATE TABLE `workspace_plugins` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `version` text NOT NULL, `sha256` text NOT NULL, `size` integer NOT NULL, `manifest` blob NOT NULL, `archive` blob NOT NULL, `installed_by` text NOT NULL DEFAULT (''), `installed_at` datetime NOT NULL, `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `workspace_plugins_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "workspaceplugin_workspace_id_created_at" to table: "workspace_plugins"
CREATE INDEX `workspaceplugin_workspace_id_created_at` ON `workspace_plugins` (`workspace_id`, `created_at`);
-- create index "workspaceplugin_workspace_id_name_version" to table: "workspace_plugins"
CREATE UNIQUE INDEX `workspaceplugin_workspace_id_name_version` ON `workspace_plugins` (`workspace_id`, `name`, `version`);

-- +goose Down
-- reverse: create index "workspaceplugin_workspace_id_name_version" to table: "workspace_plugins"
DROP INDEX `workspaceplugin_workspace_id_name_version`;
-- reverse: create index "workspaceplugin_workspace_id_created_at" to table: "workspace_plugins"
DROP INDEX `workspaceplugin_workspace_id_created_at`;
-- reverse: create "workspace_plugins" table
DROP TABLE `workspace_plugins`;
