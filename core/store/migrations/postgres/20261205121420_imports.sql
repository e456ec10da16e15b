-- +goose Up
-- modify "activities" table
ALTER TABLE "activities" ADD COLUMN "external_source" character varying NULL, ADD COLUMN "external_id" character varying NULL;
-- create index "activity_workspace_id_external_source_external_id" to table: "activities"
CREATE UNIQUE INDEX "activity_workspace_id_external_source_external_id" ON "activities" ("workspace_id", "external_source", "external_id");
-- modify "contacts" table
ALTER TABLE "contacts" ADD COLUMN "external_source" character varying NULL, ADD COLUMN "external_id" character varying NULL;
-- create index "contact_workspace_id_external_source_external_id" to table: "contacts"
CREATE UNIQUE INDEX "contact_workspace_id_external_source_external_id" ON "contacts" ("workspace_id", "external_source", "external_id");
-- modify "deals" table
ALTER TABLE "deals" ADD COLUMN "external_source" character varying NULL, ADD COLUMN "external_id" character varying NULL;
-- create index "deal_workspace_id_external_source_external_id" to table: "deals"
CREATE UNIQUE INDEX "deal_workspace_id_external_source_external_id" ON "deals" ("workspace_id", "external_source", "external_id");
-- modify "leads" table
ALTER TABLE "leads" ADD COLUMN "external_source" character varying NULL, ADD COLUMN "external_id" character varying NULL;
-- create index "lead_workspace_id_external_source_external_id" to table: "leads"
CREATE UNIQUE INDEX "lead_workspace_id_external_source_external_id" ON "leads" ("workspace_id", "external_source", "external_id");
-- modify "orders" table
ALTER TABLE "orders" ADD COLUMN "external_source" character varying NULL, ADD COLUMN "external_id" character varying NULL;
-- create index "order_workspace_id_external_source_external_id" to table: "orders"
CREATE UNIQUE INDEX "order_workspace_id_external_source_external_id" ON "orders" ("workspace_id", "external_source", "external_id");
-- modify "organizations" table
ALTER TABLE "organizations" ADD COLUMN "external_source" character varying NULL, ADD COLUMN "external_id" character varying NULL;
-- create index "organization_workspace_id_external_source_external_id" to table: "organizations"
CREATE UNIQUE INDEX "organization_workspace_id_external_source_external_id" ON "organizations" ("workspace_id", "external_source", "external_id");
-- modify "products" table
ALTER TABLE "products" ADD COLUMN "external_source" character varying NULL, ADD COLUMN "external_id" character varying NULL;
-- create index "product_workspace_id_external_source_external_id" to table: "products"
CREATE UNIQUE INDEX "product_workspace_id_external_source_external_id" ON "products" ("workspace_id", "external_source", "external_id");
-- create "import_jobs" table
CREATE TABLE "import_jobs" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "type" character varying NOT NULL, "file_name" character varying NOT NULL DEFAULT '', "file_sha256" character varying NOT NULL, "file_size" bigint NOT NULL, "file" bytea NOT NULL, "options" jsonb NULL, "status" character varying NOT NULL DEFAULT 'queued', "next_row" bigint NOT NULL DEFAULT 0, "total_rows" bigint NULL, "created" bigint NOT NULL DEFAULT 0, "updated" bigint NOT NULL DEFAULT 0, "unchanged" bigint NOT NULL DEFAULT 0, "failed" bigint NOT NULL DEFAULT 0, "failed_by_reason" jsonb NULL, "error" character varying NOT NULL DEFAULT '', "actor" character varying NOT NULL DEFAULT '', "heartbeat_at" timestamptz NULL, "finished_at" timestamptz NULL, "workspace_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "import_jobs_workspaces_workspace" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- create index "importjob_workspace_id_created_at" to table: "import_jobs"
CREATE INDEX "importjob_workspace_id_created_at" ON "import_jobs" ("workspace_id", "created_at");
-- create index "importjob_workspace_id_file_sha256" to table: "import_jobs"
CREATE INDEX "importjob_workspace_id_file_sha256" ON "import_jobs" ("workspace_id", "file_sha256");
-- create "import_rejects" table
CREATE TABLE "import_rejects" ("id" character varying NOT NULL, "row" bigint NOT NULL, "column" character varying NOT NULL DEFAULT '', "reason" character varying NOT NULL, "message" character varying NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, "workspace_id" character varying NOT NULL, "job_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "import_rejects_import_jobs_job" FOREIGN KEY ("job_id") REFERENCES "import_jobs" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "import_rejects_workspaces_workspace" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- create index "importreject_job_id_row" to table: "import_rejects"
CREATE INDEX "importreject_job_id_row" ON "import_rejects" ("job_id", "row");
-- create index "importreject_workspace_id_created_at" to table: "import_rejects"
CREATE INDEX "importreject_workspace_id_created_at" ON "import_rejects" ("workspace_id", "created_at");

-- +goose Down
-- reverse: create index "importreject_workspace_id_created_at" to table: "import_rejects"
DROP INDEX "importreject_workspace_id_created_at";
-- reverse: create index "importreject_job_id_row" to table: "import_rejects"
DROP INDEX "importreject_job_id_row";
-- reverse: create "import_rejects" table
DROP TABLE "import_rejects";
-- reverse: create index "importjob_workspace_id_file_sha256" to table: "import_jobs"
DROP INDEX "importjob_workspace_id_file_sha256";
-- reverse: create index "importjob_workspace_id_created_at" to table: "import_jobs"
DROP INDEX "importjob_workspace_id_created_at";
-- reverse: create "import_jobs" table
DROP TABLE "import_jobs";
-- reverse: create index "product_workspace_id_external_source_external_id" to table: "products"
DROP INDEX "product_workspace_id_external_source_external_id";
-- reverse: modify "products" table
ALTER TABLE "products" DROP COLUMN "external_id", DROP COLUMN "external_source";
-- reverse: create index "organization_workspace_id_external_source_external_id" to table: "organizations"
DROP INDEX "organization_workspace_id_external_source_external_id";
-- reverse: modify "organizations" table
ALTER TABLE "organizations" DROP COLUMN "external_id", DROP COLUMN "external_source";
-- reverse: create index "order_workspace_id_external_source_external_id" to table: "orders"
DROP INDEX "order_workspace_id_external_source_external_id";
-- reverse: modify "orders" table
ALTER TABLE "orders" DROP COLUMN "external_id", DROP COLUMN "external_source";
-- reverse: create index "lead_workspace_id_external_source_external_id" to table: "leads"
DROP INDEX "lead_workspace_id_external_source_external_id";
-- reverse: modify "leads" table
ALTER TABLE "leads" DROP COLUMN "external_id", DROP COLUMN "external_source";
-- reverse: create index "deal_workspace_id_external_source_external_id" to table: "deals"
DROP INDEX "deal_workspace_id_external_source_external_id";
-- reverse: modify "deals" table
ALTER TABLE "deals" DROP COLUMN "external_id", DROP COLUMN "external_source";
-- reverse: create index "contact_workspace_id_external_source_external_id" to table: "contacts"
DROP INDEX "contact_workspace_id_external_source_external_id";
-- reverse: modify "contacts" table
ALTER TABLE "contacts" DROP COLUMN "external_id", DROP COLUMN "external_source";
-- reverse: create index "activity_workspace_id_external_source_external_id" to table: "activities"
DROP INDEX "activity_workspace_id_external_source_external_id";
-- reverse: modify "activities" table
ALTER TABLE "activities" DROP COLUMN "external_id", DROP COLUMN "external_source";
