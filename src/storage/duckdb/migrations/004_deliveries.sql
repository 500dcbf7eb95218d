-- Scheduled exports: each window of a job runs once, and each completed run is delivered by its own
-- persisted job (the outbox) with every attempt kept.

-- One run per (job, window), whoever creates it and however often the scheduler looks.
CREATE UNIQUE INDEX export_runs_job_period ON export_runs (job_id, period_from);

-- What a scheduled job needs beyond export_jobs. A job without a row here (e.g. made by a dialect)
-- is scheduled from its created_at and has no webhook secret.
CREATE TABLE export_schedules (
  job_id VARCHAR PRIMARY KEY,
  account_id VARCHAR NOT NULL,
  -- The Standard Webhooks signing secret (whsec_…). An HMAC key must be kept in clear to sign; it is
  -- shown once at creation, never returned or logged afterwards.
  secret VARCHAR,
  -- Windows that end at or before this are not run (creation, or the last resume).
  origin TIMESTAMP NOT NULL,
  -- Why the schedule was disabled by its receiver (410 Gone); cleared by resume.
  disabled_reason VARCHAR
);

CREATE TABLE deliveries (
  id VARCHAR PRIMARY KEY,           -- also the webhook-id header, the same on every attempt
  account_id VARCHAR NOT NULL,
  job_id VARCHAR NOT NULL,
  run_id VARCHAR NOT NULL,
  channel VARCHAR NOT NULL,         -- webhook | email
  target VARCHAR NOT NULL,          -- the URL or the address
  status VARCHAR NOT NULL,          -- pending | delivered | failed | cancelled
  attempts INTEGER NOT NULL,
  first_attempt_at TIMESTAMP,
  next_attempt_at TIMESTAMP,        -- when pending: due at
  last_error VARCHAR,
  created_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP
);
CREATE UNIQUE INDEX deliveries_run ON deliveries (run_id);

CREATE TABLE delivery_attempts (
  delivery_id VARCHAR NOT NULL,
  n INTEGER NOT NULL,               -- 1 for the first attempt
  account_id VARCHAR NOT NULL,
  job_id VARCHAR NOT NULL,
  run_id VARCHAR NOT NULL,
  attempted_at TIMESTAMP NOT NULL,
  status_code INTEGER,              -- HTTP status; null when no answer came (or email)
  error VARCHAR,                    -- null on success
  duration_ms INTEGER NOT NULL,
  outcome VARCHAR NOT NULL,         -- delivered | retry | failed | disabled
  next_attempt_at TIMESTAMP,        -- when outcome = retry
  PRIMARY KEY (delivery_id, n)
);
