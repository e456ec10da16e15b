-- +goose Up
-- Engagement rollups, kept by core/metrics/rollup in the transaction of
-- every activity and contact write and rebuilt by `rapport metrics
-- rebuild`. Written by hand: the ent schema does not describe them (see
-- migrategen's handWritten). Only contacts not deleted, and their
-- activities not deleted, are rolled up.
--
-- One row per contact: when it was created and its latest activity
-- (NULL for none).
CREATE TABLE rollup_contacts (
  workspace_id TEXT COLLATE "C" NOT NULL,
  contact_id TEXT COLLATE "C" NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  last_at TIMESTAMPTZ NULL,
  PRIMARY KEY (workspace_id, contact_id)
);
-- One row per contact, UTC month and activity kind: the activities, the
-- outbound emails and how many of them an inbound email of the contact
-- followed within 7 days, and the first and last activity.
CREATE TABLE rollup_contact_months (
  workspace_id TEXT COLLATE "C" NOT NULL,
  contact_id TEXT COLLATE "C" NOT NULL,
  month INTEGER NOT NULL,
  kind TEXT COLLATE "C" NOT NULL,
  activities BIGINT NOT NULL,
  outbound BIGINT NOT NULL,
  replied BIGINT NOT NULL,
  first_at TIMESTAMPTZ NOT NULL,
  last_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (workspace_id, contact_id, month, kind)
);
-- rollup_contact_months summed over the contacts, by month and kind.
CREATE TABLE rollup_engagement_months (
  workspace_id TEXT COLLATE "C" NOT NULL,
  month INTEGER NOT NULL,
  kind TEXT COLLATE "C" NOT NULL,
  activities BIGINT NOT NULL,
  outbound BIGINT NOT NULL,
  replied BIGINT NOT NULL,
  PRIMARY KEY (workspace_id, month, kind)
);
-- The contacts created in each UTC month.
CREATE TABLE rollup_engagement_created (
  workspace_id TEXT COLLATE "C" NOT NULL,
  month INTEGER NOT NULL,
  contacts BIGINT NOT NULL,
  PRIMARY KEY (workspace_id, month)
);

-- +goose Down
DROP TABLE rollup_engagement_created;
DROP TABLE rollup_engagement_months;
DROP TABLE rollup_contact_months;
DROP TABLE rollup_contacts;
