/**
 * The session start every view record carries (migration 011, src/storage/duckdb/sessionstarts.ts):
 * kept right by every write of view records — the materializer's (a record that started earlier
 * arriving late, ties, records final before the raw horizon), retention and erasure — and filled
 * for records stored before the migration, a chunk of sessions at a time. "Right" is checked
 * against the definition computed afresh from the table.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { buildViewRecord, viewIdOf, type RecordEvent } from '../src/metrics/viewRecord.ts';
import { Db } from '../src/storage/duckdb/db.ts';
import { openDuckDbStore } from '../src/storage/duckdb/index.ts';
import { backfillSessionStarts } from '../src/storage/duckdb/sessionstarts.ts';
import type { Store } from '../src/storage/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'rs-session-starts-'));
const path = join(dir, 'db.duckdb');
after(() => rmSync(dir, { recursive: true, force: true }));

const T = Date.UTC(2026, 0, 31, 12);
const ACC = 'acc_s';
let n = 0;
function ev(sessionId: string, contentId: string, at: number, userId: string | null = null): RecordEvent {
  return {
    id: `e${n++}`, event: 'playStart', timestamp: T + at, receivedAt: T + at + 50, data: null, duration: null, userId, sessionId, contentId,
    email: null, viewerAccountId: null, viewerName: null, deviceType: 'web', url: null, referrer: null, domain: null, ip: null, userAgent: null,
    country: null, region: null, city: null, lat: null, lon: null, org: null, browser: null, os: null, platform: 'desktop', title: null,
  };
}
/** The view record of one content in a session, started `at` ms after T. */
const rec = (sessionId: string, contentId: string, at: number, userId: string | null = null) => buildViewRecord(ACC, [ev(sessionId, contentId, at, userId)], null);
const vid = (sessionId: string, contentId: string) => viewIdOf(ACC, sessionId, contentId);

async function withStore<T>(fn: (s: Store) => Promise<T>): Promise<T> {
  const s = await openDuckDbStore(path);
  try {
    await s.migrate();
    return await fn(s);
  } finally {
    await s.close();
  }
}
async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await Db.open(path, 1);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
/** Records whose stored start or first-record flag differs from the definition, and records with none. */
const WRONG = `SELECT count(*) FILTER (WHERE v.session_started_at IS DISTINCT FROM f.s OR v.session_first IS DISTINCT FROM (v.view_id = f.fv)) AS wrong,
    count(*) FILTER (WHERE v.session_started_at IS NULL) AS missing, count(*) AS n
  FROM view_records v JOIN (SELECT account_id, session_id, min(started_at) AS s, arg_min(view_id, (started_at, view_id)) AS fv FROM view_records GROUP BY ALL) f
    USING (account_id, session_id)`;
async function check(what: string): Promise<void> {
  const r = await withDb((db) => db.one<{ wrong: number; missing: number; n: number }>(WRONG));
  assert.ok(r!.n > 0, `${what}: records to check`);
  assert.equal(Number(r!.wrong), 0, `${what}: every record's session start and first flag as defined`);
  assert.equal(Number(r!.missing), 0, `${what}: none without`);
}
/** Each record of `session`: [view id, ms after T its session started, first]. */
const startsOf = (session: string) => withDb(async (db) => (await db.all<{ v: string; s: number; f: boolean }>(
  'SELECT view_id AS v, epoch_ms(session_started_at) AS s, session_first AS f FROM view_records WHERE account_id = ? AND session_id = ? ORDER BY view_id', [ACC, session],
)).map((r) => [r.v, Number(r.s) - T, r.f]));
const sorted = <T extends unknown[]>(rows: T[]) => rows.sort((a, b) => String(a[0]).localeCompare(String(b[0])));

