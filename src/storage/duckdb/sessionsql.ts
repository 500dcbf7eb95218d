/**
 * The SQL of the sessions scope's export reads (exportsessions.ts): the per-session sums
 * (sessionsFrom) of ranges of the session start every view record stores (migration 011).
 */
import type { ExportSource, SessionBound } from '../types.ts';
import type { Param } from './db.ts';
import { afterRowid, FROM, recordsOf, whereSql } from './recordsql.ts';

/**
 * The value of the session's earliest record (by startedAt, then viewId: `v.first_key`, their sort
 * key as one BLOB, made once a record) that has one. Twenty arg_min() over a (startedAt, viewId)
 * struct compared structs: a slice of 24,576 sessions summed in ~0.40 s so, ~0.32 s over the BLOB.
 */
const firstOf = (col: string) => `arg_min(${col}, v.first_key) FILTER (WHERE ${col} IS NOT NULL)`;
const FIRST_KEY = "create_sort_key(started_at, 'ASC NULLS LAST', view_id, 'ASC NULLS LAST') AS first_key";

/** The columns of a view record a session row is summed from (sessionsFrom), gathered (rangedRecordsSpan). */
const SESSION_ATTRS = ['viewer', 'user_id', 'email', 'viewer_account_id', 'viewer_name', 'device_type', 'platform', 'browser', 'os', 'user_agent', 'ip',
  'country', 'region', 'city', 'lat', 'lon', 'org', 'url', 'referrer', 'domain'];
const SESSION_INPUT = ['session_id', 'started_at', 'last_event_at', 'view_id', 'content_id', 'played', 'counted', 'completed', 'unique_seconds',
  'total_seconds', 'loads', 'rebuffer_count', 'rebuffer_time', 'error_count', ...SESSION_ATTRS];

/**
 * One row a session: the view records of each (account, sessionId) whose first record started in
 * [fromMs, toMs) — the session start every record stores (migration 011) — summed by the metric rules
 * (views = counted records, watch time = uniqueSeconds of played records, player loads =
 * impressions). Filters choose the records a row sums; a session none of whose records they choose
 * has no row. Reads the slice's sessions (`from`, `to`) from the records gathered for its part
 * (`part.records`: a read_parquet() of the files rangedRecordsSpan filled).
 */
export function sessionsFrom(params: Param[], part: SessionSpan): string {
  if (!part.records) throw new Error('a slice of the sessions scope is read from its gathered records');
  return `(${sessionSums(part.records, inSessions(params, part))}) s`;
}

/** The sessions' export order, over sessionsFrom's rows: by session start, then session id. */
export const SESSION_ORDER = 's.session_started_at, s.session_id';

/**
 * The sums of a session row (sessionsFrom) over `records` (as `v`: SESSION_INPUT, session_started_at
 * and project_id) WHERE `where`, by session. Integer sums are cast back from DuckDB's HUGEINT, which
 * Parquet would write as DOUBLE (the catalog says integer). Rebuffer seconds are summed as decimals
 * (to the nanosecond), exactly, so in any order: a sum of doubles depends on the order of its terms
 * (0.1 + 0.2 + 0.3 is not 0.3 + 0.2 + 0.1), which differs between runs on several DuckDB threads.
 * `first_event_at` is the first summed record's start: the session start itself, unless a filter
 * left the first record out.
 */
function sessionSums(records: string, where: string): string {
  return `SELECT v.session_id,
      min(v.session_started_at) AS session_started_at,
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
    FROM (SELECT *, ${FIRST_KEY} FROM ${records}) v WHERE ${where}
    GROUP BY v.session_id`;
}

/**
 * Whether filters choose among the records of the period's sessions: then a minute's sessions are
 * those with a chosen record (counted distinct, sessionMinutesChunkSql), not its first records.
 */
export const filtered = (src: ExportSource) => Object.values(src.filters).some((v) => v !== undefined && !(Array.isArray(v) && v.length === 0));

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

/**
 * The account's records of the period's sessions (a stored start in [fromMs, toMs)) the filters
 * choose; `inRowidRanges`: tested after a rowid range (whereSql).
 */
const chosen = (src: ExportSource, params: Param[], inRowidRanges = false) =>
  whereSql({ accountId: src.accountId, fromMs: src.fromMs, toMs: src.toMs, tz: 'UTC', filters: src.filters }, 'v.session_started_at', params, inRowidRanges);

/** The epoch minute of a timestamp, rounded down (before 1970 too: DuckDB's `//` rounds toward zero). */
const minuteOf = (col: string) => `(CASE WHEN epoch_us(${col}) < 0 THEN (epoch_us(${col}) + 1) // ${MINUTE_US} - 1 ELSE epoch_us(${col}) // ${MINUTE_US} END)`;
const MINUTE_US = 60_000_000;

