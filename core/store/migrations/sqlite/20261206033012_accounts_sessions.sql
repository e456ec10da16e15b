-- +goose Up
-- create "accounts" table
CREATE TABLE `accounts` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `name` text NOT NULL DEFAULT (''), `password_hash` text NOT NULL, `disabled` bool NOT NULL DEFAULT (false), PRIMARY KEY (`id`));
-- create index "accounts_email_key" to table: "accounts"
CREATE UNIQUE INDEX `accounts_email_key` ON `accounts` (`email`);
-- create "account_links" table
CREATE TABLE `account_links` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `token_hash` text NOT NULL, `purpose` text NOT NULL, `email` text NOT NULL, `workspace_id` text NULL, `role` text NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, PRIMARY KEY (`id`));
-- create index "account_links_token_hash_key" to table: "account_links"
CREATE UNIQUE INDEX `account_links_token_hash_key` ON `account_links` (`token_hash`);
-- create index "accountlink_email" to table: "account_links"
CREATE INDEX `accountlink_email` ON `account_links` (`email`);
-- create "login_failures" table
CREATE TABLE `login_failures` (`id` text NOT NULL, `email` text NOT NULL, `ip` text NOT NULL, `at` datetime NOT NULL, PRIMARY KEY (`id`));
-- create index "loginfailure_email_at" to table: "login_failures"
CREATE INDEX `loginfailure_email_at` ON `login_failures` (`email`, `at`);
-- create index "loginfailure_ip_at" to table: "login_failures"
CREATE INDEX `loginfailure_ip_at` ON `login_failures` (`ip`, `at`);
-- create index "loginfailure_at" to table: "login_failures"
CREATE INDEX `loginfailure_at` ON `login_failures` (`at`);
-- create "sessions" table
CREATE TABLE `sessions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `token_hash` text NOT NULL, `workspace_id` text NOT NULL, `csrf` text NOT NULL, `last_seen_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `revoked_at` datetime NULL, `account_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `sessions_accounts_account` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE NO ACTION);
-- create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX `sessions_token_hash_key` ON `sessions` (`token_hash`);

-- +goose Down
-- reverse: create index "sessions_token_hash_key" to table: "sessions"
DROP INDEX `sessions_token_hash_key`;
-- reverse: create "sessions" table
DROP TABLE `sessions`;
-- reverse: create index "loginfailure_at" to table: "login_failures"
DROP INDEX `loginfailure_at`;
-- reverse: create index "loginfailure_ip_at" to table: "login_failures"
DROP INDEX `loginfailure_ip_at`;
-- reverse: create index "loginfailure_email_at" to table: "login_failures"
DROP INDEX `loginfailure_email_at`;
-- reverse: create "login_failures" table
DROP TABLE `login_failures`;
-- reverse: create index "accountlink_email" to table: "account_links"
DROP INDEX `accountlink_email`;
-- reverse: create index "account_links_token_hash_key" to table: "account_links"
DROP INDEX `account_links_token_hash_key`;
-- reverse: create "account_links" table
DROP TABLE `account_links`;
-- reverse: create index "accounts_email_key" to table: "accounts"
DROP INDEX `accounts_email_key`;
-- reverse: create "accounts" table
DROP TABLE `accounts`;