it('the materializer writes each record\'s session start; a record that started earlier, arriving later, moves it on every record of the session', async () => {
  await withStore((s) => s.views.replaceSessions(ACC, ['s1'], [rec('s1', 'c1', 2000), rec('s1', 'c2', 1000)], null));
  assert.deepEqual(await startsOf('s1'), sorted([[vid('s1', 'c1'), 1000, false], [vid('s1', 'c2'), 1000, true]]));
  await withStore((s) => s.views.replaceSessions(ACC, ['s1'], [rec('s1', 'c1', 2000), rec('s1', 'c2', 1000), rec('s1', 'c3', 500)], null));
  assert.deepEqual(await startsOf('s1'), sorted([[vid('s1', 'c1'), 500, false], [vid('s1', 'c2'), 500, false], [vid('s1', 'c3'), 500, true]]));
  // Two records started at one instant: the lower view id is the first.
  await withStore((s) => s.views.replaceSessions(ACC, ['s2'], [rec('s2', 'a', 3000), rec('s2', 'b', 3000)], null));
  const [lower, higher] = [vid('s2', 'a'), vid('s2', 'b')].sort();
  assert.deepEqual(await startsOf('s2'), [[lower, 3000, true], [higher, 3000, false]]);
  await check('materialized');
});

it('records final before the raw horizon are set anew when a session gains an earlier record; retention and erasure leave the sessions left right', async () => {
  // s1's records at 500 and 1000 become final (raw events before T+1500 expire); a rebuild brings an earlier one.
  await withStore((s) => s.retention.expireRaw(ACC, T + 1500, Number.MAX_SAFE_INTEGER));
  await withStore((s) => s.views.replaceSessions(ACC, ['s1'], [rec('s1', 'c1', 2000), rec('s1', 'c4', 100)], null));
  assert.deepEqual(await startsOf('s1'), sorted([[vid('s1', 'c1'), 100, false], [vid('s1', 'c2'), 100, false], [vid('s1', 'c3'), 100, false], [vid('s1', 'c4'), 100, true]]));
  await check('final records');
  // Aggregates before T+600 expire: s1 begins with its record at 1000.
  await withStore((s) => s.retention.expireAggregates(ACC, T + 600));
  assert.deepEqual(await startsOf('s1'), sorted([[vid('s1', 'c1'), 1000, false], [vid('s1', 'c2'), 1000, true]]));
  await check('retention');
  // A session of two viewers, both records final: erasing the first viewer leaves the other's, now the first.
  await withStore((s) => s.views.replaceSessions(ACC, ['s3'], [rec('s3', 'x', 700, 'u1'), rec('s3', 'y', 800, 'u2')], null));
  assert.deepEqual(await startsOf('s3'), sorted([[vid('s3', 'x'), 700, true], [vid('s3', 'y'), 700, false]]));
  const erased = await withStore((s) => s.privacy.erase(ACC, 'u1', ['s3']));
  assert.equal(erased.viewRecords, 1);
  assert.deepEqual(await startsOf('s3'), [[vid('s3', 'y'), 800, true]]);
  await check('erasure');
});

it('records stored before the migration are filled, a chunk of whole sessions at a time, at the store\'s start', async () => {
  await withDb(async (db) => {
    // More sessions, some of several records, in another account.
    await db.run(`INSERT INTO view_records SELECT v.* REPLACE ('other' AS account_id, 'ov' || i AS view_id, 'os' || (i // 3) AS session_id,
      v.started_at + to_milliseconds((hash(i) % 100000)::BIGINT) AS started_at) FROM view_records v, range(40) t(i) WHERE v.view_id = ?`, [vid('s2', 'a')]);
    await db.run('UPDATE view_records SET session_started_at = NULL, session_first = NULL');
    assert.equal(await backfillSessionStarts(db, 7), 45, 'every record (45) in chunks of about 7');
    assert.equal(await backfillSessionStarts(db, 7), 0, 'nothing left to fill');
  });
  await check('backfilled');
  await withDb((db) => db.run("UPDATE view_records SET session_started_at = NULL, session_first = NULL WHERE account_id = 'other'"));
  await withStore(async () => {}); // a start: migrations, then the backfill
  await check('filled at a start');
});
