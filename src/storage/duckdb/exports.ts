/**
 * Export reads in DuckDB: the engine itself writes CSV, JSON Lines, JSON and Parquet (COPY … TO),
 * which is what keeps exports near DuckDB's own speed, and builds XLSX rows as XML. Every read of one
 * export runs in one transaction, so all its parts come from one snapshot.
 *
 * Raw events are exported in arrival order (`seq`), view records in storage order (`rowid`). A part
 * is a range of that key (bounds from a histogram of the key, keyRanges). Where DuckDB's plan keeps
 * storage order, a range is read as stored, without a sort (unsortedCopy); otherwise a slice of it at
 * a time, each slice sorted by the key — DuckDB's parallel scans do not keep storage order by
 * themselves, and a retried run must write the same bytes. Either way an export never sorts more
 * than one slice, and it hands DuckDB's cache back as it reads, so its memory grows with neither the
 * export nor the part. Sessions are aggregates and keep their order by first event (one sort a
 * part), cut by offset.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { EVENT_CATEGORIES } from '../../events/types.ts';
import type { CopyFormat, ExportPart, ExportRepo, ExportSnapshot, ExportSource } from '../types.ts';
import { fromDuckRow, toDuckParam, type ConnQuerier, type Db, type Param } from './db.ts';
import { neutralizeSql } from './neutralize.ts';
import { attributedSql, DEVICE_LABEL, DURATION, FROM, platformOfLabel, whereSql } from './recordsql.ts';
import { xlsxRowsSql } from './xlsxsql.ts';
import type { XlsxColumnType } from '../../exports/formats/xlsx.ts';

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
const SESSION_NOT_TEXT = new Set(['sessionDuration', 'contentIds', 'contentCount', 'uniqueViews', 'views', 'watchTime', 'totalSeconds', 'playerLoads',
  'completions', 'rebufferCount', 'rebufferTime', 'errorCount', 'lat', 'lon']);

/** The value of the session's earliest record (by startedAt, then viewId) that has one. */
const firstOf = (col: string) => `arg_min(${col}, (v.started_at, v.view_id)) FILTER (WHERE ${col} IS NOT NULL)`;

/**
 * One row a session: every view record of each (account, sessionId) whose earliest record started in
 * [fromMs, toMs), summed by the metric rules (views = counted records, watch time = uniqueSeconds of
 * played records, player loads = impressions). Filters select the records a row sums.
 */
function sessionsFrom(src: ExportSource, params: Param[], part?: { offset: number; limit: number }): string {
  const where = whereSql({ accountId: src.accountId, fromMs: 0, toMs: Date.UTC(9999, 0, 1), tz: 'UTC', filters: src.filters }, 'v.started_at', params);
  params.push(src.accountId, new Date(src.fromMs), new Date(src.toMs));
  // A part's sessions are picked first on two narrow columns (a top-N that holds the session id and
  // its first time, not the whole row: a top-N cannot spill, and wide rows of a million sessions ran
  // DuckDB out of memory at 1GB); the part's rows are then summed and sorted (a sort can spill).
  const keys = part ? `\n      AND v.session_id IN ${sessionKeys(src, params, part)}` : '';
  params.push(new Date(src.fromMs));
  const attrs = ['viewer', 'user_id', 'email', 'viewer_account_id', 'viewer_name', 'device_type', 'platform', 'browser', 'os', 'user_agent', 'ip',
    'country', 'region', 'city', 'lat', 'lon', 'org', 'url', 'referrer', 'domain'];
  return `(SELECT v.session_id,
      min(v.started_at) AS first_event_at,
      max(v.last_event_at) AS last_event_at,
      date_diff('millisecond', min(v.started_at), max(v.last_event_at)) / 1000.0 AS session_duration,
      list_transform(list_sort(list({'s': v.started_at, 'v': v.view_id, 'c': v.content_id})), x -> x.c) AS content_ids,
      count(*) AS content_count,
      count(*) FILTER (WHERE v.played) AS unique_views,
      count(*) FILTER (WHERE v.counted) AS views,
      coalesce(sum(v.unique_seconds) FILTER (WHERE v.played), 0) AS watch_time,
      coalesce(sum(v.total_seconds), 0) AS total_seconds,
      coalesce(sum(v.loads), 0) AS player_loads,
      count(*) FILTER (WHERE v.completed) AS completions,
      coalesce(sum(v.rebuffer_count), 0) AS rebuffer_count,
      coalesce(sum(v.rebuffer_time), 0) AS rebuffer_time,
      coalesce(sum(v.error_count), 0) AS error_count,
      ${firstOf('c.project_id')} AS project_id,
      ${attrs.map((a) => `${firstOf(`v.${a}`)} AS ${a}`).join(',\n      ')}
    FROM ${FROM}
    WHERE ${where}
      AND v.session_id IN (SELECT session_id FROM view_records WHERE account_id = ? AND started_at >= ? AND started_at < ?)${keys}
    GROUP BY v.session_id
    HAVING min(v.started_at) >= ?) s`;
}

