-- Dashboard sign-in sessions. The cookie carries a random token; only its SHA-256 is kept here.
-- A row outlives its expiry by a while so that an expired cookie is told apart from a forged one
-- (only the latter counts as a failed authentication); sign-out deletes the row.
CREATE TABLE sessions (
  id VARCHAR PRIMARY KEY,           -- ses_…, not secret: names the session in logs and principals
  token_hash VARCHAR NOT NULL,
  account_id VARCHAR NOT NULL,
  user_id VARCHAR NOT NULL,
  created_at TIMESTAMP NOT NULL,
  expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_token_hash ON sessions (token_hash);