/**
 * The period's sessions a minute of their start, in order (`m`: epoch minutes; `s`: sessions begun in
 * it, `r`: the records chosen of them): where ranges of sessions are cut. Unfiltered, a minute's
 * sessions are its first records; filtered, `s` is null, and sessionMinutesChunkSql counts them.
 */
export function sessionMinutesSql(src: ExportSource, params: Param[]): string {
  const sessions = filtered(src) ? 'NULL' : 'count(*) FILTER (WHERE v.session_first)';
  return `SELECT ${minuteOf('v.session_started_at')} AS m, ${sessions} AS s, count(*) AS r FROM ${recordsOf(src)} WHERE ${chosen(src, params)} GROUP BY 1 ORDER BY 1`;
}

/**
 * The sessions with a chosen record a minute (`m`, `s`), of the minutes [from, to): a run of minutes
 * at a time (exportsessions.ts), so that the distinct count holds about so many records' sessions.
 */
export function sessionMinutesChunkSql(src: ExportSource, params: Param[], minutes: { from: number; to: number }): string {
  const where = chosen(src, params);
  params.push(minutes.from * MINUTE_US, minutes.to * MINUTE_US);
  return `SELECT ${minuteOf('v.session_started_at')} AS m, count(DISTINCT v.session_id) AS s FROM ${recordsOf(src)}
    WHERE ${where} AND v.session_started_at >= make_timestamp(?::BIGINT) AND v.session_started_at < make_timestamp(?::BIGINT) GROUP BY 1 ORDER BY 1`;
}

/** The number of sessions in `r` (`n`). */
export function sessionCountSql(src: ExportSource, params: Param[], r: { from: SessionBound; to: SessionBound }): string {
  if (filtered(src)) return `SELECT count(DISTINCT v.session_id) AS n FROM ${recordsOf(src)} WHERE ${chosen(src, params)} AND ${inSessions(params, r)}`;
  params.push(src.accountId);
  return `SELECT count(*) AS n FROM view_records v WHERE v.account_id = ? AND v.session_first AND ${inSessions(params, r)}`;
}

/** The session `k` places after the start of `r` (`t`: its start in epoch µs, `id`). */
export function sessionNthSql(src: ExportSource, params: Param[], r: { from: SessionBound; to: SessionBound }, k: number): string {
  const page = `ORDER BY 1, 2 LIMIT 1 OFFSET ${Math.trunc(k)}`;
  if (filtered(src)) {
    return `SELECT DISTINCT epoch_us(v.session_started_at) AS t, v.session_id AS id FROM ${recordsOf(src)} WHERE ${chosen(src, params)} AND ${inSessions(params, r)} ${page}`;
  }
  params.push(src.accountId);
  return `SELECT epoch_us(v.session_started_at) AS t, v.session_id AS id FROM view_records v WHERE v.account_id = ? AND v.session_first AND ${inSessions(params, r)} ${page}`;
}

/** The chosen records of the sessions in `r` in buckets of `bucket` rowids (`b`, `n`: records, `hi`: the highest rowid), in order: where a part's gathering spans are cut. */
export function sessionRowidBucketsSql(src: ExportSource, params: Param[], r: { from: SessionBound; to: SessionBound }, bucket: number): string {
  return `SELECT v.rowid // ${Math.trunc(bucket)} AS b, count(*) AS n, max(v.rowid) AS hi FROM ${recordsOf(src)} WHERE ${chosen(src, params)} AND ${inSessions(params, r)} GROUP BY 1 ORDER BY 1`;
}

/**
 * The chosen records of the sessions in `part` that lie in rowids (after, through]: the columns
 * sessionsFrom sums, their session's start, the catalog's project id — sorted by session (start,
 * id), then by record (startedAt, viewId), so that a file of them has row groups a slice's range
 * of sessions prunes to, and its rows come in one order whatever the plan (a sum of doubles depends
 * on it). Every test of the record's own columns comes after the rowid range (whereSql's
 * inRowidRanges, afterRowid).
 */
export function rangedRecordsSpan(src: ExportSource, params: Param[], part: SessionSpan, span: { after: number; through: number }): string {
  const where = chosen(src, params, true);
  const sessions = afterRowid('v.session_started_at', inSessions(params, part));
  params.push(span.after, span.through);
  return `SELECT ${SESSION_INPUT.map((c) => `v.${c}`).join(', ')}, v.session_started_at, c.project_id
    FROM ${FROM} WHERE ${where} AND ${sessions} AND v.rowid > ? AND v.rowid <= ?
    ORDER BY v.session_started_at, v.session_id, v.started_at, v.view_id`;
}
