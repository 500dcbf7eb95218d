-- Reports (spec/exports.md "Reports", Kinescope's "Export report"): one row a report, its request,
-- its state, the ZIP it produced and whether its one email went out.
CREATE TABLE reports (
  id VARCHAR PRIMARY KEY,
  account_id VARCHAR NOT NULL,
  spec VARCHAR NOT NULL,            -- JSON: period preset and dates, tz, folders, fields, format
  status VARCHAR NOT NULL,          -- pending | running | completed | failed
  attempts INTEGER NOT NULL,
  period_from TIMESTAMP NOT NULL,
  period_to TIMESTAMP NOT NULL,
  rows BIGINT,
  file VARCHAR,                     -- JSON: {name, rows, size, sha256}
  error VARCHAR,
  email VARCHAR,                    -- where the link goes; NULL for none
  email_status VARCHAR NOT NULL,    -- none | pending | sent | failed
  email_error VARCHAR,
  created_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP,
  expires_at TIMESTAMP
);
