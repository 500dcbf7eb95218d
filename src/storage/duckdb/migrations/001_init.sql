-- Accounts and everything that authenticates against them.
CREATE TABLE accounts (
  id VARCHAR PRIMARY KEY,
  name VARCHAR NOT NULL,
  created_at TIMESTAMP NOT NULL,
  uid_hash VARCHAR,
  uid_enabled BOOLEAN NOT NULL DEFAULT TRUE,
  raw_retention_days INTEGER NOT NULL DEFAULT 90
);

-- Write keys, API tokens and OAuth clients. Only a SHA-256 of each secret is kept.
CREATE TABLE credentials (
  id VARCHAR PRIMARY KEY,
  account_id VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,          -- write_key | api_token | oauth_client
  name VARCHAR,
  public_id VARCHAR,              -- the OAuth client_id; null for the others
  secret_hash VARCHAR NOT NULL,
  prefix VARCHAR NOT NULL,        -- first characters, to recognise a credential in lists
  created_at TIMESTAMP NOT NULL,
  revoked_at TIMESTAMP
);
CREATE INDEX credentials_hash ON credentials (secret_hash);

CREATE TABLE users (
  id VARCHAR PRIMARY KEY,
  account_id VARCHAR NOT NULL,
  email VARCHAR NOT NULL UNIQUE,
  password_hash VARCHAR NOT NULL,
  created_at TIMESTAMP NOT NULL
);

-- The catalog. duration is what a user set; seen_duration the largest duration events reported.
CREATE TABLE projects (
  account_id VARCHAR NOT NULL,
  id VARCHAR NOT NULL,
  name VARCHAR NOT NULL,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL,
  PRIMARY KEY (account_id, id)
);

CREATE TABLE videos (
  account_id VARCHAR NOT NULL,
  content_id VARCHAR NOT NULL,
  title VARCHAR,
  duration DOUBLE,
  seen_duration DOUBLE,
  kind VARCHAR NOT NULL DEFAULT 'video',
  project_id VARCHAR,
  folder VARCHAR,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL,
  PRIMARY KEY (account_id, content_id)
);

-- Raw events, in arrival order (seq). No key constraint: de-duplication is done by the writer
-- (see src/collector/dedupe.ts), which keeps ingest fast as the table grows.
CREATE TABLE events (
  seq BIGINT NOT NULL,
  account_id VARCHAR NOT NULL,
  id VARCHAR NOT NULL,
  fp BIGINT NOT NULL,
  event VARCHAR NOT NULL,
  ts TIMESTAMP NOT NULL,
  received_at TIMESTAMP NOT NULL,
  content_id VARCHAR NOT NULL,
  session_id VARCHAR NOT NULL,
  user_id VARCHAR,
  email VARCHAR,
  viewer_account_id VARCHAR,
  viewer_name VARCHAR,
  device_type VARCHAR NOT NULL,
  playhead DOUBLE,
  url VARCHAR,
  referrer VARCHAR,
  domain VARCHAR,
  title VARCHAR,
  duration DOUBLE,
  data VARCHAR,
  ip VARCHAR,
  user_agent VARCHAR,
  country VARCHAR,
  region VARCHAR,
  city VARCHAR,
  lat DOUBLE,
  lon DOUBLE,
  org VARCHAR,
  browser VARCHAR,
  os VARCHAR,
  platform VARCHAR NOT NULL,
  is_bot BOOLEAN NOT NULL
);
