/**
 * The SQL of the sessions scope's export reads (exportsessions.ts): the per-session sums
 * (sessionsFrom), ranges of the session start every view record stores (rangedSessions), and the
 * numbering of a filtered export's sessions in windows of first-event time (sessionKeysWindowSql).
 */
import type { ExportSource, SessionBound } from '../types.ts';
import type { Param } from './db.ts';
import { afterRowid, FROM, recordsOf, whereSql } from './recordsql.ts';

/** The value of the session's earliest record (by startedAt, then viewId) that has one. */
const firstOf = (col: string) => `arg_min(${col}, (v.started_at, v.view_id)) FILTER (WHERE ${col} IS NOT NULL)`;

/** The columns of a view record a session row is summed from (sessionsFrom), gathered (sessionRecordsSpan). */
const SESSION_ATTRS = ['viewer', 'user_id', 'email', 'viewer_account_id', 'viewer_name', 'device_type', 'platform', 'browser', 'os', 'user_agent', 'ip',
  'country', 'region', 'city', 'lat', 'lon', 'org', 'url', 'referrer', 'domain'];
const SESSION_INPUT = ['session_id', 'started_at', 'last_event_at', 'view_id', 'content_id', 'played', 'counted', 'completed', 'unique_seconds',
  'total_seconds', 'loads', 'rebuffer_count', 'rebuffer_time', 'error_count', ...SESSION_ATTRS];

/**
 * One row a session: every view record of each (account, sessionId) whose earliest record started in
 * [fromMs, toMs), summed by the metric rules (views = counted records, watch time = uniqueSeconds of
 * played records, player loads = impressions). Filters select the records a row sums. Reads the
 * slice's records from those gathered for its part (`part.records`: a read_parquet() of the files
 * sessionRecordsSpan or rangedRecordsSpan filled): a range of rn of the part's keys, or of sessions
 * (`from`, `to`: every record of a session carries its start, migration 011).
 */
export function sessionsFrom(src: ExportSource, params: Param[], part: SessionRange | SessionSpan): string {
  if (!part.records) throw new Error('a slice of the sessions scope is read from its gathered records');
  if ('from' in part) return `(${sessionSums(part.records, inSessions(params, part), '')}) s`;
  params.push(part.offset, part.offset + part.limit, new Date(src.fromMs));
  return `(${sessionSums(part.records, 'v.rn >= ? AND v.rn < ?', 'HAVING min(v.started_at) >= ?')}) s`;
}

/**
 * The sums of a session row (sessionsFrom) over `records` (as `v`: SESSION_INPUT and project_id)
 * WHERE `where`, by session. Integer sums are cast back from DuckDB's HUGEINT, which Parquet
 * would write as DOUBLE (the catalog says integer). Rebuffer seconds are summed as decimals (to the
 * nanosecond), exactly, so in any order: a sum of doubles depends on the order of its terms
 * (0.1 + 0.2 + 0.3 is not 0.3 + 0.2 + 0.1), which differs between the two ways to gather a
 * session's records, and between runs on several DuckDB threads.
 */
function sessionSums(records: string, where: string, having: string): string {
  return `SELECT v.session_id,
      min(v.started_at) AS first_event_at,
      max(v.last_event_at) AS last_event_at,
      date_diff('millisecond', min(v.started_at), max(v.last_event_at)) / 1000.0 AS session_duration,
      list_transform(list_sort(list({'s': v.started_at, 'v': v.view_id, 'c': v.content_id})), x -> x.c) AS content_ids,
      count(*) AS content_count,
      count(*) FILTER (WHERE v.played) AS unique_views,
      count(*) FILTER (WHERE v.counted) AS views,
      coalesce(sum(v.unique_seconds) FILTER (WHERE v.played), 0)::BIGINT AS watch_time,
      coalesce(sum(v.total_seconds), 0)::BIGINT AS total_seconds,
      coalesce(sum(v.loads), 0)::BIGINT AS player_loads,
      count(*) FILTER (WHERE v.completed) AS completions,
      coalesce(sum(v.rebuffer_count), 0)::BIGINT AS rebuffer_count,
      coalesce(sum(v.rebuffer_time::DECIMAL(38, 9)), 0)::DOUBLE AS rebuffer_time,
      coalesce(sum(v.error_count), 0)::BIGINT AS error_count,
      ${firstOf('v.project_id')} AS project_id,
      ${SESSION_ATTRS.map((a) => `${firstOf(`v.${a}`)} AS ${a}`).join(',\n      ')}
    FROM ${records} v WHERE ${where}
    GROUP BY v.session_id ${having}`;
}

