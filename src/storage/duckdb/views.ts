/** View records in DuckDB: materialization writes and the aggregate/list reads of every surface. */
import { DuckDBListType, BIGINT, DuckDBListValue, DuckDBTimestampValue, type DuckDBAppender } from '@duckdb/node-api';
import { markUnique, type RecordEvent, type ViewRecord } from '../../metrics/viewRecord.ts';
import { zoneSegments } from '../../metrics/period.ts';
import type { BaseSums, Dimension, GroupKey, RecordRow, RecordSet, ViewRepo } from '../types.ts';
import { fromDuckRow, toDuckParam, type DbLike, type Param, type Row } from './db.ts';
import { rowToEvent } from './events.ts';
import { CATALOG_DURATION, DURATION, FROM, groupSql, whereSql } from './recordsql.ts';
import { firstOfSessions, refreshSessionStarts } from './sessionstarts.ts';

const BIGINT_LIST = new DuckDBListType(BIGINT);
const ts = (ms: number) => new DuckDBTimestampValue(BigInt(ms) * 1000n);

const CARRIED: Array<keyof ViewRecord> = [
  'userId', 'email', 'viewerAccountId', 'viewerName', 'deviceType', 'browser', 'os', 'platform', 'userAgent',
  'ip', 'country', 'region', 'city', 'lat', 'lon', 'org', 'url', 'referrer', 'domain', 'title',
];

/** One record, with its session's start and whether it is the session's first record (sessionstarts.ts). */
function appendRecord(app: DuckDBAppender, r: ViewRecord, session: { start: number; viewId: string }): void {
  app.appendVarchar(r.accountId);
  app.appendVarchar(r.viewId);
  app.appendVarchar(r.contentId);
  app.appendVarchar(r.sessionId);
  app.appendVarchar(r.viewer);
  app.appendTimestamp(ts(r.startedAt));
  app.appendTimestamp(ts(r.lastEventAt));
  app.appendInteger(r.loads);
  app.appendList(new DuckDBListValue(r.loadTimes.map((t) => BigInt(t))), BIGINT_LIST);
  app.appendList(new DuckDBListValue(r.progressMinutes.map((t) => BigInt(t))), BIGINT_LIST);
  app.appendBoolean(r.played);
  app.appendBoolean(r.counted);
  app.appendBoolean(r.completed);
  app.appendBoolean(r.unique === true);
  app.appendVarchar(r.hm);
  app.appendBigInt(BigInt(r.uniqueSeconds));
  app.appendBigInt(BigInt(r.totalSeconds));
  if (r.duration === null) app.appendNull();
  else app.appendInteger(r.duration);
  app.appendDouble(r.longestRun);
  app.appendInteger(r.rebufferCount);
  app.appendDouble(r.rebufferTime);
  app.appendInteger(r.errorCount);
  for (const f of CARRIED) {
    const v = r[f];
    if (v === null || v === undefined) app.appendNull();
    else if (typeof v === 'number') app.appendDouble(v);
    else app.appendVarchar(String(v));
  }
  app.appendTimestamp(ts(session.start));
  app.appendBoolean(session.viewId === r.viewId);
  app.endRow();
}

/**
 * The view_records columns a piece of SQL reads as `v.<column>`, for subqueries that unnest a list
 * per record: carrying only those (not `*`) keeps the unnested rows narrow.
 */
function columnsOf(sql: string, always: string[] = []): string {
  const cols = new Set(['account_id', 'content_id', ...always]);
  for (const m of sql.matchAll(/\bv\.([a-z_]+)/g)) if (m[1] !== 'load_at' && m[1] !== 'minute_at') cols.add(m[1]);
  return [...cols].join(', ');
}

/** What recordRow reads: every column but the per-record lists (load times, progress minutes). */
const RECORD_COLUMNS = [
  'view_id', 'content_id', 'session_id', 'viewer', 'started_at', 'is_unique', 'played', 'counted', 'completed', 'hm', 'unique_seconds',
  'total_seconds', 'loads', 'title', 'email', 'viewer_account_id', 'viewer_name', 'user_id', 'ip', 'user_agent', 'country', 'region',
  'city', 'lat', 'lon', 'org', 'url', 'referrer', 'domain', 'device_type', 'platform', 'os', 'browser',
].map((c) => `v.${c}`).join(', ');

