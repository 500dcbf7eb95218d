/** SQL pieces for sets of view records: the FROM, the filters and the grouping expressions. */
import type { Dimension, GroupKey, RecordSet } from '../types.ts';
import type { Param } from './db.ts';

/** A record's duration: the catalog's (whole seconds, half up, at least 1), else the events'. */
export const DURATION = 'CAST(coalesce(CASE WHEN c.duration > 0 THEN greatest(1, round(c.duration)) END, v.event_duration) AS BIGINT)';

export const FROM = 'view_records v LEFT JOIN videos c ON c.account_id = v.account_id AND c.content_id = v.content_id';

/** The local day of a UTC timestamp column in the request's zone (ICU, DST-correct). */
const day = (col: string) => `strftime(CAST(timezone(?, timezone('UTC', ${col})) AS DATE), '%Y-%m-%d')`;

export function dimensionSql(d: Dimension, timeCol: string, params: Param[], tz: string): string {
  switch (d) {
    case 'video_id': return 'v.content_id';
    case 'project_id': return 'c.project_id';
    case 'date': params.push(tz); return day(timeCol);
    case 'country': return 'v.country';
    case 'platform': return 'v.platform';
    case 'os': return 'v.os';
    case 'browser': return 'v.browser';
    case 'domain': return 'v.domain';
    case 'url': return 'v.url';
  }
}

/** WHERE clause of a record set; `timeCol` is what the period applies to. */
export function whereSql(set: RecordSet, timeCol: string, params: Param[]): string {
  const w = ['v.account_id = ?', `${timeCol} >= ?`, `${timeCol} < ?`];
  params.push(set.accountId, new Date(set.fromMs), new Date(set.toMs));
  const f = set.filters;
  if (f.contentIds?.length) {
    w.push('list_contains(?::JSON::VARCHAR[], v.content_id)');
    params.push(JSON.stringify(f.contentIds));
  }
  if (f.projectId !== undefined) {
    w.push('c.project_id = ?');
    params.push(f.projectId);
  }
  if (f.folder !== undefined) {
    w.push("(c.folder = ? OR starts_with(c.folder, ? || '/'))");
    params.push(f.folder, f.folder);
  }
  const cols: Array<[keyof RecordSet['filters'], string]> = [
    ['country', 'v.country'], ['platform', 'v.platform'], ['os', 'v.os'], ['browser', 'v.browser'], ['domain', 'v.domain'],
    ['deviceType', 'v.device_type'], ['userId', 'v.user_id'], ['sessionId', 'v.session_id'],
  ];
  for (const [k, col] of cols) {
    const v = f[k];
    if (typeof v === 'string') {
      w.push(`${col} = ?`);
      params.push(v);
    }
  }
  return w.join(' AND ');
}

/** SELECT list and GROUP BY for the dimensions, aliased k0, k1…; and a reader of the key back. */
export function groupSql(groupBy: Dimension[], timeCol: string, params: Param[], tz: string) {
  const exprs = groupBy.map((d, i) => `${dimensionSql(d, timeCol, params, tz)} AS k${i}`);
  return {
    select: exprs.length ? exprs.join(', ') + ', ' : '',
    groupBy: exprs.length ? `GROUP BY ${groupBy.map((_, i) => `k${i}`).join(', ')}` : '',
    key: (row: Record<string, unknown>): GroupKey => Object.fromEntries(groupBy.map((d, i) => [d, (row[`k${i}`] as string | null) ?? null])),
  };
}