/**
 * Whether the sessions scope reads `src` as ranges of the records' session starts (migration 011):
 * every export but a selective one (filters, or a period from before 1970), where the first
 * *selected* record of a session decides, which the stored start cannot tell: those number the
 * period's sessions (sessionKeysWindowSql).
 */
export const rangedSessions = (src: ExportSource) => src.scope === 'sessions' && !selective(src);

/** A range of sessions (`from` included, `to` not), in the sessions' export order; `records`: what reads the records gathered for it. */
export type SessionSpan = { from: SessionBound; to: SessionBound; records?: string };

/** The start of epoch microsecond `us` in the sessions' order. */
export const boundAt = (us: number): SessionBound => ({ t: us, id: '' });

/**
 * The records of the sessions in `r`: their stored start (`t`) and session id (`id`) between its
 * bounds, the first test one a zone map can answer. Times in epoch microseconds.
 */
function inSessions(params: Param[], r: { from: SessionBound; to: SessionBound }, t = 'v.session_started_at', id = 'v.session_id'): string {
  params.push(r.from.t, r.to.t, r.from.t, r.from.id, r.to.t, r.to.id);
  return `${t} >= make_timestamp(?::BIGINT) AND ${t} <= make_timestamp(?::BIGINT)
    AND (${t} > make_timestamp(?::BIGINT) OR ${id} >= ?) AND (${t} < make_timestamp(?::BIGINT) OR ${id} < ?)`;
}

/** The period's sessions a minute (`m`: epoch minutes; `s`: sessions begun in it), in order: where ranges of sessions are cut. */
export function sessionMinutesSql(src: ExportSource, params: Param[]): string {
  params.push(src.accountId, src.fromMs * 1000, src.toMs * 1000);
  return `SELECT epoch_us(session_started_at) // 60000000 AS m, count(*) FILTER (WHERE session_first) AS s FROM view_records
    WHERE account_id = ? AND session_started_at >= make_timestamp(?::BIGINT) AND session_started_at < make_timestamp(?::BIGINT) GROUP BY 1 ORDER BY 1`;
}

/** The number of sessions in `r` (`n`). */
export function sessionCountSql(src: ExportSource, params: Param[], r: { from: SessionBound; to: SessionBound }): string {
  params.push(src.accountId);
  return `SELECT count(*) AS n FROM view_records v WHERE v.account_id = ? AND v.session_first AND ${inSessions(params, r)}`;
}

/** The session `k` places after the start of `r` (`t`: its start in epoch µs, `id`). */
export function sessionNthSql(src: ExportSource, params: Param[], r: { from: SessionBound; to: SessionBound }, k: number): string {
  params.push(src.accountId);
  return `SELECT epoch_us(v.session_started_at) AS t, v.session_id AS id FROM view_records v WHERE v.account_id = ? AND v.session_first AND ${inSessions(params, r)}
    ORDER BY v.session_started_at, v.session_id LIMIT 1 OFFSET ${Math.trunc(k)}`;
}

/** The records of the sessions in `r` in buckets of `bucket` rowids (`b`, `n`: records, `hi`: the highest rowid), in order: where a part's gathering spans are cut. */
export function sessionRowidBucketsSql(src: ExportSource, params: Param[], r: { from: SessionBound; to: SessionBound }, bucket: number): string {
  params.push(src.accountId);
  return `SELECT v.rowid // ${Math.trunc(bucket)} AS b, count(*) AS n, max(v.rowid) AS hi FROM view_records v WHERE v.account_id = ? AND ${inSessions(params, r)} GROUP BY 1 ORDER BY 1`;
}

/**
 * The records of the sessions in `part` that lie in rowids (after, through]: the columns
 * sessionsFrom sums, their session's start, the catalog's project id — sorted by session (start,
 * id), then by record (startedAt, viewId), so that a file of them has row groups a slice's range
 * of sessions prunes to, and its rows come in one order whatever the plan (a sum of doubles depends
 * on it). Every test comes after the rowid range (afterRowid), as in sessionRecordsSpan.
 */
