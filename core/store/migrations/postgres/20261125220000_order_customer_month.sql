-- +goose Up
-- Orders by customer and UTC month, with their amounts, for the customer
-- metrics (core/metrics: customerMonth). Written by hand: the expressions
-- must be the ones core/metrics queries with.
CREATE INDEX "order_customer_month" ON "orders" ("workspace_id", (COALESCE("organization_id", "contact_id") COLLATE "C"), (CAST(date_part('year', ordered_at AT TIME ZONE 'UTC') AS INTEGER) * 12 + CAST(date_part('month', ordered_at AT TIME ZONE 'UTC') AS INTEGER) - 1)) INCLUDE ("amount", "cost", "ordered_at", "organization_id", "contact_id", "deal_id");

-- +goose Down
DROP INDEX "order_customer_month";
