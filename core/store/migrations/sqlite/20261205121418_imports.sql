-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_activities" table
CREATE TABLE `new_activities` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `external_source` text NULL, `external_id` text NULL, `deleted_at` datetime NULL, `kind` text NOT NULL, `subject` text NOT NULL, `body` text NULL, `direction` text NULL, `occurred_at` datetime NOT NULL, `due_at` datetime NULL, `done_at` datetime NULL, `workspace_id` text NOT NULL, `contact_id` text NULL, `organization_id` text NULL, `deal_id` text NULL, `lead_id` text NULL, `owner_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `activities_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `activities_contacts_contact` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE SET NULL, CONSTRAINT `activities_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE SET NULL, CONSTRAINT `activities_deals_deal` FOREIGN KEY (`deal_id`) REFERENCES `deals` (`id`) ON DELETE SET NULL, CONSTRAINT `activities_leads_lead` FOREIGN KEY (`lead_id`) REFERENCES `leads` (`id`) ON DELETE SET NULL, CONSTRAINT `activities_members_owner` FOREIGN KEY (`owner_id`) REFERENCES `members` (`id`) ON DELETE SET NULL);
-- copy rows from old table "activities" to new temporary table "new_activities"
INSERT INTO `new_activities` (`id`, `created_at`, `updated_at`, `deleted_at`, `kind`, `subject`, `body`, `direction`, `occurred_at`, `due_at`, `done_at`, `workspace_id`, `contact_id`, `organization_id`, `deal_id`, `lead_id`, `owner_id`) SELECT `id`, `created_at`, `updated_at`, `deleted_at`, `kind`, `subject`, `body`, `direction`, `occurred_at`, `due_at`, `done_at`, `workspace_id`, `contact_id`, `organization_id`, `deal_id`, `lead_id`, `owner_id` FROM `activities`;
-- drop "activities" table after copying rows
DROP TABLE `activities`;
-- rename temporary table "new_activities" to "activities"
ALTER TABLE `new_activities` RENAME TO `activities`;
-- create index "activity_workspace_id_created_at" to table: "activities"
CREATE INDEX `activity_workspace_id_created_at` ON `activities` (`workspace_id`, `created_at`);
-- create index "activity_workspace_id_external_source_external_id" to table: "activities"
CREATE UNIQUE INDEX `activity_workspace_id_external_source_external_id` ON `activities` (`workspace_id`, `external_source`, `external_id`);
-- create index "activity_workspace_id_kind_occurred_at" to table: "activities"
CREATE INDEX `activity_workspace_id_kind_occurred_at` ON `activities` (`workspace_id`, `kind`, `occurred_at`);
-- create index "activity_contact_id_occurred_at" to table: "activities"
CREATE INDEX `activity_contact_id_occurred_at` ON `activities` (`contact_id`, `occurred_at`);
-- create index "activity_organization_id" to table: "activities"
CREATE INDEX `activity_organization_id` ON `activities` (`organization_id`);
-- create index "activity_deal_id" to table: "activities"
CREATE INDEX `activity_deal_id` ON `activities` (`deal_id`);
-- create "new_contacts" table
CREATE TABLE `new_contacts` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `external_source` text NULL, `external_id` text NULL, `deleted_at` datetime NULL, `custom_fields` json NULL, `first_name` text NOT NULL DEFAULT (''), `last_name` text NOT NULL, `email` text NULL, `phone` text NULL, `title` text NULL, `workspace_id` text NOT NULL, `organization_id` text NULL, `owner_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `contacts_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `contacts_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE SET NULL, CONSTRAINT `contacts_members_owner` FOREIGN KEY (`owner_id`) REFERENCES `members` (`id`) ON DELETE SET NULL);
-- copy rows from old table "contacts" to new temporary table "new_contacts"
INSERT INTO `new_contacts` (`id`, `created_at`, `updated_at`, `deleted_at`, `custom_fields`, `first_name`, `last_name`, `email`, `phone`, `title`, `workspace_id`, `organization_id`, `owner_id`) SELECT `id`, `created_at`, `updated_at`, `deleted_at`, `custom_fields`, `first_name`, `last_name`, `email`, `phone`, `title`, `workspace_id`, `organization_id`, `owner_id` FROM `contacts`;
-- drop "contacts" table after copying rows
DROP TABLE `contacts`;
-- rename temporary table "new_contacts" to "contacts"
ALTER TABLE `new_contacts` RENAME TO `contacts`;
-- create index "contact_workspace_id_created_at" to table: "contacts"
CREATE INDEX `contact_workspace_id_created_at` ON `contacts` (`workspace_id`, `created_at`);
-- create index "contact_workspace_id_external_source_external_id" to table: "contacts"
CREATE UNIQUE INDEX `contact_workspace_id_external_source_external_id` ON `contacts` (`workspace_id`, `external_source`, `external_id`);
-- create index "contact_workspace_id_last_name_first_name" to table: "contacts"
CREATE INDEX `contact_workspace_id_last_name_first_name` ON `contacts` (`workspace_id`, `last_name`, `first_name`);
-- create index "contact_workspace_id_email" to table: "contacts"
CREATE INDEX `contact_workspace_id_email` ON `contacts` (`workspace_id`, `email`);
-- create index "contact_organization_id" to table: "contacts"
CREATE INDEX `contact_organization_id` ON `contacts` (`organization_id`);
-- create "new_deals" table
CREATE TABLE `new_deals` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `external_source` text NULL, `external_id` text NULL, `deleted_at` datetime NULL, `custom_fields` json NULL, `name` text NOT NULL, `amount` integer NOT NULL DEFAULT (0), `currency` text NOT NULL DEFAULT ('USD'), `status` text NOT NULL DEFAULT ('open'), `probability` real NULL, `expected_close_date` datetime NULL, `closed_at` datetime NULL, `lost_reason` text NULL, `workspace_id` text NOT NULL, `pipeline_id` text NOT NULL, `stage_id` text NOT NULL, `contact_id` text NULL, `organization_id` text NULL, `owner_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `deals_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `deals_pipelines_pipeline` FOREIGN KEY (`pipeline_id`) REFERENCES `pipelines` (`id`) ON DELETE NO ACTION, CONSTRAINT `deals_stages_stage` FOREIGN KEY (`stage_id`) REFERENCES `stages` (`id`) ON DELETE NO ACTION, CONSTRAINT `deals_contacts_contact` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE SET NULL, CONSTRAINT `deals_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE SET NULL, CONSTRAINT `deals_members_owner` FOREIGN KEY (`owner_id`) REFERENCES `members` (`id`) ON DELETE SET NULL);
-- copy rows from old table "deals" to new temporary table "new_deals"
INSERT INTO `new_deals` (`id`, `created_at`, `updated_at`, `deleted_at`, `custom_fields`, `name`, `amount`, `currency`, `status`, `probability`, `expected_close_date`, `closed_at`, `lost_reason`, `workspace_id`, `pipeline_id`, `stage_id`, `contact_id`, `organization_id`, `owner_id`) SELECT `id`, `created_at`, `updated_at`, `deleted_at`, `custom_fields`, `name`, `amount`, `currency`, `status`, `probability`, `expected_close_date`, `closed_at`, `lost_reason`, `workspace_id`, `pipeline_id`, `stage_id`, `contact_id`, `organization_id`, `owner_id` FROM `deals`;
-- drop "deals" table after copying rows
DROP TABLE `deals`;
-- rename temporary table "new_deals" to "deals"
ALTER TABLE `new_deals` RENAME TO `deals`;
-- create index "deal_workspace_id_created_at" to table: "deals"
CREATE INDEX `deal_workspace_id_created_at` ON `deals` (`workspace_id`, `created_at`);
-- create index "deal_workspace_id_external_source_external_id" to table: "deals"
CREATE UNIQUE INDEX `deal_workspace_id_external_source_external_id` ON `deals` (`workspace_id`, `external_source`, `external_id`);
-- create index "deal_workspace_id_status" to table: "deals"
CREATE INDEX `deal_workspace_id_status` ON `deals` (`workspace_id`, `status`);
-- create index "deal_workspace_id_expected_close_date" to table: "deals"
CREATE INDEX `deal_workspace_id_expected_close_date` ON `deals` (`workspace_id`, `expected_close_date`);
-- create index "deal_stage_id" to table: "deals"
CREATE INDEX `deal_stage_id` ON `deals` (`stage_id`);
-- create index "deal_pipeline_id" to table: "deals"
CREATE INDEX `deal_pipeline_id` ON `deals` (`pipeline_id`);
-- create index "deal_contact_id" to table: "deals"
CREATE INDEX `deal_contact_id` ON `deals` (`contact_id`);
-- create index "deal_organization_id" to table: "deals"
CREATE INDEX `deal_organization_id` ON `deals` (`organization_id`);
-- create "new_leads" table
CREATE TABLE `new_leads` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `external_source` text NULL, `external_id` text NULL, `deleted_at` datetime NULL, `custom_fields` json NULL, `title` text NOT NULL, `first_name` text NULL, `last_name` text NULL, `email` text NULL, `phone` text NULL, `company` text NULL, `source` text NULL, `status` text NOT NULL DEFAULT ('new'), `estimated_value` integer NULL, `currency` text NOT NULL DEFAULT ('USD'), `converted_at` datetime NULL, `deal_id` text NULL, `workspace_id` text NOT NULL, `organization_id` text NULL, `contact_id` text NULL, `owner_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `leads_deals_lead` FOREIGN KEY (`deal_id`) REFERENCES `deals` (`id`) ON DELETE SET NULL, CONSTRAINT `leads_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `leads_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE SET NULL, CONSTRAINT `leads_contacts_contact` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE SET NULL, CONSTRAINT `leads_members_owner` FOREIGN KEY (`owner_id`) REFERENCES `members` (`id`) ON DELETE SET NULL);
-- copy rows from old table "leads" to new temporary table "new_leads"
INSERT INTO `new_leads` (`id`, `created_at`, `updated_at`, `deleted_at`, `custom_fields`, `title`, `first_name`, `last_name`, `email`, `phone`, `company`, `source`, `status`, `estimated_value`, `currency`, `converted_at`, `deal_id`, `workspace_id`, `organization_id`, `contact_id`, `owner_id`) SELECT `id`, `created_at`, `updated_at`, `deleted_at`, `custom_fields`, `title`, `first_name`, `last_name`, `email`, `phone`, `company`, `source`, `status`, `estimated_value`, `currency`, `converted_at`, `deal_id`, `workspace_id`, `organization_id`, `contact_id`, `owner_id` FROM `leads`;
-- drop "leads" table after copying rows
DROP TABLE `leads`;
-- rename temporary table "new_leads" to "leads"
ALTER TABLE `new_leads` RENAME TO `leads`;
-- create index "leads_deal_id_key" to table: "leads"
CREATE UNIQUE INDEX `leads_deal_id_key` ON `leads` (`deal_id`);
-- create index "lead_workspace_id_created_at" to table: "leads"
CREATE INDEX `lead_workspace_id_created_at` ON `leads` (`workspace_id`, `created_at`);
-- create index "lead_workspace_id_external_source_external_id" to table: "leads"
CREATE UNIQUE INDEX `lead_workspace_id_external_source_external_id` ON `leads` (`workspace_id`, `external_source`, `external_id`);
-- create index "lead_workspace_id_status" to table: "leads"
CREATE INDEX `lead_workspace_id_status` ON `leads` (`workspace_id`, `status`);
-- create "new_orders" table
CREATE TABLE `new_orders` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `external_source` text NULL, `external_id` text NULL, `number` text NULL, `amount` integer NOT NULL, `cost` integer NOT NULL DEFAULT (0), `currency` text NOT NULL DEFAULT ('USD'), `ordered_at` datetime NOT NULL, `workspace_id` text NOT NULL, `contact_id` text NULL, `organization_id` text NULL, `deal_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `orders_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `orders_contacts_contact` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE SET NULL, CONSTRAINT `orders_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE SET NULL, CONSTRAINT `orders_deals_deal` FOREIGN KEY (`deal_id`) REFERENCES `deals` (`id`) ON DELETE SET NULL);
-- copy rows from old table "orders" to new temporary table "new_orders"
INSERT INTO `new_orders` (`id`, `created_at`, `updated_at`, `number`, `amount`, `cost`, `currency`, `ordered_at`, `workspace_id`, `contact_id`, `organization_id`, `deal_id`) SELECT `id`, `created_at`, `updated_at`, `number`, `amount`, `cost`, `currency`, `ordered_at`, `workspace_id`, `contact_id`, `organization_id`, `deal_id` FROM `orders`;
-- drop "orders" table after copying rows
DROP TABLE `orders`;
-- rename temporary table "new_orders" to "orders"
ALTER TABLE `new_orders` RENAME TO `orders`;
-- create index "order_workspace_id_created_at" to table: "orders"
CREATE INDEX `order_workspace_id_created_at` ON `orders` (`workspace_id`, `created_at`);
-- create index "order_workspace_id_external_source_external_id" to table: "orders"
CREATE UNIQUE INDEX `order_workspace_id_external_source_external_id` ON `orders` (`workspace_id`, `external_source`, `external_id`);
-- create index "order_workspace_id_ordered_at" to table: "orders"
CREATE INDEX `order_workspace_id_ordered_at` ON `orders` (`workspace_id`, `ordered_at`);
-- create index "order_contact_id_ordered_at" to table: "orders"
CREATE INDEX `order_contact_id_ordered_at` ON `orders` (`contact_id`, `ordered_at`);
-- create index "order_organization_id_ordered_at" to table: "orders"
CREATE INDEX `order_organization_id_ordered_at` ON `orders` (`organization_id`, `ordered_at`);
-- create "new_organizations" table
CREATE TABLE `new_organizations` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `external_source` text NULL, `external_id` text NULL, `deleted_at` datetime NULL, `custom_fields` json NULL, `name` text NOT NULL, `domain` text NULL, `industry` text NULL, `employees` integer NULL, `workspace_id` text NOT NULL, `owner_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `organizations_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `organizations_members_owner` FOREIGN KEY (`owner_id`) REFERENCES `members` (`id`) ON DELETE SET NULL);
-- copy rows from old table "organizations" to new temporary table "new_organizations"
INSERT INTO `new_organizations` (`id`, `created_at`, `updated_at`, `deleted_at`, `custom_fields`, `name`, `domain`, `industry`, `employees`, `workspace_id`, `owner_id`) SELECT `id`, `created_at`, `updated_at`, `deleted_at`, `custom_fields`, `name`, `domain`, `industry`, `employees`, `workspace_id`, `owner_id` FROM `organizations`;
-- drop "organizations" table after copying rows
DROP TABLE `organizations`;
-- rename temporary table "new_organizations" to "organizations"
ALTER TABLE `new_organizations` RENAME TO `organizations`;
-- create index "organization_workspace_id_created_at" to table: "organizations"
CREATE INDEX `organization_workspace_id_created_at` ON `organizations` (`workspace_id`, `created_at`);
-- create index "organization_workspace_id_external_source_external_id" to table: "organizations"
CREATE UNIQUE INDEX `organization_workspace_id_external_source_external_id` ON `organizations` (`workspace_id`, `external_source`, `external_id`);
-- create index "organization_workspace_id_name" to table: "organizations"
CREATE INDEX `organization_workspace_id_name` ON `organizations` (`workspace_id`, `name`);
-- create index "organization_workspace_id_domain" to table: "organizations"
CREATE INDEX `organization_workspace_id_domain` ON `organizations` (`workspace_id`, `domain`);
-- create "new_products" table
CREATE TABLE `new_products` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `external_source` text NULL, `external_id` text NULL, `deleted_at` datetime NULL, `name` text NOT NULL, `sku` text NULL, `description` text NULL, `price` integer NOT NULL DEFAULT (0), `unit_cost` integer NOT NULL DEFAULT (0), `currency` text NOT NULL DEFAULT ('USD'), `active` bool NOT NULL DEFAULT (true), `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `products_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- copy rows from old table "products" to new temporary table "new_products"
INSERT INTO `new_products` (`id`, `created_at`, `updated_at`, `deleted_at`, `name`, `sku`, `description`, `price`, `unit_cost`, `currency`, `active`, `workspace_id`) SELECT `id`, `created_at`, `updated_at`, `deleted_at`, `name`, `sku`, `description`, `price`, `unit_cost`, `currency`, `active`, `workspace_id` FROM `products`;
-- drop "products" table after copying rows
DROP TABLE `products`;
-- rename temporary table "new_products" to "products"
ALTER TABLE `new_products` RENAME TO `products`;
-- create index "product_workspace_id_created_at" to table: "products"
CREATE INDEX `product_workspace_id_created_at` ON `products` (`workspace_id`, `created_at`);
-- create index "product_workspace_id_external_source_external_id" to table: "products"
CREATE UNIQUE INDEX `product_workspace_id_external_source_external_id` ON `products` (`workspace_id`, `external_source`, `external_id`);
-- create index "product_workspace_id_sku" to table: "products"
CREATE INDEX `product_workspace_id_sku` ON `products` (`workspace_id`, `sku`);
-- create "import_jobs" table
CREATE TABLE `import_jobs` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `type` text NOT NULL, `file_name` text NOT NULL DEFAULT (''), `file_sha256` text NOT NULL, `file_size` integer NOT NULL, `file` blob NOT NULL, `options` json NULL, `status` text NOT NULL DEFAULT ('queued'), `next_row` integer NOT NULL DEFAULT (0), `total_rows` integer NULL, `created` integer NOT NULL DEFAULT (0), `updated` integer NOT NULL DEFAULT (0), `unchanged` integer NOT NULL DEFAULT (0), `failed` integer NOT NULL DEFAULT (0), `failed_by_reason` json NULL, `error` text NOT NULL DEFAULT (''), `actor` text NOT NULL DEFAULT (''), `heartbeat_at` datetime NULL, `finished_at` datetime NULL, `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `import_jobs_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "importjob_workspace_id_created_at" to table: "import_jobs"
CREATE INDEX `importjob_workspace_id_created_at` ON `import_jobs` (`workspace_id`, `created_at`);
-- create index "importjob_workspace_id_file_sha256" to table: "import_jobs"
CREATE INDEX `importjob_workspace_id_file_sha256` ON `import_jobs` (`workspace_id`, `file_sha256`);
-- create "import_rejects" table
CREATE TABLE `import_rejects` (`id` text NOT NULL, `row` integer NOT NULL, `column` text NOT NULL DEFAULT (''), `reason` text NOT NULL, `message` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `workspace_id` text NOT NULL, `job_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `import_rejects_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `import_rejects_import_jobs_job` FOREIGN KEY (`job_id`) REFERENCES `import_jobs` (`id`) ON DELETE NO ACTION);
-- create index "importreject_workspace_id_created_at" to table: "import_rejects"
CREATE INDEX `importreject_workspace_id_created_at` ON `import_rejects` (`workspace_id`, `created_at`);
-- create index "importreject_job_id_row" to table: "import_rejects"
CREATE INDEX `importreject_job_id_row` ON `import_rejects` (`job_id`, `row`);
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- SQLite rebuilt the orders table above, which dropped the hand-written
-- order_customer_month index (20261125220000_order_customer_month.sql):
-- it is made again, with the same expression.
CREATE INDEX `order_customer_month` ON `orders` (`workspace_id`, COALESCE(`organization_id`, `contact_id`), (CASE WHEN instr(ordered_at, ' +0000 ') > 0 THEN (CAST(substr(ordered_at, 1, 4) AS INTEGER) * 12 + CAST(substr(ordered_at, 6, 2) AS INTEGER) - 1) ELSE (CAST(substr((CASE WHEN substr(ordered_at, 20 + instr(substr(ordered_at, 20), ' '), 5) GLOB '[+-][0-9][0-9][0-9][0-9]' THEN datetime(substr(ordered_at, 1, 19), ((CASE WHEN substr(substr(ordered_at, 20 + instr(substr(ordered_at, 20), ' '), 5), 1, 1) = '-' THEN 1 ELSE -1 END) * (substr(substr(ordered_at, 20 + instr(substr(ordered_at, 20), ' '), 5), 2, 2) * 60 + substr(substr(ordered_at, 20 + instr(substr(ordered_at, 20), ' '), 5), 4, 2))) || ' minutes') ELSE datetime(ordered_at) END), 1, 4) AS INTEGER) * 12 + CAST(substr((CASE WHEN substr(ordered_at, 20 + instr(substr(ordered_at, 20), ' '), 5) GLOB '[+-][0-9][0-9][0-9][0-9]' THEN datetime(substr(ordered_at, 1, 19), ((CASE WHEN substr(substr(ordered_at, 20 + instr(substr(ordered_at, 20), ' '), 5), 1, 1) = '-' THEN 1 ELSE -1 END) * (substr(substr(ordered_at, 20 + instr(substr(ordered_at, 20), ' '), 5), 2, 2) * 60 + substr(substr(ordered_at, 20 + instr(substr(ordered_at, 20), ' '), 5), 4, 2))) || ' minutes') ELSE datetime(ordered_at) END), 6, 2) AS INTEGER) - 1) END), `amount`, `cost`, `ordered_at`, `organization_id`, `contact_id`, `deal_id`);

-- +goose Down
-- reverse: create index "importreject_job_id_row" to table: "import_rejects"
DROP INDEX `importreject_job_id_row`;
-- reverse: create index "importreject_workspace_id_created_at" to table: "import_rejects"
DROP INDEX `importreject_workspace_id_created_at`;
-- reverse: create "import_rejects" table
DROP TABLE `import_rejects`;
-- reverse: create index "importjob_workspace_id_file_sha256" to table: "import_jobs"
DROP INDEX `importjob_workspace_id_file_sha256`;
-- reverse: create index "importjob_workspace_id_created_at" to table: "import_jobs"
DROP INDEX `importjob_workspace_id_created_at`;
-- reverse: create "import_jobs" table
DROP TABLE `import_jobs`;
-- reverse: create index "product_workspace_id_sku" to table: "products"
DROP INDEX `product_workspace_id_sku`;
-- reverse: create index "product_workspace_id_external_source_external_id" to table: "products"
DROP INDEX `product_workspace_id_external_source_external_id`;
-- reverse: create index "product_workspace_id_created_at" to table: "products"
DROP INDEX `product_workspace_id_created_at`;
-- reverse: create "new_products" table
DROP TABLE `new_products`;
-- reverse: create index "organization_workspace_id_domain" to table: "organizations"
DROP INDEX `organization_workspace_id_domain`;
-- reverse: create index "organization_workspace_id_name" to table: "organizations"
DROP INDEX `organization_workspace_id_name`;
-- reverse: create index "organization_workspace_id_external_source_external_id" to table: "organizations"
DROP INDEX `organization_workspace_id_external_source_external_id`;
-- reverse: create index "organization_workspace_id_created_at" to table: "organizations"
DROP INDEX `organization_workspace_id_created_at`;
-- reverse: create "new_organizations" table
DROP TABLE `new_organizations`;
-- reverse: create index "order_organization_id_ordered_at" to table: "orders"
DROP INDEX `order_organization_id_ordered_at`;
-- reverse: create index "order_contact_id_ordered_at" to table: "orders"
DROP INDEX `order_contact_id_ordered_at`;
-- reverse: create index "order_workspace_id_ordered_at" to table: "orders"
DROP INDEX `order_workspace_id_ordered_at`;
-- reverse: create index "order_workspace_id_external_source_external_id" to table: "orders"
DROP INDEX `order_workspace_id_external_source_external_id`;
-- reverse: create index "order_workspace_id_created_at" to table: "orders"
DROP INDEX `order_workspace_id_created_at`;
-- reverse: create "new_orders" table
DROP TABLE `new_orders`;
-- reverse: create index "lead_workspace_id_status" to table: "leads"
DROP INDEX `lead_workspace_id_status`;
-- reverse: create index "lead_workspace_id_external_source_external_id" to table: "leads"
DROP INDEX `lead_workspace_id_external_source_external_id`;
-- reverse: create index "lead_workspace_id_created_at" to table: "leads"
DROP INDEX `lead_workspace_id_created_at`;
-- reverse: create index "leads_deal_id_key" to table: "leads"
DROP INDEX `leads_deal_id_key`;
-- reverse: create "new_leads" table
DROP TABLE `new_leads`;
-- reverse: create index "deal_organization_id" to table: "deals"
DROP INDEX `deal_organization_id`;
-- reverse: create index "deal_contact_id" to table: "deals"
DROP INDEX `deal_contact_id`;
-- reverse: create index "deal_pipeline_id" to table: "deals"
DROP INDEX `deal_pipeline_id`;
-- reverse: create index "deal_stage_id" to table: "deals"
DROP INDEX `deal_stage_id`;
-- reverse: create index "deal_workspace_id_expected_close_date" to table: "deals"
DROP INDEX `deal_workspace_id_expected_close_date`;
-- reverse: create index "deal_workspace_id_status" to table: "deals"
DROP INDEX `deal_workspace_id_status`;
-- reverse: create index "deal_workspace_id_external_source_external_id" to table: "deals"
DROP INDEX `deal_workspace_id_external_source_external_id`;
-- reverse: create index "deal_workspace_id_created_at" to table: "deals"
DROP INDEX `deal_workspace_id_created_at`;
-- reverse: create "new_deals" table
DROP TABLE `new_deals`;
-- reverse: create index "contact_organization_id" to table: "contacts"
DROP INDEX `contact_organization_id`;
-- reverse: create index "contact_workspace_id_email" to table: "contacts"
DROP INDEX `contact_workspace_id_email`;
-- reverse: create index "contact_workspace_id_last_name_first_name" to table: "contacts"
DROP INDEX `contact_workspace_id_last_name_first_name`;
-- reverse: create index "contact_workspace_id_external_source_external_id" to table: "contacts"
DROP INDEX `contact_workspace_id_external_source_external_id`;
-- reverse: create index "contact_workspace_id_created_at" to table: "contacts"
DROP INDEX `contact_workspace_id_created_at`;
-- reverse: create "new_contacts" table
DROP TABLE `new_contacts`;
-- reverse: create index "activity_deal_id" to table: "activities"
DROP INDEX `activity_deal_id`;
-- reverse: create index "activity_organization_id" to table: "activities"
DROP INDEX `activity_organization_id`;
-- reverse: create index "activity_contact_id_occurred_at" to table: "activities"
DROP INDEX `activity_contact_id_occurred_at`;
-- reverse: create index "activity_workspace_id_kind_occurred_at" to table: "activities"
DROP INDEX `activity_workspace_id_kind_occurred_at`;
-- reverse: create index "activity_workspace_id_external_source_external_id" to table: "activities"
DROP INDEX `activity_workspace_id_external_source_external_id`;
-- reverse: create index "activity_workspace_id_created_at" to table: "activities"
DROP INDEX `activity_workspace_id_created_at`;
-- reverse: create "new_activities" table
DROP TABLE `new_activities`;
