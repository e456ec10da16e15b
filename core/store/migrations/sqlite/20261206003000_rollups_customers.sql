-- +goose Up
-- Customer rollups, kept by core/metrics/rollup in the transaction of
-- every order write and rebuilt by `rapport metrics rebuild`. Written by
-- hand: the ent schema does not describe them (see migrategen's
-- handWritten).
--
-- One row per customer (an order's organization, else its contact),
-- UTC month and pipeline of the order's deal ('' without one).
CREATE TABLE rollup_customer_months (
  workspace_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  month INTEGER NOT NULL,
  pipeline_id TEXT NOT NULL,
  revenue INTEGER NOT NULL,
  margin INTEGER NOT NULL,
  orders INTEGER NOT NULL,
  first_at DATETIME NOT NULL,
  last_at DATETIME NOT NULL,
  PRIMARY KEY (workspace_id, customer_id, month, pipeline_id)
);
-- One row per customer: every order summed.
CREATE TABLE rollup_customers (
  workspace_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  revenue INTEGER NOT NULL,
  margin INTEGER NOT NULL,
  orders INTEGER NOT NULL,
  first_month INTEGER NOT NULL,
  last_month INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, customer_id)
);
CREATE INDEX rollup_customers_margin ON rollup_customers (workspace_id, margin, customer_id);
CREATE INDEX rollup_customers_last ON rollup_customers (workspace_id, last_month);
-- The customer base by cohort (period of the first order) and period,
-- for each period length (1, 3 or 12 months) with an activity window of
-- one period: what core/metrics derives the customer series, the cohort
-- matrix and CLV from.
CREATE TABLE rollup_cohort_cells (
  workspace_id TEXT NOT NULL,
  months INTEGER NOT NULL,
  cohort INTEGER NOT NULL,
  period INTEGER NOT NULL,
  buyers INTEGER NOT NULL,
  acquired INTEGER NOT NULL,
  lapsing INTEGER NOT NULL,
  revenue INTEGER NOT NULL,
  margin INTEGER NOT NULL,
  orders INTEGER NOT NULL,
  kept INTEGER NOT NULL,
  lost INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, months, cohort, period)
);

-- +goose Down
DROP TABLE rollup_cohort_cells;
DROP TABLE rollup_customers;
DROP TABLE rollup_customer_months;