const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));

function recordRow(r: Row): RecordRow {
  const s = (k: string) => (r[k] as string | null) ?? null;
  const duration = r.duration === null || r.duration === undefined ? null : Number(r.duration);
  const uniqueSeconds = num(r.unique_seconds);
  return {
    viewId: r.view_id as string, contentId: r.content_id as string, sessionId: r.session_id as string, viewer: r.viewer as string,
    startedAt: r.started_at as number, unique: r.is_unique as boolean, played: r.played as boolean, counted: r.counted as boolean,
    completed: r.completed as boolean, hm: r.hm as string, uniqueSeconds, totalSeconds: num(r.total_seconds), duration,
    percentViewed: duration === null ? null : Math.min(1, uniqueSeconds / duration),
    title: s('catalog_title') ?? s('title'), email: s('email'), viewerAccountId: s('viewer_account_id'), viewerName: s('viewer_name'), userId: s('user_id'),
    ip: s('ip'), userAgent: s('user_agent'), country: s('country'), region: s('region'), city: s('city'),
    lat: (r.lat as number | null) ?? null, lon: (r.lon as number | null) ?? null, org: s('org'), url: s('url'), referrer: s('referrer'),
    domain: s('domain'), deviceType: s('device_type'), platform: s('platform'), os: s('os'), browser: s('browser'), loads: num(r.loads),
  };
}

