/** SQL pieces for sets of view records: the FROM, the filters and the grouping expressions. */
import type { Dimension, GroupKey, RecordSet } from '../types.ts';
import { offsetString, zoneSegments } from '../../metrics/period.ts';
import type { Param } from './db.ts';
import { MAX_MEDIA_SECONDS } from '../../events/types.ts';

/**
 * The catalog entry's duration (`c`: videos), as GET /api/v1/videos shows it: the one set, else the
 * one events filled it with (the largest seen on the content's events); whole seconds, half up, at
 * least 1; null when neither.
 */
const CATALOG_SECONDS = `coalesce(CASE WHEN c.duration > 0 THEN c.duration END, c.seen_duration)`;
const CATALOG_OK = `${CATALOG_SECONDS} > 0 AND ${CATALOG_SECONDS} <= ${MAX_MEDIA_SECONDS}`;
export const CATALOG_DURATION = `CAST(CASE WHEN ${CATALOG_OK} THEN greatest(1, round(${CATALOG_SECONDS})) END AS BIGINT)`;
/** A record's duration: the catalog's, else the largest on its own events. */
export const DURATION = `coalesce(${CATALOG_DURATION}, CAST(v.event_duration AS BIGINT))`;

export const FROM = 'view_records v LEFT JOIN videos c ON c.account_id = v.account_id AND c.content_id = v.content_id';

/**
 * A UTC timestamp column in the request's zone: the zone's offsets over the period are computed
 * once (DST changes included) and applied with a CASE, which is far cheaper than a time-zone
 * conversion per row. `local` turns the shifted column and its offset into the result. Only numbers
 * the server computed are written into the SQL.
 */
function inZone(col: string, set: Pick<RecordSet, 'fromMs' | 'toMs' | 'tz'>, local: (shifted: string, offsetMs: number) => string): string {
  const segs = zoneSegments(set.fromMs, set.toMs, set.tz);
  const shift = (o: number) => local(`(${col} + INTERVAL (${Math.trunc(o)}) MILLISECOND)`, o);
  return segs.length === 1
    ? shift(segs[0].offsetMs)
    : `CASE ${segs.slice(0, -1).map((g) => `WHEN ${col} < make_timestamp(${Math.trunc(g.endMs)}::BIGINT * 1000) THEN ${shift(g.offsetMs)}`).join(' ')} ELSE ${shift(segs[segs.length - 1].offsetMs)} END`;
}

/** The local day: YYYY-MM-DD. */
const day = (col: string, set: Pick<RecordSet, 'fromMs' | 'toMs' | 'tz'>) => inZone(col, set, (t) => `CAST(CAST(${t} AS DATE) AS VARCHAR)`);

/** The local hour, as metrics/period.ts hourKey writes it: 2026-03-29T01:00:00+01:00. */
const hour = (col: string, set: Pick<RecordSet, 'fromMs' | 'toMs' | 'tz'>) =>
  inZone(col, set, (t, o) => `strftime(${t}, '%Y-%m-%dT%H:00:00${offsetString(o)}')`);

export function dimensionSql(d: Dimension, timeCol: string, set: Pick<RecordSet, 'fromMs' | 'toMs' | 'tz'>): string {
  switch (d) {
    case 'video_id': return 'v.content_id';
    case 'project_id': return 'c.project_id';
    case 'date': return day(timeCol, set);
    case 'hour': return hour(timeCol, set);
    case 'country': return 'v.country';
    case 'platform': return 'v.platform';
    case 'os': return 'v.os';
    case 'browser': return 'v.browser';
    case 'domain': return 'v.domain';
    case 'url': return 'v.url';
  }
}

/** The stored `platform` of a device label (Contentsquare's desktop / mobile / tablet). */
export function platformOfLabel(label: 'desktop' | 'mobile' | 'tablet'): string {
  return label === 'mobile' ? 'smartphone' : label;
}

/** A device label from a platform column: desktop, mobile, tablet, else other. */
export const DEVICE_LABEL = (col: string) =>
  `CASE WHEN ${col} IS NULL THEN NULL WHEN ${col} = 'desktop' THEN 'desktop' WHEN ${col} = 'smartphone' THEN 'mobile' WHEN ${col} = 'tablet' THEN 'tablet' ELSE 'other' END`;

/** The sessions where a viewer (userId) appears, in raw events or in view records: 4 parameters. */
export const VIEWER_SESSIONS = '(SELECT session_id FROM events WHERE account_id = ? AND user_id = ? UNION SELECT session_id FROM view_records WHERE account_id = ? AND user_id = ?)';

/**
 * Rows (events or view records, alias `t`) attributed to a viewer: those with its userId, and those
 * without a userId in its sessions. Pushes its parameters.
 */
export function attributedSql(t: string, accountId: string, userId: string, params: Param[]): string {
  params.push(userId, accountId, userId, accountId, userId);
  return `(${t}.user_id = ? OR (${t}.user_id IS NULL AND ${t}.session_id IN ${VIEWER_SESSIONS}))`;
}

/**
 * Conditions of the catalog filters (project, folder with its nested folders) on the catalog's
 * columns, named with `prefix` ('c.' where the catalog is joined as c). Pushes its parameters.
 */
