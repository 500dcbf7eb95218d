/**
 * The SQL of export reads (src/storage/duckdb/exports.ts): the columns of each scope, the sessions
 * aggregate, the FROM/WHERE of an export and the query of one part or slice.
 */
import { EVENT_CATEGORIES } from '../../events/types.ts';
import { FIELDS } from '../../exports/fields.ts';
import type { CopyFormat, ExportPart, ExportSource, SessionBound } from '../types.ts';
import type { ConnQuerier, Param } from './db.ts';
import { neutralizeSql } from './neutralize.ts';
import { afterRowid, attributedSql, catalogFilterSql, DEVICE_LABEL, DURATION, FROM, platformOfLabel, whereSql } from './recordsql.ts';

const ISO = (col: string) => `strftime(${col}, '%Y-%m-%dT%H:%M:%S.%gZ')`;

const EVENT_COLS: Record<string, string> = {
  id: 'e.id', event: 'e.event', timestamp: 'e.ts', receivedAt: 'e.received_at', contentId: 'e.content_id', sessionId: 'e.session_id',
  userId: 'e.user_id', email: 'e.email', viewerAccountId: 'e.viewer_account_id', viewerName: 'e.viewer_name', deviceType: 'e.device_type',
  currentTime: 'e.playhead', url: 'e.url', referrer: 'e.referrer', domain: 'e.domain', title: 'e.title', duration: 'e.duration', data: 'e.data',
  ip: 'e.ip', userAgent: 'e.user_agent', country: 'e.country', region: 'e.region', city: 'e.city', lat: 'e.lat', lon: 'e.lon', org: 'e.org',
  browser: 'e.browser', os: 'e.os', platform: 'e.platform', isBot: 'e.is_bot',
};

const VIEW_COLS: Record<string, string> = {
  viewId: 'v.view_id', contentId: 'v.content_id', sessionId: 'v.session_id', viewer: 'v.viewer', startedAt: 'v.started_at', loads: 'v.loads',
  played: 'v.played', counted: 'v.counted', unique: 'v.is_unique', completed: 'v.completed', hm: 'v.hm', uniqueSeconds: 'v.unique_seconds',
  totalSeconds: 'v.total_seconds', duration: DURATION, percentViewed: `CASE WHEN ${DURATION} IS NULL THEN NULL ELSE least(1.0, v.unique_seconds / ${DURATION}) END`,
  rebufferCount: 'v.rebuffer_count', rebufferTime: 'v.rebuffer_time', errorCount: 'v.error_count', userId: 'v.user_id', email: 'v.email',
  viewerAccountId: 'v.viewer_account_id', viewerName: 'v.viewer_name', deviceType: 'v.device_type', url: 'v.url', referrer: 'v.referrer',
  domain: 'v.domain', ip: 'v.ip', userAgent: 'v.user_agent', country: 'v.country', region: 'v.region', city: 'v.city', lat: 'v.lat', lon: 'v.lon',
  org: 'v.org', browser: 'v.browser', os: 'v.os', platform: 'v.platform', title: 'coalesce(c.title, v.title)',
  projectId: 'c.project_id', deviceLabel: DEVICE_LABEL('v.platform'),
};