export function viewRepo(db: DbLike): ViewRepo {
  return {
    async streamDirtySessions(afterSeq, uptoSeq, visit) {
      await db.with(async (q) => {
        const result = await q.conn.stream(
          `SELECT e.* FROM events e
           SEMI JOIN (SELECT DISTINCT account_id, session_id FROM events WHERE seq > ? AND seq <= ? AND NOT is_bot) d
             ON e.account_id = d.account_id AND e.session_id = d.session_id
           WHERE NOT e.is_bot ORDER BY e.account_id, e.session_id`,
          [afterSeq, uptoSeq].map(toDuckParam),
        );
        let cur: RecordEvent[] = [];
        let account = '';
        let session = '';
        for await (const rows of result.yieldRowObjectJs()) {
          for (const raw of rows) {
            const e = rowToEvent(fromDuckRow(raw as Row));
            if (cur.length && (e.accountId !== account || e.sessionId !== session)) {
              await visit(account, session, cur);
              cur = [];
            }
            account = e.accountId;
            session = e.sessionId;
            cur.push(e);
          }
        }
        if (cur.length) await visit(account, session, cur);
      });
    },
    async replaceSessions(accountId, sessionIds, records, watermark) {
      await db.tx(async (q) => {
        const sessions = JSON.stringify(sessionIds);
        const live = LIVE_SESSIONS.params(accountId, sessions);
        // Records that started before the raw horizon lost raw events to retention: they are final,
        // kept as they are, and what is left of their events never replaces them.
        const finals = await q.all<{ session_id: string; content_id: string; view_id: string; started_at: number }>(
          `SELECT session_id, content_id, view_id, started_at FROM view_records
           WHERE account_id = ? AND session_id IN (SELECT unnest(?::JSON::VARCHAR[])) AND NOT (${LIVE_SESSIONS.where})`,
          [accountId, sessions, ...live],
        );
        const final = new Set(finals.map((r) => `${r.session_id}\u0000${r.content_id}`));
        if (final.size) records = records.filter((r) => !final.has(`${r.sessionId}\u0000${r.contentId}`));
        // Each session's start and first record, from what it holds once this is done: its final
        // records and the new ones (the live ones go). Sessions with final records are set anew in
        // SQL after the append (the finals' columns may change; few sessions straddle the horizon).
        const firsts = firstOfSessions([...finals.map((f) => ({ sessionId: f.session_id, startedAt: f.started_at, viewId: f.view_id })), ...records]);
        // Pairs whose uniqueness may change: those of the old records and of the new ones.
        const old = await q.all<{ viewer: string; content_id: string }>(`SELECT DISTINCT viewer, content_id FROM view_records WHERE ${LIVE_SESSIONS.where}`, live);
        await addToRollupDelta(q, LIVE_SESSIONS.where, live, -1);
        await q.run(`DELETE FROM view_records WHERE ${LIVE_SESSIONS.where}`, live);
        if (records.length) {
          const app = await q.conn.createAppender('view_records');
          try {
            for (const r of records) appendRecord(app, r, firsts.get(r.sessionId)!);
            app.flushSync();
          } finally {
            app.closeSync();
          }
        }
        if (finals.length) await refreshSessionStarts(q, accountId, 'SELECT unnest(?::JSON::VARCHAR[])', [JSON.stringify([...new Set(finals.map((f) => f.session_id))])]);
        await addToRollupDelta(q, 'account_id = ? AND view_id IN (SELECT unnest(?::JSON::VARCHAR[]))', [accountId, JSON.stringify(records.map((r) => r.viewId))], 1);
        await foldRollupDelta(q, accountId);
        const viewers = [...new Set([...old.map((o) => o.viewer), ...records.map((r) => r.viewer)])];
        if (viewers.length) {
          const pairs = await q.all<{ view_id: string; viewer: string; content_id: string; played: boolean; started_at: number }>(
            'SELECT view_id, viewer, content_id, played, started_at FROM view_records WHERE account_id = ? AND viewer IN (SELECT unnest(?::JSON::VARCHAR[]))',
            [accountId, JSON.stringify(viewers)],
          );
          const marked = markUnique(pairs.map((p) => ({ viewId: p.view_id, accountId, contentId: p.content_id, viewer: p.viewer, played: p.played, startedAt: p.started_at })));
          const uniques = marked.filter((m) => m.unique).map((m) => m.viewId);
          await q.run(
            `UPDATE view_records SET is_unique = NOT is_unique
             WHERE account_id = ? AND viewer IN (SELECT unnest(?::JSON::VARCHAR[]))
               AND is_unique <> (view_id IN (SELECT unnest(?::JSON::VARCHAR[])))`,
            [accountId, JSON.stringify(viewers), JSON.stringify(uniques)],
          );
        }
        if (watermark !== null) await setWatermark(q, watermark);
      });
    },
    async sessionEvents(accountId, sessionIds) {
      const rows = await db.all('SELECT * FROM events WHERE account_id = ? AND session_id IN (SELECT unnest(?::JSON::VARCHAR[])) AND NOT is_bot ORDER BY session_id, seq', [
        accountId, JSON.stringify(sessionIds),
      ]);
      return rows.map(rowToEvent);
    },
    async watermark() {
      return (await db.one<{ value: number }>("SELECT value FROM worker_state WHERE name = 'materialized_seq'"))?.value ?? 0;
    },
    setWatermark: (seq) => db.with((q) => setWatermark(q, seq)),
    async aggregate(set, groupBy) {
      if (rollupCan(set, groupBy)) return rollupAggregate(db, set, groupBy);
      const params: Param[] = [];
      const g = groupSql(groupBy, 'v.started_at', set);
      const where = whereSql(set, 'v.started_at', params);
      const rows = await db.all(
        `SELECT ${g.select}
           count(*) AS records,
           count(*) FILTER (WHERE v.played) AS played,
           count(*) FILTER (WHERE v.counted) AS views,
           coalesce(sum(v.unique_seconds) FILTER (WHERE v.played), 0) AS watch_time,
           coalesce(sum(v.unique_seconds) FILTER (WHERE v.played AND ${DURATION} IS NOT NULL), 0) AS depth_watch_time,
           coalesce(sum(${DURATION}) FILTER (WHERE v.counted), 0) AS depth_denominator,
           count(*) FILTER (WHERE v.completed AND v.played) AS completed,
           coalesce(sum(v.rebuffer_count), 0) AS rebuffer_count,
           coalesce(sum(v.rebuffer_time), 0) AS rebuffer_time,
           coalesce(sum(v.error_count), 0) AS error_count
         FROM ${FROM} WHERE ${where} ${g.groupBy}`,
        params,
      );
      return rows.map((r): BaseSums => ({
        key: g.key(r), records: num(r.records), played: num(r.played), views: num(r.views), watchTime: num(r.watch_time),
        depthWatchTime: num(r.depth_watch_time), depthDenominator: num(r.depth_denominator), completed: num(r.completed),
        rebufferCount: num(r.rebuffer_count), rebufferTime: num(r.rebuffer_time), errorCount: num(r.error_count),
      }));
    },
    async loads(set, groupBy) {
      if (rollupCan(set, groupBy)) return rollupLoads(db, set, groupBy);
      const params: Param[] = [];
      const g = groupSql(groupBy, 'v.load_at', set);
      const where = whereSql(set, 'v.load_at', params);
      const rows = await db.all(
        `SELECT ${g.select} count(*) AS loads
         FROM (SELECT ${columnsOf(g.select + where)}, epoch_ms(unnest(load_times)) AS load_at FROM view_records WHERE account_id = ? AND loads > 0) v
         LEFT JOIN videos c ON c.account_id = v.account_id AND c.content_id = v.content_id
         WHERE ${where} ${g.groupBy}`,
        [set.accountId, ...params],
      );
      return rows.map((r) => ({ key: g.key(r), loads: num(r.loads) }));
    },
    async peakConcurrent(set, groupBy) {
      const params: Param[] = [];
      // Over the set's records (a record belongs to the day of its start, metrics.md), each minute
      // of their progress counted, after midnight too: the peak of the same records as the row's views.
      const g = groupSql(groupBy, 'v.started_at', set);
      const where = whereSql(set, 'v.started_at', params);
      const keys = groupBy.map((_, i) => `k${i}`);
      const rows = await db.all(
        `SELECT ${keys.map((k) => k + ', ').join('')} max(n) AS peak FROM (
           SELECT ${g.select} v.minute_at, count(DISTINCT v.session_id) AS n
           FROM (SELECT ${columnsOf(g.select + where, ['session_id'])}, epoch_ms(unnest(progress_minutes) * 60000) AS minute_at
                 FROM view_records WHERE account_id = ? AND len(progress_minutes) > 0) v
           LEFT JOIN videos c ON c.account_id = v.account_id AND c.content_id = v.content_id
           WHERE ${where} GROUP BY ${[...keys, 'v.minute_at'].join(', ')}
         ) ${keys.length ? 'GROUP BY ' + keys.join(', ') : ''}`,
        [set.accountId, ...params],
      );
      return rows.map((r) => ({ key: g.key(r), peak: num(r.peak) }));
    },
    async list(set, opts) {
      const params: Param[] = [];
      const where = whereSql(set, 'v.started_at', params) + (opts.playedOnly ? ' AND v.played' : '');
      const dir = opts.order === 'asc' ? 'ASC' : 'DESC';
      const rows = await db.all(
        `SELECT ${RECORD_COLUMNS}, ${DURATION} AS duration, coalesce(c.title, v.title) AS catalog_title FROM ${FROM}
         WHERE ${where} ORDER BY v.started_at ${dir}, v.view_id ${dir} LIMIT ? OFFSET ?`,
        [...params, opts.limit, opts.offset],
      );
      return rows.map(recordRow);
    },
    async stream(set, opts, visit) {
      const params: Param[] = [];
      const where = whereSql(set, 'v.started_at', params) + (opts.playedOnly ? ' AND v.played' : '');
      const dir = opts.order === 'asc' ? 'ASC' : 'DESC';
      await db.with(async (q) => {
        const result = await q.conn.stream(
          `SELECT ${RECORD_COLUMNS}, ${DURATION} AS duration, coalesce(c.title, v.title) AS catalog_title FROM ${FROM}
           WHERE ${where} ORDER BY v.started_at ${dir}, v.view_id ${dir}`,
          params.map(toDuckParam),
        );
        for await (const rows of result.yieldRowObjectJs()) await visit(rows.map((r) => recordRow(fromDuckRow(r as Row))));
      });
    },
    async count(set, opts) {
      const params: Param[] = [];
      const where = whereSql(set, 'v.started_at', params) + (opts.playedOnly ? ' AND v.played' : '');
      return num((await db.one(`SELECT count(*) AS n FROM ${FROM} WHERE ${where}`, params))?.n);
    },
    async hms(set) {
      const params: Param[] = [];
      const where = whereSql(set, 'v.started_at', params);
      return (await db.all<{ hm: string }>(`SELECT v.hm FROM ${FROM} WHERE ${where} AND v.played AND v.hm <> ''`, params)).map((r) => r.hm);
    },
    async watchingNow(accountId, sinceMs, contentIds) {
      const params: Param[] = [accountId, new Date(sinceMs)];
      let extra = '';
      if (contentIds?.length) {
        extra = ' AND content_id IN (SELECT unnest(?::JSON::VARCHAR[]))';
        params.push(JSON.stringify(contentIds));
      }
      const r = await db.one(
        `SELECT count(DISTINCT session_id) AS n FROM events WHERE account_id = ? AND received_at >= ? AND NOT is_bot
           AND event IN ('playStart', 'watchProgress')${extra}`,
        params,
      );
      return num(r?.n);
    },
  };
}

