/**
 * The SQL of export reads (src/storage/duckdb/exports.ts): the columns of each scope, the FROM/WHERE
 * of an export and the query of one part or slice (the sessions scope's own SQL: sessionsql.ts).
 */
import { EVENT_CATEGORIES } from '../../events/types.ts';
import { FIELDS } from '../../exports/fields.ts';
import type { CopyFormat, ExportPart, ExportSource } from '../types.ts';
import type { ConnQuerier, Param } from './db.ts';
import { neutralizeSql } from './neutralize.ts';
import { attributedSql, catalogFiltered, catalogFilterSql, DEVICE_LABEL, DURATION, FROM, platformOfLabel, recordsOf, whereSql } from './recordsql.ts';
import { SESSION_ORDER, sessionsFrom, type SessionSpan } from './sessionsql.ts';

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
export function fromWhere(src: ExportSource, params: Param[], ids?: string[], part?: SessionSpan, pushed = false): { from: string; where: string; key?: string; order?: string; counted?: { from: string; where: string; params: Param[] } } {
  if (src.scope === 'sessions') {
    if (!part) throw new Error('the sessions scope is read a part at a time');
    return { from: sessionsFrom(params, part), where: 'true', order: SESSION_ORDER };
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
 * The rows of one part, in key order (key scopes) or in the sessions' order (a slice of sessions). `inOrder`:
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
  // Sessions: `from` holds the slice's sessions alone (sessionsFrom); sorted as summed, then formatted
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

