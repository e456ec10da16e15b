-- +goose Up
-- modify "events" table
ALTER TABLE "events" ADD COLUMN "seq" bigint NULL;
-- create index "event_seq" to table: "events"
CREATE INDEX "event_seq" ON "events" ("seq");
-- create index "event_workspace_id_seq" to table: "events"
CREATE INDEX "event_workspace_id_seq" ON "events" ("workspace_id", "seq");

-- +goose Down
-- reverse: create index "event_workspace_id_seq" to table: "events"
DROP INDEX "event_workspace_id_seq";
-- reverse: create index "event_seq" to table: "events"
DROP INDEX "event_seq";
-- reverse: modify "events" table
ALTER TABLE "events" DROP COLUMN "seq";