const DAY_MS = 86_400_000;
/** Tests turn the rollup off to compare its answers with the records' own. */
export const rollupSwitch = { enabled: true };
const ROLLUP_DIMENSIONS: Dimension[] = ['video_id', 'project_id', 'date', 'country'];
const ROLLUP_FILTERS = new Set(['contentIds', 'projectId', 'folder', 'country']);

/**
 * Whether the daily rollup answers a query exactly: whole UTC days, dimensions and filters it keeps
 * (video, project, folder, country, and date where the zone's days are UTC days over the period).
 */
export function rollupCan(set: RecordSet, groupBy: Dimension[]): boolean {
  if (!rollupSwitch.enabled) return false;
  if (set.fromMs % DAY_MS !== 0 || set.toMs % DAY_MS !== 0) return false;
  if (!groupBy.every((d) => ROLLUP_DIMENSIONS.includes(d))) return false;
  if (Object.entries(set.filters).some(([k, v]) => v !== undefined && !ROLLUP_FILTERS.has(k))) return false;
  if (groupBy.includes('date') && !zoneSegments(set.fromMs, set.toMs, set.tz).every((g) => g.offsetMs === 0)) return false;
  return true;
}

/** The rollup shaped like view_records for whereSql/groupSql: a day as a timestamp, null country. */
const ROLLUP_FROM = `(SELECT *, CAST(day AS TIMESTAMP) AS day_ts, NULLIF(country_key, '') AS country FROM view_rollup_daily) v
  LEFT JOIN videos c ON c.account_id = v.account_id AND c.content_id = v.content_id`;

