-- +goose Up
-- Deal rollups, kept by core/metrics/rollup in the transaction of every
-- write of a deal, of its stage history or of its pipeline's stages, and
-- rebuilt by `rapport metrics rebuild`. Written by hand: the ent schema
-- does not describe them (see migrategen's handWritten). Months are
-- numbered year·12 + month − 1 (UTC).
--
-- One row per deal that is not deleted: what it adds to the deal series
-- (closed_month is NULL unless it is won or lost with a close date).
CREATE TABLE rollup_deals (
  workspace_id TEXT NOT NULL,
  deal_id TEXT NOT NULL,
  pipeline_id TEXT NOT NULL,
  created_month INTEGER NOT NULL,
  closed_month INTEGER,
  won INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  cycle_micros INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, deal_id)
);
-- One row per such deal and stage it entered: the stage's pipeline, its
-- rank in the funnel when the row was written (open: its position, won:
-- above every open stage, lost: −1) and the month of the first entry.
CREATE TABLE rollup_deal_stages (
  workspace_id TEXT NOT NULL,
  deal_id TEXT NOT NULL,
  stage_id TEXT NOT NULL,
  pipeline_id TEXT NOT NULL,
  stage_rank INTEGER NOT NULL,
  first_month INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, deal_id, stage_id)
);
-- The deal series by the deal's pipeline and month: deals created, and
-- deals won and lost by the month they closed, their amounts and the
-- won deals' cycle (closed_at − created_at) in microseconds.
CREATE TABLE rollup_deal_months (
  workspace_id TEXT NOT NULL,
  pipeline_id TEXT NOT NULL,
  month INTEGER NOT NULL,
  created INTEGER NOT NULL,
  won INTEGER NOT NULL,
  lost INTEGER NOT NULL,
  won_amount INTEGER NOT NULL,
  lost_amount INTEGER NOT NULL,
  won_cycle_micros INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, pipeline_id, month)
);
-- Funnel entries: deals by stage, month created and month the deal first
-- entered the stage.
CREATE TABLE rollup_funnel_entries (
  workspace_id TEXT NOT NULL,
  stage_id TEXT NOT NULL,
  created_month INTEGER NOT NULL,
  month INTEGER NOT NULL,
  deals INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, stage_id, created_month, month)
);
-- Funnel reach: how the number of deals (by pipeline and month created)
-- whose furthest rank in the pipeline is stage_rank moves in a month. Summed
-- over the months before a range's end, it counts the deals by their
-- furthest rank as of that end.
CREATE TABLE rollup_funnel_reach (
  workspace_id TEXT NOT NULL,
  pipeline_id TEXT NOT NULL,
  created_month INTEGER NOT NULL,
  month INTEGER NOT NULL,
  stage_rank INTEGER NOT NULL,
  deals INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, pipeline_id, created_month, month, stage_rank)
);

-- +goose Down
DROP TABLE rollup_funnel_reach;
DROP TABLE rollup_funnel_entries;
DROP TABLE rollup_deal_months;
DROP TABLE rollup_deal_stages;
DROP TABLE rollup_deals;
