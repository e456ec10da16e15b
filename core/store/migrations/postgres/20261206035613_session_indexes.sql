-- +goose Up
-- create index "session_account_id" to table: "sessions"
CREATE INDEX "session_account_id" ON "sessions" ("account_id");
-- create index "session_expires_at" to table: "sessions"
CREATE INDEX "session_expires_at" ON "sessions" ("expires_at");

-- +goose Down
-- reverse: create index "session_expires_at" to table: "sessions"
DROP INDEX "session_expires_at";
-- reverse: create index "session_account_id" to table: "sessions"
DROP INDEX "session_account_id";