async function rollupAggregate(db: DbLike, set: RecordSet, groupBy: Dimension[]): Promise<BaseSums[]> {
  const params: Param[] = [];
  const g = groupSql(groupBy, 'v.day_ts', set);
  const where = whereSql(set, 'v.day_ts', params);
  const rows = await db.all(
    `SELECT ${g.select}
       sum(v.records) AS records, sum(v.played) AS played, sum(v.views) AS views, sum(v.watch_time) AS watch_time,
       sum(CASE WHEN ${CATALOG_DURATION} IS NOT NULL THEN v.watch_time ELSE v.watch_time_ev END) AS depth_watch_time,
       sum(CASE WHEN ${CATALOG_DURATION} IS NOT NULL THEN ${CATALOG_DURATION} * v.views ELSE v.ev_duration_views END) AS depth_denominator,
       sum(v.completed) AS completed, sum(v.rebuffer_count) AS rebuffer_count, sum(v.rebuffer_time) AS rebuffer_time, sum(v.error_count) AS error_count
     FROM ${ROLLUP_FROM} WHERE ${where} ${g.groupBy} ${groupBy.length ? 'HAVING sum(v.records) > 0' : ''}`,
    params,
  );
  return rows.map((r): BaseSums => ({
    key: g.key(r), records: num(r.records), played: num(r.played), views: num(r.views), watchTime: num(r.watch_time),
    depthWatchTime: num(r.depth_watch_time), depthDenominator: num(r.depth_denominator), completed: num(r.completed),
    rebufferCount: num(r.rebuffer_count), rebufferTime: num(r.rebuffer_time), errorCount: num(r.error_count),
  }));
}

