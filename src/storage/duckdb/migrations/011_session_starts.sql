-- Each view record carries when its session began: the earliest startedAt among the account's
-- records of its session (`session_started_at`), and whether it is that session's first record (by
-- startedAt, then viewId: `session_first`, true on exactly one record a session). The sessions
-- scope of an export selects a period's sessions as a range of the first (no numbering of every
-- session, no join of keys) and counts them with the second. Kept by every write of view records
-- (views.ts, replaceSessions; retention; erasure: sessionstarts.ts); filled for records stored
-- before this migration by backfillSessionStarts at the store's start, a chunk of sessions at a time.
ALTER TABLE view_records ADD COLUMN session_started_at TIMESTAMP;
ALTER TABLE view_records ADD COLUMN session_first BOOLEAN;
