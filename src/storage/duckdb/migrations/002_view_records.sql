-- View records (spec/metrics.md), materialized from raw events by src/metrics/materializer.ts and
-- kept after the raw events expire: every aggregate is computed from these rows.
CREATE TABLE view_records (
  account_id VARCHAR NOT NULL,
  view_id VARCHAR NOT NULL,
  content_id VARCHAR NOT NULL,
  session_id VARCHAR NOT NULL,
  viewer VARCHAR NOT NULL,
  started_at TIMESTAMP NOT NULL,
  last_event_at TIMESTAMP NOT NULL,
  loads INTEGER NOT NULL,
  load_times BIGINT[] NOT NULL,        -- epoch ms of each impression
  progress_minutes BIGINT[] NOT NULL,  -- epoch minutes with a watchProgress
  played BOOLEAN NOT NULL,
  counted BOOLEAN NOT NULL,
  completed BOOLEAN NOT NULL,
  is_unique BOOLEAN NOT NULL DEFAULT FALSE,
  hm VARCHAR NOT NULL,
  unique_seconds BIGINT NOT NULL,
  total_seconds BIGINT NOT NULL,
  event_duration INTEGER,              -- whole seconds from events; the catalog's wins at query time
  longest_run DOUBLE NOT NULL,
  rebuffer_count INTEGER NOT NULL,
  rebuffer_time DOUBLE NOT NULL,
  error_count INTEGER NOT NULL,
  user_id VARCHAR, email VARCHAR, viewer_account_id VARCHAR, viewer_name VARCHAR,
  device_type VARCHAR, browser VARCHAR, os VARCHAR, platform VARCHAR, user_agent VARCHAR,
  ip VARCHAR, country VARCHAR, region VARCHAR, city VARCHAR, lat DOUBLE, lon DOUBLE, org VARCHAR,
  url VARCHAR, referrer VARCHAR, domain VARCHAR, title VARCHAR
);

-- Small key/value state of background workers (the materializer's watermark).
CREATE TABLE worker_state (
  name VARCHAR PRIMARY KEY,
  value BIGINT NOT NULL
);
