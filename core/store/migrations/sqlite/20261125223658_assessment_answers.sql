-- +goose Up
-- create "assessment_answers" table
CREATE TABLE `assessment_answers` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `plugin` text NOT NULL, `question` text NOT NULL, `answer` integer NOT NULL, `note` text NULL, `answered_by` text NOT NULL DEFAULT (''), `workspace_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `assessment_answers_workspaces_workspace` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces` (`id`) ON DELETE NO ACTION);
-- create index "assessmentanswer_workspace_id_created_at" to table: "assessment_answers"
CREATE INDEX `assessmentanswer_workspace_id_created_at` ON `assessment_answers` (`workspace_id`, `created_at`);
-- create index "assessmentanswer_workspace_id_plugin_question" to table: "assessment_answers"
CREATE UNIQUE INDEX `assessmentanswer_workspace_id_plugin_question` ON `assessment_answers` (`workspace_id`, `plugin`, `question`);

-- +goose Down
-- reverse: create index "assessmentanswer_workspace_id_plugin_question" to table: "assessment_answers"
DROP INDEX `assessmentanswer_workspace_id_plugin_question`;
-- reverse: create index "assessmentanswer_workspace_id_created_at" to table: "assessment_answers"
DROP INDEX `assessmentanswer_workspace_id_created_at`;
-- reverse: create "assessment_answers" table
DROP TABLE `assessment_answers`;
