/**
 * When each view record's session began (migration 011): `session_started_at`, the earliest
 * startedAt among the account's records of the session, and `session_first`, true on the session's
 * first record (by startedAt, then viewId), on exactly one record a session. The sessions scope of
 * an export reads a period's sessions as a range of the first and counts them with the second
 * (exportsessions.ts, sessionsql.ts).
 *
 * Every write of view records keeps them: the materializer computes them for the records it writes
 * (firstOfSessions, views.ts replaceSessions); deletions that may take a session's first record
 * (retention, erasure) recompute them for the sessions left (refreshSessionStarts); records stored
 * before the migration are filled at the store's start (backfillSessionStarts).
 */
import type { Db, Param } from './db.ts';

type Run = { run(sql: string, params?: Param[]): Promise<number> };

/**
 * Per session, its start and the view id of its first record, from all of its records:
 * the earliest startedAt, ties to the lowest viewId (compared as the store compares text).
 */
export function firstOfSessions(records: Iterable<{ sessionId: string; startedAt: number; viewId: string }>): Map<string, { start: number; viewId: string }> {
  const out = new Map<string, { start: number; viewId: string }>();
  for (const r of records) {
    const f = out.get(r.sessionId);
    if (!f || r.startedAt < f.start || (r.startedAt === f.start && byteCompare(r.viewId, f.viewId) < 0)) out.set(r.sessionId, { start: r.startedAt, viewId: r.viewId });
  }
  return out;
}

/** Text in the store's order (UTF-8 bytes), which differs from JavaScript's (UTF-16 units) past U+FFFF. */
function byteCompare(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Sets both columns anew on the records of the account's sessions that `sessions` (a SELECT of
 * session ids, its parameters in `params`) names, where they are not already right. Answers the
 * records changed.
 */
export async function refreshSessionStarts(q: Run, accountId: string, sessions: string, params: Param[]): Promise<number> {
  return q.run(
    `UPDATE view_records v SET session_started_at = f.s, session_first = (v.view_id = f.fv)
     FROM (SELECT session_id, min(started_at) AS s, arg_min(view_id, (started_at, view_id)) AS fv FROM view_records
           WHERE account_id = ? AND session_id IN (${sessions}) GROUP BY session_id) f
     WHERE v.account_id = ? AND v.session_id = f.session_id
       AND (v.session_started_at IS DISTINCT FROM f.s OR v.session_first IS DISTINCT FROM (v.view_id = f.fv))`,
    [accountId, ...params, accountId],
  );
}

/** Records a chunk of the backfill aims at: a chunk's per-session aggregate and its UPDATE stay within ~100 MB. */
export const BACKFILL_CHUNK = 500_000;

/**
 * Fills both columns where a record has none (records stored before migration 011), a chunk of
 * whole sessions at a time (by a hash of account and session), each chunk in a transaction of its
 * own: one UPDATE of 10M records held 2.6 GB (bench/README.md). A start interrupted half-way
 * finishes at the next. Answers the records filled.
 */
export async function backfillSessionStarts(db: Db, chunk = BACKFILL_CHUNK): Promise<number> {
  const missing = Number((await db.one<{ n: number }>('SELECT count(*) AS n FROM view_records WHERE session_started_at IS NULL'))?.n ?? 0);
  if (missing === 0) return 0;
  const chunks = Math.max(1, Math.ceil(missing / Math.max(1, chunk)));
  let filled = 0;
  for (let k = 0; k < chunks; k++) {
    const mine = (t: string) => `hash(${t}account_id, ${t}session_id) % ${chunks} = ${k}`;
    filled += await db.tx((q) => q.run(
      `UPDATE view_records v SET session_started_at = f.s, session_first = (v.view_id = f.fv)
       FROM (SELECT account_id, session_id, min(started_at) AS s, arg_min(view_id, (started_at, view_id)) AS fv FROM view_records
             WHERE ${mine('')} AND session_id IN (SELECT session_id FROM view_records WHERE session_started_at IS NULL AND ${mine('')})
             GROUP BY account_id, session_id) f
       WHERE v.account_id = f.account_id AND v.session_id = f.session_id AND ${mine('v.')}`,
    ));
  }
  return filled;
}