export function rangedRecordsSpan(src: ExportSource, params: Param[], part: SessionSpan, span: { after: number; through: number }): string {
  params.push(src.accountId);
  const account = afterRowid('v.account_id', 'v.account_id = ?');
  const sessions = afterRowid('v.session_started_at', inSessions(params, part));
  params.push(span.after, span.through);
  return `SELECT ${SESSION_INPUT.map((c) => `v.${c}`).join(', ')}, v.session_started_at, c.project_id
    FROM ${FROM} WHERE ${account} AND ${sessions} AND v.rowid > ? AND v.rowid <= ?
    ORDER BY v.session_started_at, v.session_id, v.started_at, v.view_id`;
}

/**
 * The records of a part's sessions (rn in [offset, offset + limit) of its keys) that lie in
 * rowids (after, through]: the columns sessionsFrom sums, the catalog's project id and the
 * session's rn, sorted by rn, then in storage order. A part's records are gathered a span of rowids
 * at a time into files (exports.ts), the cache handed back between spans, and each slice sums its
 * sessions' from the files (their row groups pruned by rn): where the records of a period lie
 * scattered over the table, one statement a slice read nearly every block of it and kept it (~950 MB
 * for a million sessions at a 1GB limit), and gathering slice by slice read the table once a slice.
 * The keys hold the period's sessions alone, so their records need no test of the period; and
 * those records started within the part's window (`started`). Every test of the scan comes after
 * the rowid range (whereSql's inRowidRanges, afterRowid), and the session is matched as an
 * expression, so that the join pushes no filter into the scan beside the rowid range: ten spans of
 * a million rowids took 4.4 s with the account's equality pushed, 2.3 s as an expression.
 */
export function sessionRecordsSpan(src: ExportSource, params: Param[], part: SessionRange, span: { after: number; through: number }): string {
  if (!part.keys) throw new Error('a part of the sessions scope needs its keys');
  const where = recordFilters(src, params, true);
  let window = '';
  if (part.started) {
    window = ` AND ${afterRowid('v.started_at', 'v.started_at >= ? AND v.started_at < ?')}`;
    params.push(new Date(part.started[0]), new Date(part.started[1]));
  }
  params.push(span.after, span.through);
  return `SELECT ${SESSION_INPUT.map((c) => `v.${c}`).join(', ')}, c.project_id, k.rn
    FROM ${FROM} JOIN (SELECT session_id, rn FROM ${part.keys} WHERE rn >= ${Math.trunc(part.offset)} AND rn < ${Math.trunc(part.offset + part.limit)}) k
      ON k.session_id = (v.session_id || '')
    WHERE ${where}${window} AND v.rowid > ? AND v.rowid <= ?
    ORDER BY k.rn, v.rowid`;
}

/** The rowids (lowest, highest) of the account's records that started in a sessions part's window [from, to) epoch ms, for sessionRecordsSpan's spans. */
export function sessionRowidsSql(src: ExportSource, params: Param[], started: readonly [number, number]): string {
  params.push(src.accountId, new Date(started[0]), new Date(started[1]));
  return 'SELECT min(rowid) AS lo, max(rowid) AS hi FROM view_records WHERE account_id = ? AND started_at >= ? AND started_at < ?';
}

/** The account's view records the filters select, whenever they started (`inRowidRanges`: see whereSql). */
const recordFilters = (src: ExportSource, params: Param[], inRowidRanges?: boolean) =>
  whereSql({ accountId: src.accountId, fromMs: 0, toMs: Date.UTC(9999, 0, 1), tz: 'UTC', filters: src.filters }, 'v.started_at', params, inRowidRanges);

/**
 * Whether the records a session row sums may leave out some of the account's records of the period
 * (sessionKeysWindows' last window): filters, or a period starting before 1970 (recordFilters
 * selects records from 1970 on).
 */
const selective = (src: ExportSource) => src.fromMs < 0 || Object.values(src.filters).some((v) => v !== undefined && !(Array.isArray(v) && v.length === 0));

/**
 * The windows of first-event time the period's sessions are numbered a window at a time in
 * (sessionKeysWindowSql), so that numbering holds a window's sessions, not the period's (an
 * aggregate of a million sessions held ~85 MB of hash table, and the period's sessions as one
 * statement were the peak of a sessions export from ~2M on). `starts`: the first minutes (epoch ms
 * // 60000) of the period's minutes cut into runs of about `records` filtered records started in
 * them (sessionWindowsSql); a minute holding more is a window of its own. The windows cover
 * [fromMs, toMs), and, where filters (or the 1970 bound) leave out some records, [toMs, ∞): a
 * session's first selected record may start after the period its first record is in.
 */
