-- +goose Up
-- create "workspace_plugins" table
CREATE TABLE "workspace_plugins" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "version" character varying NOT NULL, "sha256" character varying NOT NULL, "size" bigint NOT NULL, "manifest" bytea NOT NULL, "archive" bytea NOT NULL, "installed_by" character varying NOT NULL DEFAULT '', "installed_at" timestamptz NOT NULL, "workspace_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "workspace_plugins_workspaces_workspace" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- create index "workspaceplugin_workspace_id_created_at" to table: "workspace_plugins"
CREATE INDEX "workspaceplugin_workspace_id_created_at" ON "workspace_plugins" ("workspace_id", "created_at");
-- create index "workspaceplugin_workspace_id_name_version" to table: "workspace_plugins"
CREATE UNIQUE INDEX "workspaceplugin_workspace_id_name_version" ON "workspace_plugins" ("workspace_id", "name", "version");

-- +goose Down
-- reverse: create index "workspaceplugin_workspace_id_name_version" to table: "workspace_plugins"
DROP INDEX "workspaceplugin_workspace_id_name_version";
-- reverse: create index "workspaceplugin_workspace_id_created_at" to table: "workspace_plugins"
DROP INDEX "workspaceplugin_workspace_id_created_at";
-- reverse: create "workspace_plugins" table
DROP TABLE "workspace_plugins";