export function catalogFilterSql(f: { projectId?: string; folder?: string }, prefix: string, params: Param[]): string[] {
  const w: string[] = [];
  if (f.projectId !== undefined) {
    w.push(`${prefix}project_id = ?`);
    params.push(f.projectId);
  }
  if (f.folder !== undefined) {
    w.push(`(${prefix}folder = ? OR starts_with(${prefix}folder, ? || '/'))`);
    params.push(f.folder, f.folder);
  }
  return w;
}

/**
 * `test` of the NOT NULL column `col` in a form DuckDB's scan evaluates only after a rowid range.
 * DuckDB 1.5 prunes no row group by rowid: a scan of a rowid range visits every vector of the table
 * and evaluates its filters there in an order it reshuffles at random (its adaptive filters), so a
 * test of another column taken first read that column whole, ~50 MB and ~150 ms for started_at,
 * in a random share of an export's slices. A filter that can throw is never moved ahead of one
 * that cannot (duckdb/duckdb#14672), and is not pushed into the scan: DuckDB evaluates it above the
 * scan, on the rows of the range, every column of them fetched (about the time the whole-column
 * reads cost, ~50 MB less). The branch of error() is never taken: the column is NOT NULL.
 */
export const afterRowid = (col: string, test: string) => `CASE WHEN ${col} IS NULL THEN error('${col} is null') ELSE ${test} END`;

/**
 * `col = ?` for a column that may hold nulls, in afterRowid's form (null where `=` is): its two
 * parameters are the same value, so the error() branch is never taken.
 */
export const afterRowidEquals = (col: string) => `CASE WHEN ${col} IS NULL THEN NULL WHEN ${col} = ? THEN true WHEN ${col} <> ? THEN false ELSE error('${col}: neither equal nor not') END`;

/**
 * WHERE clause of a record set; `timeCol` is what the period applies to. `inRowidRanges`: for an
 * export's rowid ranges, the tests of the record's own columns come after the range (afterRowid,
 * afterRowidEquals); the content ids' semi-join and the catalog's filters are joins, not filters of
 * the scan.
 */
export function whereSql(set: RecordSet, timeCol: string, params: Param[], inRowidRanges = false): string {
  const w = inRowidRanges
    ? [afterRowid('v.account_id', 'v.account_id = ?'), afterRowid(timeCol, `${timeCol} >= ? AND ${timeCol} < ?`)]
    : ['v.account_id = ?', `${timeCol} >= ?`, `${timeCol} < ?`];
  params.push(set.accountId, new Date(set.fromMs), new Date(set.toMs));
  const f = set.filters;
  if (f.contentIds?.length) {
    w.push('v.content_id IN (SELECT unnest(?::JSON::VARCHAR[]))');
    params.push(JSON.stringify(f.contentIds));
  }
  w.push(...catalogFilterSql(f, 'c.', params));
  // `notNull`: the column is NOT NULL (view_records' schema)
  const cols: Array<[keyof RecordSet['filters'], string, notNull?: boolean]> = [
    ['country', 'v.country'], ['platform', 'v.platform'], ['os', 'v.os'], ['browser', 'v.browser'], ['domain', 'v.domain'],
    ['deviceType', 'v.device_type'], ['userId', 'v.user_id'], ['sessionId', 'v.session_id', true],
  ];
  const equals = (col: string, v: string, notNull = false) => {
    if (!inRowidRanges) {
      w.push(`${col} = ?`);
      params.push(v);
    } else if (notNull) {
      w.push(afterRowid(col, `${col} = ?`));
      params.push(v);
    } else {
      w.push(afterRowidEquals(col));
      params.push(v, v);
    }
  };
  for (const [k, col, notNull] of cols) {
    const v = f[k];
    if (typeof v === 'string') equals(col, v, notNull);
  }
  if (f.deviceLabel !== undefined) equals('v.platform', platformOfLabel(f.deviceLabel));
  if (f.attributedTo !== undefined) w.push(attributedSql('v', set.accountId, f.attributedTo, params));
  return w.join(' AND ');
}

/** SELECT list and GROUP BY for the dimensions, aliased k0, k1…; and a reader of the key back. */
export function groupSql(groupBy: Dimension[], timeCol: string, set: Pick<RecordSet, 'fromMs' | 'toMs' | 'tz'>) {
  const exprs = groupBy.map((d, i) => `${dimensionSql(d, timeCol, set)} AS k${i}`);
  return {
    select: exprs.length ? exprs.join(', ') + ', ' : '',
    groupBy: exprs.length ? `GROUP BY ${groupBy.map((_, i) => `k${i}`).join(', ')}` : '',
    key: (row: Record<string, unknown>): GroupKey => Object.fromEntries(groupBy.map((d, i) => [d, (row[`k${i}`] as string | null) ?? null])),
  };
}

/**
 * The view records, joined to the catalog where a catalog filter (project, folder) needs it: the
 * catalog holds a video at most once, so the join adds no rows, and reading without it skips the
 * table's content ids and the join's hash table.
 */
export const recordsOf = (src: { filters: RecordSet['filters'] }) => (catalogFiltered(src.filters) ? FROM : 'view_records v');

/** Whether the filters select by the catalog (project, folder). */
export const catalogFiltered = (f: RecordSet['filters']) => f.projectId !== undefined || f.folder !== undefined;