async function rollupLoads(db: DbLike, set: RecordSet, groupBy: Dimension[]): Promise<Array<{ key: GroupKey; loads: number }>> {
  const params: Param[] = [];
  const g = groupSql(groupBy, 'v.day_ts', set);
  const where = whereSql(set, 'v.day_ts', params);
  const rows = await db.all(
    `SELECT ${g.select} sum(v.loads) AS loads FROM ${ROLLUP_FROM} WHERE ${where} ${g.groupBy} ${groupBy.length ? 'HAVING sum(v.loads) > 0' : ''}`,
    params,
  );
  return rows.map((r) => ({ key: g.key(r), loads: num(r.loads) }));
}

type Tx = { run(sql: string, p?: Param[]): Promise<number> };

/** Records of some sessions of an account that are still rebuilt from raw events (started at or after the raw horizon). */
export const LIVE_SESSIONS = {
  where: "account_id = ? AND session_id IN (SELECT unnest(?::JSON::VARCHAR[])) AND started_at >= coalesce((SELECT raw_horizon FROM retention_state WHERE account_id = ?), '-infinity'::TIMESTAMP)",
  params: (accountId: string, sessionsJson: string): Param[] => [accountId, sessionsJson, accountId],
};

/**
 * Adds (sign 1) or removes (sign -1) the contributions of the view records matching `where` (SQL over
 * view_records' own columns) to the pending rollup delta.
 */
export async function addToRollupDelta(q: Tx, where: string, params: Param[], sign: 1 | -1): Promise<void> {
  const of = `FROM view_records WHERE ${where}`;
  await q.run(
    `INSERT INTO view_rollup_delta
     SELECT account_id, content_id, CAST(started_at AS DATE), coalesce(country, ''), ${sign} * count(*), ${sign} * count(*) FILTER (WHERE played),
       ${sign} * count(*) FILTER (WHERE counted), ${sign} * coalesce(sum(unique_seconds) FILTER (WHERE played), 0),
       ${sign} * coalesce(sum(unique_seconds) FILTER (WHERE played AND event_duration IS NOT NULL), 0),
       ${sign} * coalesce(sum(event_duration) FILTER (WHERE counted), 0), ${sign} * count(*) FILTER (WHERE completed AND played),
       ${sign} * coalesce(sum(rebuffer_count), 0), ${sign} * coalesce(sum(rebuffer_time), 0), ${sign} * coalesce(sum(error_count), 0), 0
     ${of} GROUP BY ALL`,
    params,
  );
  await q.run(
    `INSERT INTO view_rollup_delta
     SELECT account_id, content_id, CAST(epoch_ms(load_ms) AS DATE), coalesce(country, ''), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ${sign} * count(*)
     FROM (SELECT account_id, content_id, country, unnest(load_times) AS load_ms ${of} AND loads > 0) GROUP BY ALL`,
    params,
  );
}

const ROLLUP_SUMS = ['records', 'played', 'views', 'watch_time', 'watch_time_ev', 'ev_duration_views', 'completed', 'rebuffer_count', 'rebuffer_time', 'error_count', 'loads'];

/** Folds the pending delta into the rollup (one row a key), drops keys left empty, empties the delta. */
export async function foldRollupDelta(q: Tx, accountId: string): Promise<void> {
  await q.run(
    `INSERT INTO view_rollup_daily
     SELECT account_id, content_id, day, country_key, ${ROLLUP_SUMS.map((c) => `sum(${c})`).join(', ')} FROM view_rollup_delta GROUP BY ALL
     ON CONFLICT (account_id, content_id, day, country_key) DO UPDATE SET ${ROLLUP_SUMS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`,
  );
  await q.run('DELETE FROM view_rollup_daily WHERE account_id = ? AND records = 0 AND loads = 0', [accountId]);
  await q.run('DELETE FROM view_rollup_delta');
}

async function setWatermark(q: { run(sql: string, p?: Param[]): Promise<number> }, seq: number): Promise<void> {
  await q.run("INSERT INTO worker_state VALUES ('materialized_seq', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [seq]);
}

export type { RecordEvent };
