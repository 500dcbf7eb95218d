-- Privacy and lifecycle (spec/exports.md "Per-user data", "Retention"): retention settings of each
-- account, how far each kind of data has been swept, the viewers whose new events are refused, and
-- the audit log of exports, erasures and retention changes.

-- Days each kind of data is kept (raw_retention_days, for raw events, is in 001). DuckDB cannot add
-- a NOT NULL column; the adapter reads NULL as the default.
ALTER TABLE accounts ADD COLUMN aggregate_retention_days INTEGER DEFAULT 730;
ALTER TABLE accounts ADD COLUMN export_file_retention_days INTEGER DEFAULT 7;

-- How far the sweeper has gone, per account. Raw events with ts < raw_horizon are gone: a view
-- record that started before it lost events and is final (never rebuilt from what is left).
CREATE TABLE retention_state (
  account_id VARCHAR PRIMARY KEY,
  raw_horizon TIMESTAMP,
  aggregate_horizon TIMESTAMP
);

-- Why an export run's files were removed before their expiry (a viewer's erasure, retention).
ALTER TABLE export_runs ADD COLUMN files_removed VARCHAR;

-- Viewers whose new events the collector refuses (an erasure with ?suppress=true). Only a keyed hash
-- (HMAC-SHA256 with DATA_DIR/privacy.key) of the userId is kept, so the erased id is not stored.
CREATE TABLE suppressed_viewers (
  account_id VARCHAR NOT NULL,
  subject VARCHAR NOT NULL,
  created_at TIMESTAMP NOT NULL,
  PRIMARY KEY (account_id, subject)
);

-- Who exported or erased a viewer's data or changed retention, and when. `subject` is the keyed
-- hash of the viewer, never the userId itself.
CREATE TABLE audit_log (
  id VARCHAR PRIMARY KEY,
  account_id VARCHAR NOT NULL,
  occurred_at TIMESTAMP NOT NULL,
  actor_kind VARCHAR NOT NULL,      -- api_token | password | …: how the caller authenticated
  actor_id VARCHAR,                 -- the credential or user id
  action VARCHAR NOT NULL,          -- viewer.export | viewer.erase | viewer.unsuppress | retention.update
  subject VARCHAR,
  details VARCHAR NOT NULL          -- JSON
);
CREATE INDEX audit_log_account ON audit_log (account_id, occurred_at);