/** The session ids of a part of the sessions scope, in export order (first event, session id). */
function sessionKeys(src: ExportSource, params: Param[], part: { offset: number; limit: number }): string {
  const where = whereSql({ accountId: src.accountId, fromMs: 0, toMs: Date.UTC(9999, 0, 1), tz: 'UTC', filters: src.filters }, 'v.started_at', params);
  params.push(src.accountId, new Date(src.fromMs), new Date(src.toMs), new Date(src.fromMs));
  return `(SELECT v.session_id FROM ${FROM} WHERE ${where}
      AND v.session_id IN (SELECT session_id FROM view_records WHERE account_id = ? AND started_at >= ? AND started_at < ?)
    GROUP BY v.session_id HAVING min(v.started_at) >= ?
    ORDER BY min(v.started_at), v.session_id LIMIT ${Math.trunc(part.limit)} OFFSET ${Math.trunc(part.offset)})`;
}

const TIME_FIELDS = new Set(['timestamp', 'receivedAt', 'startedAt', 'firstEventAt', 'lastEventAt']);
const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** `xlsx`: typed values for xlsxRowsSql (times stay TIMESTAMP, lists become JSON text, no neutralizing: the cells do it). */
function selectList(src: ExportSource, format: CopyFormat | 'xlsx'): string {
  const cols = src.scope === 'events' ? EVENT_COLS : src.scope === 'sessions' ? SESSION_COLS : VIEW_COLS;
  return src.fields.map(({ name, as }) => {
    let expr = cols[name];
    if (!expr) throw new Error(`no column for field ${name} in scope ${src.scope}`);
    if (TIME_FIELDS.has(name) && format !== 'parquet' && format !== 'xlsx') expr = ISO(expr);
    if (name === 'data' && (format === 'jsonl' || format === 'json')) expr = `${expr}::JSON`;
    if (src.scope === 'sessions' && name === 'contentIds' && format !== 'parquet') expr = format === 'jsonl' || format === 'json' ? `to_json(${expr})` : `to_json(${expr})::VARCHAR`;
    const text = TIME_FIELDS.has(name) ? format !== 'parquet' && format !== 'xlsx'
      : src.scope === 'sessions' ? !SESSION_NOT_TEXT.has(name)
      : typeof expr === 'string' && !/(loads|seconds|count|time|lat|lon|duration|played|counted|unique|completed|is_?bot|playhead|percent)/i.test(name);
    // ISO times start with a digit: never a formula, so not tested (strftime would run three times).
    if (src.neutralize && text && format !== 'xlsx' && !TIME_FIELDS.has(name)) expr = neutralizeSql(expr);
    return `${expr} AS ${quoteIdent(as)}`;
  }).join(', ');
}