/** Sessions scope: columns of the per-session subquery `s` (sessionsFrom). */
const SESSION_COLS: Record<string, string> = {
  sessionId: 's.session_id', viewer: 's.viewer', userId: 's.user_id', email: 's.email', viewerAccountId: 's.viewer_account_id',
  viewerName: 's.viewer_name', firstEventAt: 's.first_event_at', lastEventAt: 's.last_event_at', sessionDuration: 's.session_duration',
  contentIds: 's.content_ids', contentCount: 's.content_count', uniqueViews: 's.unique_views', views: 's.views', watchTime: 's.watch_time',
  totalSeconds: 's.total_seconds', playerLoads: 's.player_loads', completions: 's.completions', rebufferCount: 's.rebuffer_count',
  rebufferTime: 's.rebuffer_time', errorCount: 's.error_count', projectId: 's.project_id', deviceType: 's.device_type',
  deviceLabel: DEVICE_LABEL('s.platform'), platform: 's.platform', browser: 's.browser', os: 's.os', userAgent: 's.user_agent', ip: 's.ip',
  country: 's.country', region: 's.region', city: 's.city', lat: 's.lat', lon: 's.lon', org: 's.org', url: 's.url', referrer: 's.referrer',
  domain: 's.domain',
};
/** The fields of each scope whose values are text (the catalog's `string`): those CSV neutralizes. */
const TEXT_FIELDS: Record<string, Set<string>> = Object.fromEntries(Object.entries(FIELDS).map(([scope, defs]) => [scope, new Set(defs.filter((d) => d.type === 'string').map((d) => d.name))]));

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
function sessionsFrom(src: ExportSource, params: Param[], part: SessionRange | SessionSpan): string {
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

/**
 * The view records, joined to the catalog where a catalog filter (project, folder) needs it: the
 * catalog holds a video at most once, so the join adds no rows, and reading without it skips the
 * table's content ids and the join's hash table.
 */
const recordsOf = (src: ExportSource) => (catalogFiltered(src.filters) ? FROM : 'view_records v');

/** Whether the filters select by the catalog (project, folder). */
const catalogFiltered = (f: ExportSource['filters']) => f.projectId !== undefined || f.folder !== undefined;

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
type SessionRange = { offset: number; limit: number; keys?: string; started?: readonly [number, number]; records?: string };

const TIME_FIELDS = new Set(['timestamp', 'receivedAt', 'startedAt', 'firstEventAt', 'lastEventAt']);
const BOM = '\uFEFF';
const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** `xlsx`: typed values for xlsxRowsSql (times stay TIMESTAMP, lists become JSON text, no neutralizing: the cells do it). */
function selectList(src: ExportSource, format: CopyFormat | 'xlsx'): string {
  const cols = src.scope === 'events' ? EVENT_COLS : src.scope === 'sessions' ? SESSION_COLS : VIEW_COLS;
  return src.fields.map(({ name, as }, i) => {
    let expr = cols[name];
    if (!expr) throw new Error(`no column for field ${name} in scope ${src.scope}`);
    if (TIME_FIELDS.has(name) && format !== 'parquet' && format !== 'xlsx') expr = ISO(expr);
    if (name === 'data' && (format === 'jsonl' || format === 'json')) expr = `${expr}::JSON`;
    if (src.scope === 'sessions' && name === 'contentIds' && format !== 'parquet') expr = format === 'jsonl' || format === 'json' ? `to_json(${expr})` : `to_json(${expr})::VARCHAR`;
    // Text by the field catalog (a guess from the name once left `viewerAccountId` out); ISO times
    // start with a digit, never a formula, so they are not tested (strftime would run three times).
    if (src.neutralize && TEXT_FIELDS[src.scope]?.has(name) && format !== 'xlsx') expr = neutralizeSql(expr);
    // A CSV's byte order mark (src.bom) is written as the start of its header's first name: DuckDB
    // writes no mark of its own, and field names never need quoting (fields.ts), so the file's first
    // bytes are EF BB BF. Slices after the first have no header, and so no mark.
    return `${expr} AS ${quoteIdent(i === 0 && src.bom && format === 'csv' ? BOM + as : as)}`;
  }).join(', ');
}

/**
 * Content ids the catalog filters (project, folder) select, read in the export's snapshot, or
 * undefined when there are none. The events scope filters with this list instead of joining the catalog.
 */
export async function catalogIds(q: ConnQuerier, src: ExportSource): Promise<string[] | undefined> {
  const f = src.filters;
  if (src.scope !== 'events' || !catalogFiltered(f)) return undefined;
  const params: Param[] = [src.accountId];
  const w = ['account_id = ?', ...catalogFilterSql(f, '', params)];
  return (await q.all<{ id: string }>(`SELECT content_id AS id FROM videos WHERE ${w.join(' AND ')}`, params)).map((r) => r.id);
}

/**
 * `pushed`: the plain filters of view records, pushed into the scan, for a sparse part read in one
 * statement (exports.ts, copyPart): DuckDB's adaptive filters may test the period before the rowid
 * range and read the period's column whole, once — which cost slices, many statements, ~150 ms each.
 * `key`: a unique column rising along storage order (parts are its ranges, each sorted by it);
 * `order`: the sort of a scope without a key; `counted`: a FROM and WHERE (and all the parameters
 * for it, those `params` held before included) with the same rows as `from` and `where`, for
 * counting the parts' rows over the whole table (partsOf), where they read less. `ids`: the events
 * scope's catalog filters, resolved.
 */
export function fromWhere(src: ExportSource, params: Param[], ids?: string[], part?: SessionRange | SessionSpan, pushed = false): { from: string; where: string; key?: string; order?: string; counted?: { from: string; where: string; params: Param[] } } {
  if (src.scope === 'sessions') {
    if (!part) throw new Error('the sessions scope is read a part at a time');
    return { from: sessionsFrom(src, params, part), where: 'true', order: 's.first_event_at, s.session_id' };
  }
  if (src.scope === 'views') {
    // View records are read in rowid ranges, which DuckDB 1.5 does not prune row groups by: the
    // account and the period are tested after the rowid range (whereSql, inRowidRanges), but for
    // `pushed`. Counting over the whole table has no range: there the plain filters, pushed into
    // the scan, took half the time (10M records: ~90 against ~200 ms).
    const set = { accountId: src.accountId, fromMs: src.fromMs, toMs: src.toMs, tz: 'UTC', filters: src.filters };
    const countedParams = params.slice(); // the caller's so far, then the plain filters'
    const countedWhere = whereSql(set, 'v.started_at', countedParams);
    const where = whereSql(set, 'v.started_at', params, !pushed);
    return { from: FROM, where, key: 'v.rowid', counted: { from: recordsOf(src), where: countedWhere, params: countedParams } };
  }
  const w = ['e.account_id = ?', 'e.ts >= ?', 'e.ts < ?'];
  params.push(src.accountId, new Date(src.fromMs), new Date(src.toMs));
  const names = (src.types ?? ['events', 'quality', 'ads']).flatMap((t) => EVENT_CATEGORIES[t]);
  w.push('list_contains(?::JSON::VARCHAR[], e.event)');
  params.push(JSON.stringify(names));
  const f = src.filters;
  for (const list of [f.contentIds, ids]) {
    if (!list) continue;
    w.push('list_contains(?::JSON::VARCHAR[], e.content_id)');
    params.push(JSON.stringify(list));
  }
  for (const [k, col] of [['userId', 'e.user_id'], ['sessionId', 'e.session_id'], ['deviceType', 'e.device_type'], ['country', 'e.country']] as const) {
    if (typeof f[k] === 'string') {
      w.push(`${col} = ?`);
      params.push(f[k]!);
    }
  }
  if (f.deviceLabel !== undefined) {
    w.push('e.platform = ?');
    params.push(platformOfLabel(f.deviceLabel));
  }
  if (f.attributedTo !== undefined) w.push(attributedSql('e', src.accountId, f.attributedTo, params));
  return { from: 'events e', where: w.join(' AND '), key: 'e.seq' };
}

/**
 * The rows of one part, in key order (key scopes) or sorted and cut by offset (sessions). `inOrder`:
 * the range is read without ORDER BY, for a plan that keeps storage order (see `unsortedCopy`);
 * `pushed`: see fromWhere.
 */
export function query(src: ExportSource, format: CopyFormat | 'xlsx', part: ExportPart, params: Param[], ids?: string[], inOrder = false, pushed = false): string {
  const r = part.range;
  const { from, where, key, order } = fromWhere(src, params, ids, 'after' in r ? undefined : r, pushed);
  if ('after' in r) {
    if (!key) throw new Error(`scope ${src.scope} has no key ranges`);
    params.push(r.after, r.through);
    const range = `${from} WHERE ${where} AND ${key} > ? AND ${key} <= ?`;
    if (inOrder) return `SELECT ${selectList(src, format)} FROM ${range}`;
    // Events: sort the stored columns, then format: formatted text (ISO times, neutralized copies) in
    // the sort's payload lived outside DuckDB's memory limit (a 1M-row part held 760 MB at a 256MB
    // limit; this way 285 MB, same bytes). View records join the catalog, which must come before the sort.
    return src.scope === 'events'
      ? `SELECT ${selectList(src, format)} FROM (SELECT * FROM ${range} ORDER BY ${key}) e`
      : `SELECT ${selectList(src, format)} FROM ${range} ORDER BY ${key}`;
  }
  // Sessions: `from` holds the part's sessions alone (its keys, sessionKeysWindowSql); sorted as summed, then formatted
  // (formatted text in a sort's payload runs outside DuckDB's memory limit, see above).
  return `SELECT ${selectList(src, format)} FROM (SELECT * FROM ${from} WHERE ${where} ORDER BY ${order}) s`;
}

/** COPY options of `format`; `noHeader`: a CSV slice after the first. */
export const copyOptions = (format: CopyFormat, noHeader = false) => (noHeader && format === 'csv' ? COPY_OPTIONS.csv.replace('HEADER true', 'HEADER false') : COPY_OPTIONS[format]);

const COPY_OPTIONS: Record<CopyFormat, string> = {
  csv: "FORMAT CSV, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NEW_LINE '\\r\\n'",
  jsonl: 'FORMAT JSON',
  json: 'FORMAT JSON, ARRAY true',
  parquet: 'FORMAT PARQUET, COMPRESSION zstd, ROW_GROUP_SIZE 32768', // a quarter of DuckDB's default: the writer holds a row group
};