export function sessionKeysWindows(src: ExportSource, starts: number[]): Array<{ from: number; to: number | null }> {
  const bounds = [src.fromMs, ...starts.slice(1).map((m) => m * 60_000).filter((ms) => ms > src.fromMs && ms < src.toMs)];
  const windows: Array<{ from: number; to: number | null }> = bounds.map((from, i) => ({ from, to: bounds[i + 1] ?? src.toMs }));
  if (selective(src)) windows.push({ from: src.toMs, to: null });
  return windows;
}

/** The minutes sessionKeysWindows cuts the period at (`lo`, in order): runs of ~`records` filtered records. */
export function sessionWindowsSql(src: ExportSource, params: Param[], records: number): string {
  const where = recordFilters(src, params);
  params.push(new Date(src.fromMs), new Date(src.toMs));
  return `SELECT min(m) AS lo FROM (SELECT m, sum(n) OVER (ORDER BY m ROWS UNBOUNDED PRECEDING) AS cum FROM (
      SELECT epoch_ms(v.started_at) // 60000 AS m, count(*) AS n FROM ${recordsOf(src)} WHERE ${where} AND v.started_at >= ? AND v.started_at < ? GROUP BY 1))
    GROUP BY (cum - 1) // ${Math.max(1, Math.trunc(records))} ORDER BY 1`;
}

/**
 * The period's sessions whose first record (under the filters) started in `window`, numbered in
 * export order (first event, session id; rn from `offset.rn`) with the first and last start of their
 * records, their records (`n`) and the records of the sessions before them (`records_before`, from
 * `offset.records`: slices of records, not sessions) — written to a file a window (exports.ts);
 * parts and slices are ranges of rn. A session of the period has a record in it and its first
 * record under the filters at or after its start: one that started in a window of the period is
 * such a record, so those windows need no test of the period; the last window, after it, tests it
 * (its sessions are few: only filters, or the 1970 bound, put a session's first selected record
 * after the period). The window emits its rows in rn order, and the COPY keeps it (checked: rn is
 * the file's row number), so the files' row groups prune by rn; every read filters by rn, so another
 * order would cost time, not rows. A top-N of each slice's keys used to repeat this aggregate every slice.
 */
export function sessionKeysWindowSql(src: ExportSource, params: Param[], window: { from: number; to: number | null }, offset: { rn: number; records: number }): string {
  // `t` within the window, its parameters pushed
  const within = (t: string) => {
    params.push(new Date(window.from), ...(window.to === null ? [] : [new Date(window.to)]));
    return `${t} >= ?${window.to === null ? '' : ` AND ${t} < ?`}`;
  };
  const where = recordFilters(src, params);
  const candidates = recordFilters(src, params);
  const started = within('v.started_at');
  let period = '';
  if (window.to === null) {
    period = ' AND v.session_id IN (SELECT session_id FROM view_records WHERE account_id = ? AND started_at >= ? AND started_at < ?)';
    params.push(src.accountId, new Date(src.fromMs), new Date(src.toMs));
  }
  const first = within('min(v.started_at)');
  const order = 'ORDER BY first_event_at, session_id';
  return `SELECT session_id, first_event_at, last_started_at, n, (row_number() OVER (${order}) - 1 + ${Math.trunc(offset.rn)})::BIGINT AS rn,
      (coalesce(sum(n) OVER (${order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) + ${Math.trunc(offset.records)})::BIGINT AS records_before
    FROM (SELECT v.session_id, min(v.started_at) AS first_event_at, max(v.started_at) AS last_started_at, count(*) AS n
      FROM ${recordsOf(src)} WHERE ${where}
        AND v.session_id IN (SELECT v.session_id FROM ${recordsOf(src)} WHERE ${candidates} AND ${started})${period}
      GROUP BY v.session_id HAVING ${first})`;
}

/**
 * A range of the sessions scope: rn in [offset, offset + limit) of `keys` (what reads them); `started`: [from, to)
 * epoch ms in which their records started; `records`: what reads the records gathered for them.
 */
export type SessionRange = { offset: number; limit: number; keys?: string; started?: readonly [number, number]; records?: string };