/**
 * Content ids the catalog filters (project, folder) select, read in the export's snapshot, or
 * undefined when there are none. The events scope filters with this list instead of joining the catalog.
 */
async function catalogIds(q: ConnQuerier, src: ExportSource): Promise<string[] | undefined> {
  const f = src.filters;
  if (src.scope !== 'events' || (f.projectId === undefined && f.folder === undefined)) return undefined;
  const w = ['account_id = ?'];
  const params: Param[] = [src.accountId];
  if (f.projectId !== undefined) {
    w.push('project_id = ?');
    params.push(f.projectId);
  }
  if (f.folder !== undefined) {
    w.push("(folder = ? OR starts_with(folder, ? || '/'))");
    params.push(f.folder, f.folder);
  }
  return (await q.all<{ id: string }>(`SELECT content_id AS id FROM videos WHERE ${w.join(' AND ')}`, params)).map((r) => r.id);
}

/**
 * `key`: a unique column rising along storage order (parts are its ranges, each sorted by it);
 * `order`: the sort of a scope without a key. `ids`: the events scope's catalog filters, resolved.
 */
function fromWhere(src: ExportSource, params: Param[], ids?: string[], part?: { offset: number; limit: number }): { from: string; where: string; key?: string; order?: string } {
  if (src.scope === 'sessions') return { from: sessionsFrom(src, params, part), where: 'true', order: 's.first_event_at, s.session_id' };
  if (src.scope === 'views') {
    return { from: FROM, where: whereSql({ accountId: src.accountId, fromMs: src.fromMs, toMs: src.toMs, tz: 'UTC', filters: src.filters }, 'v.started_at', params), key: 'v.rowid' };
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
 * the range is read without ORDER BY, for a plan that keeps storage order (see `unsortedCopy`).
 */
function query(src: ExportSource, format: CopyFormat | 'xlsx', part: ExportPart, params: Param[], ids?: string[], inOrder = false): string {
  const r = part.range;
  const { from, where, key, order } = fromWhere(src, params, ids, 'offset' in r ? r : undefined);
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
  // Sessions: `from` holds the part's sessions alone (sessionKeys); sorted as summed, then formatted
  // (formatted text in a sort's payload runs outside DuckDB's memory limit, see above).
  return `SELECT ${selectList(src, format)} FROM (SELECT * FROM ${from} WHERE ${where} ORDER BY ${order}) s`;
}

/**
 * Storage order without a sort. Raw events are stored in arrival order: the one event writer appends
 * them in `seq` order, nothing updates them, and deletes and compaction (an insertion-order-keeping
 * copy) leave the rest in place. View records are read in `rowid` order, which is storage order.
 * DuckDB keeps insertion order through a scan, filters and projections (`preserve_insertion_order`,
 * on by default), so a key range needs no sort — when the plan says so:
 * - the COPY must keep order: with several threads DuckDB plans an order-keeping COPY as
 *   BATCH_COPY_TO_FILE (COPY_TO_FILE means it writes as threads finish); with one thread
 *   (REELSTAT_DUCKDB_THREADS=1, the default) the pipeline runs on that thread in scan order;
 * - under it only projections and filters down to the scan of the scope's table, or, with one
 *   thread, a LEFT or INNER hash join whose probe side (first child) leads to that scan: a probe
 *   emits its rows in the order they come (view records join the catalog this way). A join whose
 *   sides the optimizer swapped, a semi-join from a filter, an IN list DuckDB rewrote into a join, a
 *   join with several threads: the range takes the sorted slices instead.
 * A streamed result is collected in parallel and does not keep the order: XLSX rows go through a
 * COPY too.
 *
 * Answers the COPY of `part` to `path` read as stored, or null when its plan would not keep order.
 */
export async function unsortedCopy(q: ConnQuerier, src: ExportSource, part: ExportPart, ids: string[] | undefined,
  to: { format: CopyFormat; path: string; gzip: boolean; noHeader?: boolean } | { format: 'xlsx'; path: string; types: readonly XlsxColumnType[] }): Promise<{ sql: string; params: Param[] } | null> {
  const table = src.scope === 'events' ? 'events' : src.scope === 'views' ? 'view_records' : null;
  if (!table || !('after' in part.range)) return null;
  const params: Param[] = [];
  const rows = query(src, to.format, part, params, ids, true);
  const sql = to.format === 'xlsx'
    // Each row's XML ended by \x03 + LF: no row holds \x03 (a character XML forbids; xlsxRowsSql strips it).
    ? `COPY (SELECT concat(x, chr(3)) FROM (${xlsxRowsSql(xlsxInner(rows, to.types), to.types)}) t(x)) TO '${to.path}' (${ROW_LINES})`
    : `COPY (${rows}) TO '${to.path}' (${copyOptions(to.format, to.noHeader)}${to.gzip && to.format !== 'parquet' ? ', COMPRESSION gzip' : ''})`;
  const settings = await q.one<{ t: number; p: boolean }>("SELECT current_setting('threads')::BIGINT AS t, current_setting('preserve_insertion_order') AS p");
  const oneThread = Number(settings?.t) === 1;
  const plan = JSON.parse((await q.one<{ explain_value: string }>(`EXPLAIN (FORMAT json) ${sql}`, params))?.explain_value ?? '[]') as PlanNode[];
  const root = plan.length === 1 ? plan[0]! : undefined;
  const copyKeeps = root?.name === 'BATCH_COPY_TO_FILE' || (root?.name === 'COPY_TO_FILE' && oneThread && settings?.p === true);
  return copyKeeps && root!.children?.length === 1 && orderFrom(root!.children[0]!, oneThread) === `.${table}` ? { sql, params } : null;
}

interface PlanNode { name?: string; children?: PlanNode[]; extra_info?: Record<string, unknown> }

/** The table whose scan order `node` keeps (as `.name`), or null. */
function orderFrom(node: PlanNode, oneThread: boolean): string | null {
  const kids = node.children ?? [];
  switch (node.name) {
    case 'PROJECTION':
    case 'FILTER':
      return kids.length === 1 ? orderFrom(kids[0]!, oneThread) : null;
    case 'SEQ_SCAN': {
      const t = String(node.extra_info?.Table ?? '');
      return t.includes('.') ? t.slice(t.lastIndexOf('.')) : null;
    }
    case 'HASH_JOIN':
      return oneThread && kids.length === 2 && ['LEFT', 'INNER'].includes(String(node.extra_info?.['Join Type'])) ? orderFrom(kids[0]!, oneThread) : null;
    default:
      return null;
  }
}

/** `rows` with its columns named c0, c1, … as xlsxRowsSql reads them. */
const xlsxInner = (rows: string, types: readonly XlsxColumnType[]) => `SELECT * FROM (${rows}) AS r(${types.map((_, i) => `c${i}`).join(', ')})`;
/** One string column written as is, one a line: no quoting, no header. */
const ROW_LINES = "FORMAT CSV, HEADER false, QUOTE '', ESCAPE '', DELIMITER chr(4)";
const ROW_END = Buffer.from('\x03\n');

/** COPY options of `format`; `noHeader`: a CSV slice after the first. */
const copyOptions = (format: CopyFormat, noHeader = false) => (noHeader && format === 'csv' ? COPY_OPTIONS.csv.replace('HEADER true', 'HEADER false') : COPY_OPTIONS[format]);

const COPY_OPTIONS: Record<CopyFormat, string> = {
  csv: "FORMAT CSV, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NEW_LINE '\\r\\n'",
  jsonl: 'FORMAT JSON',
  json: 'FORMAT JSON, ARRAY true',
  parquet: 'FORMAT PARQUET, COMPRESSION zstd, ROW_GROUP_SIZE 65536', // half DuckDB's default: the writer holds a row group
};

/**
 * Where a range cannot be read as stored (unsortedCopy), a part's rows are sorted by the key a slice
 * of at most `slicing.rows` rows at a time: the sort holds one slice, not the part, and text formats
 * append the slices' files in key order, XLSX streams them one after the other. JSON (one array) and
 * Parquet (one footer) cannot be appended to: they sort the part in one COPY. XLSX rows read as
 * stored also go slice by slice (two files in turn).
 */
export const slicing = { rows: 262_144 }; // tests make slices small to cross many of their bounds
const SLICED = new Set<CopyFormat>(['csv', 'jsonl']);

/** Keys a histogram bucket spans (keyRanges). */
const BUCKET = 65_536;

/**
 * Consecutive key ranges of `size` rows (the last one of what is left) after `after` and up to
 * `through`. One scan counts the rows in buckets of BUCKET keys; a bound that falls inside a bucket
 * is the highest of a top-N of that bucket's keys alone (at most BUCKET, read through the key's
 * zone maps). A top-N of a whole part (a million keys) held ~100 MB; this holds a bucket's.
 */
async function keyRanges(q: ConnQuerier, s: { from: string; where: string; key: string; params: Param[] }, after: number, through: number | null, size: number): Promise<ExportPart[]> {
  const n = Math.max(1, Math.trunc(size));
  const upTo = through === null ? '' : ` AND ${s.key} <= ${Math.trunc(through)}`;
  const buckets = await q.all<{ b: number; n: number; hi: number }>(
    `SELECT ${s.key} // ${BUCKET} AS b, count(*) AS n, max(${s.key}) AS hi FROM ${s.from} WHERE ${s.where} AND ${s.key} > ?${upTo} GROUP BY 1 ORDER BY 1`, [...s.params, after]);
  const out: ExportPart[] = [];
  let start = after; // the open part's bound (exclusive)
  let open = 0; // rows in the open part
  for (const { b, n: count, hi } of buckets) {
    let left = Number(count);
    while (open + left >= n) {
      const need = n - open;
      const bound = need === left ? Number(hi) : Number((await q.one<{ hi: number }>(
        `SELECT max(k) AS hi FROM (SELECT ${s.key} AS k FROM ${s.from} WHERE ${s.where} AND ${s.key} > ? AND ${s.key} < ? ORDER BY k LIMIT ${need})`,
        [...s.params, Math.max(start, Number(b) * BUCKET - 1), (Number(b) + 1) * BUCKET]))!.hi);
      out.push({ rows: n, range: { after: start, through: bound } });
      start = bound;
      left -= need;
      open = 0;
    }
    open += left;
    if (open > 0 && b === buckets.at(-1)!.b) out.push({ rows: open, range: { after: start, through: Number(hi) } });
  }
  return out;
}

/**
 * The slices of a key-range part. Dense keys (events: `seq` runs on with few gaps) are cut by
 * arithmetic, no query: keys are unique integers, so a span of `slicing.rows` keys holds at most
 * that many rows. Sparse keys (view records of a period lie scattered over the table's rowids) get
 * their bounds from a top-N of the key column inside the part, so a slice is still full.
 */
async function slicesOf(q: ConnQuerier, src: ExportSource, part: ExportPart, ids: string[] | undefined): Promise<ExportPart[]> {
  const r = part.range;
  if (!('after' in r)) {
    // Sessions: a slice's sessions are summed in one hash table, whose states (the first value of
    // twenty attributes, strings among them) DuckDB cannot spill: a million sessions ran it out of
    // memory at 1GB. Half a slice of sessions at a time.
    const n = Math.max(1, Math.trunc(slicing.rows / 2));
    const out: ExportPart[] = [];
    for (let o = 0; o < part.rows; o += n) out.push({ rows: Math.min(n, part.rows - o), range: { offset: r.offset + o, limit: Math.min(n, part.rows - o) } });
    return out.length ? out : [part];
  }
  if (r.through <= r.after) return [part];
  const span = r.through - r.after;
  if (part.rows * 2 < span) {
    const params: Param[] = [];
    const { from, where, key } = fromWhere(src, params, ids);
    const slices = await keyRanges(q, { from, where, key: key!, params }, r.after, r.through, slicing.rows);
    return slices.length ? slices : [part];
  }
  const out: ExportPart[] = [];
  for (let lo = r.after; lo < r.through; lo += slicing.rows) out.push({ rows: 0, range: { after: lo, through: Math.min(lo + slicing.rows, r.through) } });
  return out;
}

/** The rows of a file of rows each ended by ROW_END, a chunk of whole rows at a time. */
async function handRows(file: string, visit: (rows: Buffer) => Promise<void>): Promise<void> {
  let rest: Buffer | null = null;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buf: Buffer = rest ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
    const last = buf.lastIndexOf(ROW_END); // whole rows now, the rest with the next chunk
    const cut = last < 0 ? 0 : last + ROW_END.length;
    rest = cut < buf.length ? Buffer.from(buf.subarray(cut)) : null;
    if (cut > 0) await visit(buf.subarray(0, cut));
  }
  if (rest) throw new Error('xlsx rows: the file ended inside a row');
}

function snapshotOn(q: ConnQuerier, db: Db): ExportSnapshot {
  // A part hands back the blocks it read (Db.releaseCache) when it ends: DuckDB would keep them up to
  // its memory limit.
  const released = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } finally {
      await db.releaseCache(q);
    }
  };
  return {
    parts: (src, partRows) => released(() => partsOf(src, partRows)),
    copy: (src, part, opts) => released(() => copyPart(src, part, opts)),
    xlsxRows: (src, part, types, visit, scratch) => released(() => xlsxPart(src, part, types, visit, scratch)),
  };

  async function partsOf(src: ExportSource, partRows: number): Promise<ExportPart[]> {
    const params: Param[] = [];
    const { from, where, key } = fromWhere(src, params, await catalogIds(q, src));
    if (!key) {
      const size = Math.max(1, Math.trunc(partRows));
      const n = Number((await q.one<{ n: number }>(`SELECT count(*) AS n FROM ${from} WHERE ${where}`, params))?.n ?? 0);
      const parts: ExportPart[] = [];
      for (let offset = 0; offset < n; offset += size) parts.push({ rows: Math.min(size, n - offset), range: { offset, limit: size } });
      return parts.length ? parts : [{ rows: 0, range: { offset: 0, limit: 0 } }];
    }
    const parts = await keyRanges(q, { from, where, key, params }, -1, null, partRows);
    return parts.length ? parts : [{ rows: 0, range: { after: -1, through: -1 } }];
  }

  async function copyPart(src: ExportSource, part: ExportPart, { format, path, gzip }: { format: CopyFormat; path: string; gzip: boolean }): Promise<{ rows: number; sha256?: string }> {
    if (/'/.test(path)) throw new Error('export paths never hold quotes');
    const ids = await catalogIds(q, src);
    const r = part.range;
    const unsorted = await unsortedCopy(q, src, part, ids, { format, path, gzip });
    // A sparse range (view records of a period lie scattered over the table) read in one statement
    // keeps every block it reads cached till the end (~350 MB for a million records): text formats
    // read it in slices, handing the cache back between them.
    const sparse = 'after' in r && part.rows * 2 < r.through - r.after;
    if (unsorted && !(sparse && SLICED.has(format))) return { rows: await q.run(unsorted.sql, unsorted.params) };
    if (!SLICED.has(format)) {
      const params: Param[] = [];
      const compression = gzip && format !== 'parquet' ? ', COMPRESSION gzip' : '';
      return { rows: await q.run(`COPY (${query(src, format, part, params, ids)}) TO '${path}' (${COPY_OPTIONS[format]}${compression})`, params) };
    }
    // Slice by slice into one file: each slice read as stored or sorted on its own (see `slicing`),
    // appended in key order, hashed on the way (no second read of the file for its checksum).
    const out = createWriteStream(path);
    const hash = createHash('sha256');
    const sink: Writable = gzip ? createGzip() : out;
    if (gzip) {
      sink.on('data', (chunk: Buffer) => hash.update(chunk));
      sink.pipe(out);
    }
    const tmp = `${path}.slice`;
    let rows = 0;
    try {
      for (const [i, slice] of (await slicesOf(q, src, part, ids)).entries()) {
        const params: Param[] = [];
        const stored = unsorted && (await unsortedCopy(q, src, slice, ids, { format, path: tmp, gzip: false, noHeader: i > 0 }));
        rows += stored
          ? await q.run(stored.sql, stored.params)
          : await q.run(`COPY (${query(src, format, slice, params, ids)}) TO '${tmp}' (${copyOptions(format, i > 0)})`, params);
        await db.releaseCache(q); // between statements: the blocks the slice read
        for await (const chunk of createReadStream(tmp)) {
          if (!gzip) hash.update(chunk as Buffer);
          if (!sink.write(chunk)) await once(sink, 'drain');
        }
      }
      sink.end();
      await finished(out);
      return { rows, sha256: hash.digest('hex') };
    } catch (err) {
      out.destroy();
      throw err;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async function xlsxPart(src: ExportSource, part: ExportPart, types: readonly XlsxColumnType[], visit: (rows: string[] | Buffer) => Promise<void>, scratch: string): Promise<void> {
    if (/'/.test(scratch)) throw new Error('export paths never hold quotes');
    const ids = await catalogIds(q, src);
    if (await unsortedCopy(q, src, part, ids, { format: 'xlsx', path: scratch, types })) {
      // Slice by slice through two files in turn: DuckDB builds the rows of the next slice while
      // this thread hands the last one's bytes to the writer (whose deflating runs in the thread pool).
      const files = [`${scratch}.0`, `${scratch}.1`];
      let handing: Promise<void> = Promise.resolve();
      try {
        for (const [i, slice] of (await slicesOf(q, src, part, ids)).entries()) {
          const file = files[i % 2]!;
          const copy = await unsortedCopy(q, src, slice, ids, { format: 'xlsx', path: file, types });
          if (!copy) throw new Error('xlsx rows: the plan of a slice does not keep storage order');
          const written = q.run(copy.sql, copy.params);
          await Promise.all([written, handing]);
          handing = handRows(file, visit);
          await db.releaseCache(q); // between statements: the blocks the slice read
        }
        await handing;
      } finally {
        await handing.catch(() => {});
        for (const f of files) await rm(f, { force: true });
      }
      return;
    }
    for (const slice of await slicesOf(q, src, part, ids)) {
      const params: Param[] = [];
      const inner = xlsxInner(query(src, 'xlsx', slice, params, ids), types);
      const result = await q.conn.stream(xlsxRowsSql(inner, types), params.map(toDuckParam));
      for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
        await visit(chunk.getColumnValues(0) as string[]);
      }
    }
  }
}

const PARQUET_TYPE = { string: 'VARCHAR', number: 'DOUBLE', integer: 'BIGINT', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP', object: 'JSON' } as const;
const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

export function exportRepo(db: Db): ExportRepo {
  return {
    snapshot: (fn) => db.tx((q) => fn(snapshotOn(q, db))),
    async parquetFromJsonl(jsonl, columns, out) {
      if (/'/.test(jsonl + out)) throw new Error('export paths never hold quotes');
      const cols = `{${columns.map((c) => `${sqlString(c.name)}: '${PARQUET_TYPE[c.type]}'`).join(', ')}}`;
      await db.run(`COPY (SELECT * FROM read_json('${jsonl}', format = 'newline_delimited', columns = ${cols})) TO '${out}' (FORMAT PARQUET, COMPRESSION zstd)`);
    },
  };
}
