-- An erasure under way (src/privacy/service.ts, erase): where the viewer's data was (their sessions
-- and the hours of their events and records, JSON), written before the first deletion and removed
-- once the erasure is in the audit log. A retry after a failure half-way reads it: the viewer's
-- events are gone by then, and without it the export files that hold them would not be found.
-- `subject` is the keyed hash of the viewer, as in audit_log.
CREATE TABLE pending_erasures (
  account_id VARCHAR NOT NULL,
  subject VARCHAR NOT NULL,
  footprint VARCHAR NOT NULL,
  started_at TIMESTAMP NOT NULL,
  PRIMARY KEY (account_id, subject)
);
