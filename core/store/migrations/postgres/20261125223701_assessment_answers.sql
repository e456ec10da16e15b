-- +goose Up
-- create "assessment_answers" table
CREATE TABLE "assessment_answers" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "plugin" character varying NOT NULL, "question" character varying NOT NULL, "answer" bigint NOT NULL, "note" character varying NULL, "answered_by" character varying NOT NULL DEFAULT '', "workspace_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "assessment_answers_workspaces_workspace" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- create index "assessmentanswer_workspace_id_created_at" to table: "assessment_answers"
CREATE INDEX "assessmentanswer_workspace_id_created_at" ON "assessment_answers" ("workspace_id", "created_at");
-- create index "assessmentanswer_workspace_id_plugin_question" to table: "assessment_answers"
CREATE UNIQUE INDEX "assessmentanswer_workspace_id_plugin_question" ON "assessment_answers" ("workspace_id", "plugin", "question");

-- +goose Down
-- reverse: create index "assessmentanswer_workspace_id_plugin_question" to table: "assessment_answers"
DROP INDEX "assessmentanswer_workspace_id_plugin_question";
-- reverse: create index "assessmentanswer_workspace_id_created_at" to table: "assessment_answers"
DROP INDEX "assessmentanswer_workspace_id_created_at";
-- reverse: create "assessment_answers" table
DROP TABLE "assessment_answers";
