-- +goose Up
-- create "api_tokens" table
CREATE TABLE `api_tokens` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL DEFAULT (''), `token_hash` text NOT NULL, `hint` text NOT NULL DEFAULT (''), `role` text NOT NULL, `expires_at` datetime NULL, `revoked_at` datetime NULL, `last_used_at` datetime NULL, `workspace_id` text NOT NULL, `member_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `api_tokens_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `api_tokens_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE SET NULL);
-- create index "api_tokens_token_hash_key" to table: "api_tokens"
CREATE UNIQUE INDEX `api_tokens_token_hash_key` ON `api_tokens` (`token_hash`);
-- create index "apitoken_workspace_id_created_at" to table: "api_tokens"
CREATE INDEX `apitoken_workspace_id_created_at` ON `api_tokens` (`workspace_id`, `created_at`);
-- create "activities" table
CREATE TABLE `activities` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `deleted_at` datetime NULL, `kind` text NOT NULL, `subject` text NOT NULL, `body` text NULL, `direction` text NULL, `occurred_at` datetime NOT NULL, `due_at` datetime NULL, `done_at` datetime NULL, `workspace_id` text NOT NULL, `contact_id` text NULL, `organization_id` text NULL, `deal_id` text NULL, `lead_id` text NULL, `owner_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `activities_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `activities_contacts_contact` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE SET NULL, CONSTRAINT `activities_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE SET NULL, CONSTRAINT `activities_deals_deal` FOREIGN KEY (`deal_id`) REFERENCES `deals` (`id`) ON DELETE SET NULL, CONSTRAINT `activities_leads_lead` FOREIGN KEY (`lead_id`) REFERENCES `leads` (`id`) ON DELETE SET NULL, CONSTRAINT `activities_members_owner` FOREIGN KEY (`owner_id`) REFERENCES `members` (`id`) ON DELETE SET NULL);
-- create index "activity_workspace_id_created_at" to table: "activities"
CREATE INDEX `activity_workspace_id_created_at` ON `activities` (`workspace_id`, `created_at`);
-- create index "activity_workspace_id_kind_occurred_at" to table: "activities"
CREATE INDEX `activity_workspace_id_kind_occurred_at` ON `activities` (`workspace_id`, `kind`, `occurred_at`);
-- create index "activity_contact_id_occurred_at" to table: "activities"
CREATE INDEX `activity_contact_id_occurred_at` ON `activities` (`contact_id`, `occurred_at`);
-- create index "activity_organization_id" to table: "activities"
CREATE INDEX `activity_organization_id` ON `activities` (`organization_id`);
-- create index "activity_deal_id" to table: "activities"
CREATE INDEX `activity_deal_id` ON `activities` (`deal_id`);
-- create "contacts" table
CREATE TABLE `contacts` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `deleted_at` datetime NULL, `custom_fields` json NULL, `first_name` text NOT NULL DEFAULT (''), `last_name` text NOT NULL, `email` text NULL, `phone` text NULL, `title` text NULL, `workspace_id` text NOT NULL, `organization_id` text NULL, `owner_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `contacts_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `contacts_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE SET NULL, CONSTRAINT `contacts_members_owner` FOREIGN KEY (`owner_id`) REFERENCES `members` (`id`) ON DELETE SET NULL);
-- create index "contact_workspace_id_created_at" to table: "contacts"
CREATE INDEX `contact_workspace_id_created_at` ON `contacts` (`workspace_id`, `created_at`);
-- create index "contact_workspace_id_last_name_first_name" to table: "contacts"
CREATE INDEX `contact_workspace_id_last_name_first_name` ON `contacts` (`workspace_id`, `last_name`, `first_name`);
-- create index "contact_workspace_id_email" to table: "contacts"
CREATE INDEX `contact_workspace_id_email` ON `contacts` (`workspace_id`, `email`);
-- create index "contact_organization_id" to table: "contacts"
CREATE INDEX `contact_organization_id` ON `contacts` (`organization_id`);
-- create "custom_fields" table
CREATE TABLE `custom_fields` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `entity` text NOT NULL, `key` text NOT NULL, `label` text NOT NULL, `type` text NOT NULL, `options` json NULL, `required` bool NOT NULL DEFAULT (false), `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `custom_fields_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "customfield_workspace_id_created_at" to table: "custom_fields"
CREATE INDEX `customfield_workspace_id_created_at` ON `custom_fields` (`workspace_id`, `created_at`);
-- create index "customfield_workspace_id_entity_key" to table: "custom_fields"
CREATE UNIQUE INDEX `customfield_workspace_id_entity_key` ON `custom_fields` (`workspace_id`, `entity`, `key`);
-- create "deals" table
CREATE TABLE `deals` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `deleted_at` datetime NULL, `custom_fields` json NULL, `name` text NOT NULL, `amount` integer NOT NULL DEFAULT (0), `currency` text NOT NULL DEFAULT ('USD'), `status` text NOT NULL DEFAULT ('open'), `probability` real NULL, `expected_close_date` datetime NULL, `closed_at` datetime NULL, `lost_reason` text NULL, `workspace_id` text NOT NULL, `pipeline_id` text NOT NULL, `stage_id` text NOT NULL, `contact_id` text NULL, `organization_id` text NULL, `owner_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `deals_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `deals_pipelines_pipeline` FOREIGN KEY (`pipeline_id`) REFERENCES `pipelines` (`id`) ON DELETE NO ACTION, CONSTRAINT `deals_stages_stage` FOREIGN KEY (`stage_id`) REFERENCES `stages` (`id`) ON DELETE NO ACTION, CONSTRAINT `deals_contacts_contact` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE SET NULL, CONSTRAINT `deals_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE SET NULL, CONSTRAINT `deals_members_owner` FOREIGN KEY (`owner_id`) REFERENCES `members` (`id`) ON DELETE SET NULL);
-- create index "deal_workspace_id_created_at" to table: "deals"
CREATE INDEX `deal_workspace_id_created_at` ON `deals` (`workspace_id`, `created_at`);
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
-- create "leads" table
CREATE TABLE `leads` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `deleted_at` datetime NULL, `custom_fields` json NULL, `title` text NOT NULL, `first_name` text NULL, `last_name` text NULL, `email` text NULL, `phone` text NULL, `company` text NULL, `source` text NULL, `status` text NOT NULL DEFAULT ('new'), `estimated_value` integer NULL, `currency` text NOT NULL DEFAULT ('USD'), `converted_at` datetime NULL, `deal_id` text NULL, `workspace_id` text NOT NULL, `organization_id` text NULL, `contact_id` text NULL, `owner_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `leads_deals_lead` FOREIGN KEY (`deal_id`) REFERENCES `deals` (`id`) ON DELETE SET NULL, CONSTRAINT `leads_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `leads_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE SET NULL, CONSTRAINT `leads_contacts_contact` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE SET NULL, CONSTRAINT `leads_members_owner` FOREIGN KEY (`owner_id`) REFERENCES `members` (`id`) ON DELETE SET NULL);
-- create index "leads_deal_id_key" to table: "leads"
CREATE UNIQUE INDEX `leads_deal_id_key` ON `leads` (`deal_id`);
-- create index "lead_workspace_id_created_at" to table: "leads"
CREATE INDEX `lead_workspace_id_created_at` ON `leads` (`workspace_id`, `created_at`);
-- create index "lead_workspace_id_status" to table: "leads"
CREATE INDEX `lead_workspace_id_status` ON `leads` (`workspace_id`, `status`);
-- create "line_items" table
CREATE TABLE `line_items` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `quantity` integer NOT NULL DEFAULT (1), `unit_price` integer NOT NULL, `amount` integer NOT NULL DEFAULT (0), `workspace_id` text NOT NULL, `product_id` text NULL, `deal_id` text NULL, `order_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `line_items_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `line_items_products_product` FOREIGN KEY (`product_id`) REFERENCES `products` (`id`) ON DELETE SET NULL, CONSTRAINT `line_items_deals_deal` FOREIGN KEY (`deal_id`) REFERENCES `deals` (`id`) ON DELETE SET NULL, CONSTRAINT `line_items_orders_order` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`) ON DELETE SET NULL);
-- create index "lineitem_workspace_id_created_at" to table: "line_items"
CREATE INDEX `lineitem_workspace_id_created_at` ON `line_items` (`workspace_id`, `created_at`);
-- create index "lineitem_deal_id" to table: "line_items"
CREATE INDEX `lineitem_deal_id` ON `line_items` (`deal_id`);
-- create index "lineitem_order_id" to table: "line_items"
CREATE INDEX `lineitem_order_id` ON `line_items` (`order_id`);
-- create index "lineitem_product_id" to table: "line_items"
CREATE INDEX `lineitem_product_id` ON `line_items` (`product_id`);
-- create "members" table
CREATE TABLE `members` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `email` text NOT NULL, `role` text NOT NULL DEFAULT ('member'), `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `members_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "member_workspace_id_created_at" to table: "members"
CREATE INDEX `member_workspace_id_created_at` ON `members` (`workspace_id`, `created_at`);
-- create index "member_workspace_id_email" to table: "members"
CREATE UNIQUE INDEX `member_workspace_id_email` ON `members` (`workspace_id`, `email`);
-- create "orders" table
CREATE TABLE `orders` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `number` text NULL, `amount` integer NOT NULL, `cost` integer NOT NULL DEFAULT (0), `currency` text NOT NULL DEFAULT ('USD'), `ordered_at` datetime NOT NULL, `workspace_id` text NOT NULL, `contact_id` text NULL, `organization_id` text NULL, `deal_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `orders_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `orders_contacts_contact` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE SET NULL, CONSTRAINT `orders_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE SET NULL, CONSTRAINT `orders_deals_deal` FOREIGN KEY (`deal_id`) REFERENCES `deals` (`id`) ON DELETE SET NULL);
-- create index "order_workspace_id_created_at" to table: "orders"
CREATE INDEX `order_workspace_id_created_at` ON `orders` (`workspace_id`, `created_at`);
-- create index "order_workspace_id_ordered_at" to table: "orders"
CREATE INDEX `order_workspace_id_ordered_at` ON `orders` (`workspace_id`, `ordered_at`);
-- create index "order_contact_id_ordered_at" to table: "orders"
CREATE INDEX `order_contact_id_ordered_at` ON `orders` (`contact_id`, `ordered_at`);
-- create index "order_organization_id_ordered_at" to table: "orders"
CREATE INDEX `order_organization_id_ordered_at` ON `orders` (`organization_id`, `ordered_at`);
-- create "organizations" table
CREATE TABLE `organizations` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `deleted_at` datetime NULL, `custom_fields` json NULL, `name` text NOT NULL, `domain` text NULL, `industry` text NULL, `employees` integer NULL, `workspace_id` text NOT NULL, `owner_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `organizations_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `organizations_members_owner` FOREIGN KEY (`owner_id`) REFERENCES `members` (`id`) ON DELETE SET NULL);
-- create index "organization_workspace_id_created_at" to table: "organizations"
CREATE INDEX `organization_workspace_id_created_at` ON `organizations` (`workspace_id`, `created_at`);
-- create index "organization_workspace_id_name" to table: "organizations"
CREATE INDEX `organization_workspace_id_name` ON `organizations` (`workspace_id`, `name`);
-- create index "organization_workspace_id_domain" to table: "organizations"
CREATE INDEX `organization_workspace_id_domain` ON `organizations` (`workspace_id`, `domain`);
-- create "pipelines" table
CREATE TABLE `pipelines` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `is_default` bool NOT NULL DEFAULT (false), `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `pipelines_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "pipeline_workspace_id_created_at" to table: "pipelines"
CREATE INDEX `pipeline_workspace_id_created_at` ON `pipelines` (`workspace_id`, `created_at`);
-- create "products" table
CREATE TABLE `products` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `deleted_at` datetime NULL, `name` text NOT NULL, `sku` text NULL, `description` text NULL, `price` integer NOT NULL DEFAULT (0), `unit_cost` integer NOT NULL DEFAULT (0), `currency` text NOT NULL DEFAULT ('USD'), `active` bool NOT NULL DEFAULT (true), `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `products_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "product_workspace_id_created_at" to table: "products"
CREATE INDEX `product_workspace_id_created_at` ON `products` (`workspace_id`, `created_at`);
-- create index "product_workspace_id_sku" to table: "products"
CREATE INDEX `product_workspace_id_sku` ON `products` (`workspace_id`, `sku`);
-- create "scores" table
CREATE TABLE `scores` (`id` text NOT NULL, `subject_type` text NOT NULL, `subject_id` text NOT NULL, `point` text NOT NULL DEFAULT ('score'), `plugin` text NOT NULL, `plugin_version` text NOT NULL, `value` real NOT NULL, `label` text NULL, `explanation` json NULL, `computed_at` datetime NOT NULL, `created_at` datetime NOT NULL, `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `scores_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "score_workspace_id_created_at" to table: "scores"
CREATE INDEX `score_workspace_id_created_at` ON `scores` (`workspace_id`, `created_at`);
-- create index "score_workspace_id_subject_type_subject_id_computed_at" to table: "scores"
CREATE INDEX `score_workspace_id_subject_type_subject_id_computed_at` ON `scores` (`workspace_id`, `subject_type`, `subject_id`, `computed_at`);
-- create index "score_workspace_id_plugin_computed_at" to table: "scores"
CREATE INDEX `score_workspace_id_plugin_computed_at` ON `scores` (`workspace_id`, `plugin`, `computed_at`);
-- create "segments" table
CREATE TABLE `segments` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `key` text NOT NULL, `name` text NOT NULL, `description` text NULL, `source` text NOT NULL DEFAULT ('manual'), `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `segments_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "segment_workspace_id_created_at" to table: "segments"
CREATE INDEX `segment_workspace_id_created_at` ON `segments` (`workspace_id`, `created_at`);
-- create index "segment_workspace_id_key" to table: "segments"
CREATE UNIQUE INDEX `segment_workspace_id_key` ON `segments` (`workspace_id`, `key`);
-- create "segment_memberships" table
CREATE TABLE `segment_memberships` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `subject_type` text NOT NULL, `subject_id` text NOT NULL, `weight` real NULL, `workspace_id` text NOT NULL, `segment_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `segment_memberships_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `segment_memberships_segments_segment` FOREIGN KEY (`segment_id`) REFERENCES `segments` (`id`) ON DELETE NO ACTION);
-- create index "segmentmembership_workspace_id_created_at" to table: "segment_memberships"
CREATE INDEX `segmentmembership_workspace_id_created_at` ON `segment_memberships` (`workspace_id`, `created_at`);
-- create index "segmentmembership_segment_id_subject_type_subject_id" to table: "segment_memberships"
CREATE UNIQUE INDEX `segmentmembership_segment_id_subject_type_subject_id` ON `segment_memberships` (`segment_id`, `subject_type`, `subject_id`);
-- create index "segmentmembership_workspace_id_subject_type_subject_id" to table: "segment_memberships"
CREATE INDEX `segmentmembership_workspace_id_subject_type_subject_id` ON `segment_memberships` (`workspace_id`, `subject_type`, `subject_id`);
-- create "stages" table
CREATE TABLE `stages` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `position` integer NOT NULL, `probability` real NOT NULL DEFAULT (0), `kind` text NOT NULL DEFAULT ('open'), `workspace_id` text NOT NULL, `pipeline_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `stages_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `stages_pipelines_pipeline` FOREIGN KEY (`pipeline_id`) REFERENCES `pipelines` (`id`) ON DELETE NO ACTION);
-- create index "stage_workspace_id_created_at" to table: "stages"
CREATE INDEX `stage_workspace_id_created_at` ON `stages` (`workspace_id`, `created_at`);
-- create index "stage_pipeline_id_position" to table: "stages"
CREATE INDEX `stage_pipeline_id_position` ON `stages` (`pipeline_id`, `position`);
-- create "stage_changes" table
CREATE TABLE `stage_changes` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `changed_at` datetime NOT NULL, `actor` text NOT NULL DEFAULT (''), `workspace_id` text NOT NULL, `deal_id` text NOT NULL, `from_stage_id` text NULL, `to_stage_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `stage_changes_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION, CONSTRAINT `stage_changes_deals_deal` FOREIGN KEY (`deal_id`) REFERENCES `deals` (`id`) ON DELETE NO ACTION, CONSTRAINT `stage_changes_stages_from_stage` FOREIGN KEY (`from_stage_id`) REFERENCES `stages` (`id`) ON DELETE SET NULL, CONSTRAINT `stage_changes_stages_to_stage` FOREIGN KEY (`to_stage_id`) REFERENCES `stages` (`id`) ON DELETE NO ACTION);
-- create index "stagechange_workspace_id_created_at" to table: "stage_changes"
CREATE INDEX `stagechange_workspace_id_created_at` ON `stage_changes` (`workspace_id`, `created_at`);
-- create index "stagechange_deal_id_changed_at" to table: "stage_changes"
CREATE INDEX `stagechange_deal_id_changed_at` ON `stage_changes` (`deal_id`, `changed_at`);
-- create index "stagechange_workspace_id_changed_at" to table: "stage_changes"
CREATE INDEX `stagechange_workspace_id_changed_at` ON `stage_changes` (`workspace_id`, `changed_at`);
-- create "tags" table
CREATE TABLE `tags` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `color` text NULL, `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `tags_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "tag_workspace_id_created_at" to table: "tags"
CREATE INDEX `tag_workspace_id_created_at` ON `tags` (`workspace_id`, `created_at`);
-- create index "tag_workspace_id_name" to table: "tags"
CREATE UNIQUE INDEX `tag_workspace_id_name` ON `tags` (`workspace_id`, `name`);
-- create "timeline_events" table
CREATE TABLE `timeline_events` (`id` text NOT NULL, `action` text NOT NULL, `subject_type` text NOT NULL, `subject_id` text NOT NULL, `actor` text NOT NULL DEFAULT (''), `changes` json NULL, `occurred_at` datetime NOT NULL, `created_at` datetime NOT NULL, `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `timeline_events_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "timelineevent_workspace_id_created_at" to table: "timeline_events"
CREATE INDEX `timelineevent_workspace_id_created_at` ON `timeline_events` (`workspace_id`, `created_at`);
-- create index "timelineevent_workspace_id_subject_id_occurred_at" to table: "timeline_events"
CREATE INDEX `timelineevent_workspace_id_subject_id_occurred_at` ON `timeline_events` (`workspace_id`, `subject_id`, `occurred_at`);
-- create index "timelineevent_workspace_id_occurred_at" to table: "timeline_events"
CREATE INDEX `timelineevent_workspace_id_occurred_at` ON `timeline_events` (`workspace_id`, `occurred_at`);
-- create "workspaces" table
CREATE TABLE `workspaces` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `slug` text NOT NULL, PRIMARY KEY (`id`));
-- create index "workspaces_slug_key" to table: "workspaces"
CREATE UNIQUE INDEX `workspaces_slug_key` ON `workspaces` (`slug`);
-- create "contact_tags" table
CREATE TABLE `contact_tags` (`contact_id` text NOT NULL, `tag_id` text NOT NULL, PRIMARY KEY (`contact_id`, `tag_id`), CONSTRAINT `contact_tags_contact_id` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE CASCADE, CONSTRAINT `contact_tags_tag_id` FOREIGN KEY (`tag_id`) REFERENCES `tags` (`id`) ON DELETE CASCADE);
-- create "deal_tags" table
CREATE TABLE `deal_tags` (`deal_id` text NOT NULL, `tag_id` text NOT NULL, PRIMARY KEY (`deal_id`, `tag_id`), CONSTRAINT `deal_tags_deal_id` FOREIGN KEY (`deal_id`) REFERENCES `deals` (`id`) ON DELETE CASCADE, CONSTRAINT `deal_tags_tag_id` FOREIGN KEY (`tag_id`) REFERENCES `tags` (`id`) ON DELETE CASCADE);
-- create "organization_tags" table
CREATE TABLE `organization_tags` (`organization_id` text NOT NULL, `tag_id` text NOT NULL, PRIMARY KEY (`organization_id`, `tag_id`), CONSTRAINT `organization_tags_organization_id` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE CASCADE, CONSTRAINT `organization_tags_tag_id` FOREIGN KEY (`tag_id`) REFERENCES `tags` (`id`) ON DELETE CASCADE);

-- +goose Down
-- reverse: create "organization_tags" table
DROP TABLE `organization_tags`;
-- reverse: create "deal_tags" table
DROP TABLE `deal_tags`;
-- reverse: create "contact_tags" table
DROP TABLE `contact_tags`;
-- reverse: create index "workspaces_slug_key" to table: "workspaces"
DROP INDEX `workspaces_slug_key`;
-- reverse: create "workspaces" table
DROP TABLE `workspaces`;
-- reverse: create index "timelineevent_workspace_id_occurred_at" to table: "timeline_events"
DROP INDEX `timelineevent_workspace_id_occurred_at`;
-- reverse: create index "timelineevent_workspace_id_subject_id_occurred_at" to table: "timeline_events"
DROP INDEX `timelineevent_workspace_id_subject_id_occurred_at`;
-- reverse: create index "timelineevent_workspace_id_created_at" to table: "timeline_events"
DROP INDEX `timelineevent_workspace_id_created_at`;
-- reverse: create "timeline_events" table
DROP TABLE `timeline_events`;
-- reverse: create index "tag_workspace_id_name" to table: "tags"
DROP INDEX `tag_workspace_id_name`;
-- reverse: create index "tag_workspace_id_created_at" to table: "tags"
DROP INDEX `tag_workspace_id_created_at`;
-- reverse: create "tags" table
DROP TABLE `tags`;
-- reverse: create index "stagechange_workspace_id_changed_at" to table: "stage_changes"
DROP INDEX `stagechange_workspace_id_changed_at`;
-- reverse: create index "stagechange_deal_id_changed_at" to table: "stage_changes"
DROP INDEX `stagechange_deal_id_changed_at`;
-- reverse: create index "stagechange_workspace_id_created_at" to table: "stage_changes"
DROP INDEX `stagechange_workspace_id_created_at`;
-- reverse: create "stage_changes" table
DROP TABLE `stage_changes`;
-- reverse: create index "stage_pipeline_id_position" to table: "stages"
DROP INDEX `stage_pipeline_id_position`;
-- reverse: create index "stage_workspace_id_created_at" to table: "stages"
DROP INDEX `stage_workspace_id_created_at`;
-- reverse: create "stages" table
DROP TABLE `stages`;
-- reverse: create index "segmentmembership_workspace_id_subject_type_subject_id" to table: "segment_memberships"
DROP INDEX `segmentmembership_workspace_id_subject_type_subject_id`;
-- reverse: create index "segmentmembership_segment_id_subject_type_subject_id" to table: "segment_memberships"
DROP INDEX `segmentmembership_segment_id_subject_type_subject_id`;
-- reverse: create index "segmentmembership_workspace_id_created_at" to table: "segment_memberships"
DROP INDEX `segmentmembership_workspace_id_created_at`;
-- reverse: create "segment_memberships" table
DROP TABLE `segment_memberships`;
-- reverse: create index "segment_workspace_id_key" to table: "segments"
DROP INDEX `segment_workspace_id_key`;
-- reverse: create index "segment_workspace_id_created_at" to table: "segments"
DROP INDEX `segment_workspace_id_created_at`;
-- reverse: create "segments" table
DROP TABLE `segments`;
-- reverse: create index "score_workspace_id_plugin_computed_at" to table: "scores"
DROP INDEX `score_workspace_id_plugin_computed_at`;
-- reverse: create index "score_workspace_id_subject_type_subject_id_computed_at" to table: "scores"
DROP INDEX `score_workspace_id_subject_type_subject_id_computed_at`;
-- reverse: create index "score_workspace_id_created_at" to table: "scores"
DROP INDEX `score_workspace_id_created_at`;
-- reverse: create "scores" table
DROP TABLE `scores`;
-- reverse: create index "product_workspace_id_sku" to table: "products"
DROP INDEX `product_workspace_id_sku`;
-- reverse: create index "product_workspace_id_created_at" to table: "products"
DROP INDEX `product_workspace_id_created_at`;
-- reverse: create "products" table
DROP TABLE `products`;
-- reverse: create index "pipeline_workspace_id_created_at" to table: "pipelines"
DROP INDEX `pipeline_workspace_id_created_at`;
-- reverse: create "pipelines" table
DROP TABLE `pipelines`;
-- reverse: create index "organization_workspace_id_domain" to table: "organizations"
DROP INDEX `organization_workspace_id_domain`;
-- reverse: create index "organization_workspace_id_name" to table: "organizations"
DROP INDEX `organization_workspace_id_name`;
-- reverse: create index "organization_workspace_id_created_at" to table: "organizations"
DROP INDEX `organization_workspace_id_created_at`;
-- reverse: create "organizations" table
DROP TABLE `organizations`;
-- reverse: create index "order_organization_id_ordered_at" to table: "orders"
DROP INDEX `order_organization_id_ordered_at`;
-- reverse: create index "order_contact_id_ordered_at" to table: "orders"
DROP INDEX `order_contact_id_ordered_at`;
-- reverse: create index "order_workspace_id_ordered_at" to table: "orders"
DROP INDEX `order_workspace_id_ordered_at`;
-- reverse: create index "order_workspace_id_created_at" to table: "orders"
DROP INDEX `order_workspace_id_created_at`;
-- reverse: create "orders" table
DROP TABLE `orders`;
-- reverse: create index "member_workspace_id_email" to table: "members"
DROP INDEX `member_workspace_id_email`;
-- reverse: create index "member_workspace_id_created_at" to table: "members"
DROP INDEX `member_workspace_id_created_at`;
-- reverse: create "members" table
DROP TABLE `members`;
-- reverse: create index "lineitem_product_id" to table: "line_items"
DROP INDEX `lineitem_product_id`;
-- reverse: create index "lineitem_order_id" to table: "line_items"
DROP INDEX `lineitem_order_id`;
-- reverse: create index "lineitem_deal_id" to table: "line_items"
DROP INDEX `lineitem_deal_id`;
-- reverse: create index "lineitem_workspace_id_created_at" to table: "line_items"
DROP INDEX `lineitem_workspace_id_created_at`;
-- reverse: create "line_items" table
DROP TABLE `line_items`;
-- reverse: create index "lead_workspace_id_status" to table: "leads"
DROP INDEX `lead_workspace_id_status`;
-- reverse: create index "lead_workspace_id_created_at" to table: "leads"
DROP INDEX `lead_workspace_id_created_at`;
-- reverse: create index "leads_deal_id_key" to table: "leads"
DROP INDEX `leads_deal_id_key`;
-- reverse: create "leads" table
DROP TABLE `leads`;
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
-- reverse: create index "deal_workspace_id_created_at" to table: "deals"
DROP INDEX `deal_workspace_id_created_at`;
-- reverse: create "deals" table
DROP TABLE `deals`;
-- reverse: create index "customfield_workspace_id_entity_key" to table: "custom_fields"
DROP INDEX `customfield_workspace_id_entity_key`;
-- reverse: create index "customfield_workspace_id_created_at" to table: "custom_fields"
DROP INDEX `customfield_workspace_id_created_at`;
-- reverse: create "custom_fields" table
DROP TABLE `custom_fields`;
-- reverse: create index "contact_organization_id" to table: "contacts"
DROP INDEX `contact_organization_id`;
-- reverse: create index "contact_workspace_id_email" to table: "contacts"
DROP INDEX `contact_workspace_id_email`;
-- reverse: create index "contact_workspace_id_last_name_first_name" to table: "contacts"
DROP INDEX `contact_workspace_id_last_name_first_name`;
-- reverse: create index "contact_workspace_id_created_at" to table: "contacts"
DROP INDEX `contact_workspace_id_created_at`;
-- reverse: create "contacts" table
DROP TABLE `contacts`;
-- reverse: create index "activity_deal_id" to table: "activities"
DROP INDEX `activity_deal_id`;
-- reverse: create index "activity_organization_id" to table: "activities"
DROP INDEX `activity_organization_id`;
-- reverse: create index "activity_contact_id_occurred_at" to table: "activities"
DROP INDEX `activity_contact_id_occurred_at`;
-- reverse: create index "activity_workspace_id_kind_occurred_at" to table: "activities"
DROP INDEX `activity_workspace_id_kind_occurred_at`;
-- reverse: create index "activity_workspace_id_created_at" to table: "activities"
DROP INDEX `activity_workspace_id_created_at`;
-- reverse: create "activities" table
DROP TABLE `activities`;
-- reverse: create index "apitoken_workspace_id_created_at" to table: "api_tokens"
DROP INDEX `apitoken_workspace_id_created_at`;
-- reverse: create index "api_tokens_token_hash_key" to table: "api_tokens"
DROP INDEX `api_tokens_token_hash_key`;
-- reverse: create "api_tokens" table
DROP TABLE `api_tokens`;
