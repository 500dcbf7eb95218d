-- Export jobs (what to export, how often, where to) and their runs (one window each).
CREATE TABLE export_jobs (
  id VARCHAR PRIMARY KEY,
  account_id VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,            -- once | hourly | daily | weekly
  spec VARCHAR NOT NULL,            -- JSON: scope, format, fields, filters, types, delivery…
  state VARCHAR NOT NULL,           -- active | paused | deleted
  created_at TIMESTAMP NOT NULL
);

CREATE TABLE export_runs (
  id VARCHAR PRIMARY KEY,
  job_id VARCHAR NOT NULL,
  account_id VARCHAR NOT NULL,
  period_from TIMESTAMP NOT NULL,
  period_to TIMESTAMP NOT NULL,
  status VARCHAR NOT NULL,          -- pending | running | completed | failed
  attempts INTEGER NOT NULL,
  rows BIGINT,
  files VARCHAR,                    -- JSON: [{name, rows, size, sha256}]
  error VARCHAR,
  created_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP,
  expires_at TIMESTAMP
);
