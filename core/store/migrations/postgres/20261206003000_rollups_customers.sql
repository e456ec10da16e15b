-- +goose Up
-- Customer rollups, kept by core/metrics/rollup in the transaction of
-- every order write and rebuilt by `rapport metrics rebuild`. Written by
-- hand: the ent schema does not describe them (see migrategen's
-- handWritten).
--
-- One row per customer (an order's organization, else its contact),
-- UTC month and pipeline of the order's deal ('' without one).
CREATE TABLE rollup_customer_months (
  workspace_id TEXT COLLATE "C" NOT NULL,
  customer_id TEXT COLLATE "C" NOT NULL,
  month INTEGER NOT NULL,
  pipeline_id TEXT COLLATE "C" NOT NULL,
  revenue BIGINT NOT NULL,
  margin BIGINT NOT NULL,
  orders BIGINT NOT NULL,
  first_at TIMESTAMPTZ NOT NULL,
  last_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (workspace_id, customer_id, month, pipeline_id)
);
-- One row per customer: every order summed.
CREATE TABLE rollup_customers (
  workspace_id TEXT COLLATE "C" NOT NULL,
  customer_id TEXT COLLATE "C" NOT NULL,
  revenue BIGINT NOT NULL,
  margin BIGINT NOT NULL,
  orders BIGINT NOT NULL,
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
  workspace_id TEXT COLLATE "C" NOT NULL,
  months INTEGER NOT NULL,
  cohort INTEGER NOT NULL,
  period INTEGER NOT NULL,
  buyers BIGINT NOT NULL,
  acquired BIGINT NOT NULL,
  lapsing BIGINT NOT NULL,
  revenue BIGINT NOT NULL,
  margin BIGINT NOT NULL,
  orders BIGINT NOT NULL,
  kept BIGINT NOT NULL,
  lost BIGINT NOT NULL,
  PRIMARY KEY (workspace_id, months, cohort, period)
);

-- +goose Down
DROP TABLE rollup_cohort_cells;
DROP TABLE rollup_customers;
DROP TABLE rollup_customer_months;
