/**
 * Export reads in DuckDB: the engine itself writes CSV, JSON Lines, JSON and Parquet (COPY … TO),
 * which is what keeps exports near DuckDB's own speed; XLSX reads rows as a stream. Every read of one
 * export runs in one transaction, so all its parts come from one snapshot.
 */
import { EVENT_CATEGORIES } from '../../events/types.ts';
import type { CopyFormat, ExportRepo, ExportSnapshot, ExportSource } from '../types.ts';
import { fromDuckRow, toDuckParam, type ConnQuerier, type Db, type Param } from './db.ts';
import { DURATION, FROM, whereSql } from './recordsql.ts';

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
};

const TIME_FIELDS = new Set(['timestamp', 'receivedAt', 'startedAt']);
const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

function selectList(src: ExportSource, format: CopyFormat | 'rows'): string {
  const cols = src.scope === 'events' ? EVENT_COLS : VIEW_COLS;
  return src.fields.map(({ name, as }) => {
    let expr = cols[name];
    if (!expr) throw new Error(`no column for field ${name} in scope ${src.scope}`);
    if (TIME_FIELDS.has(name) && format !== 'parquet') expr = ISO(expr);
    if (name === 'data' && (format === 'jsonl' || format === 'json')) expr = `${expr}::JSON`;
    const text = TIME_FIELDS.has(name) ? format !== 'parquet' : typeof expr === 'string' && !/(loads|seconds|count|time|lat|lon|duration|played|counted|unique|completed|is_bot|playhead|percent)/i.test(name);
    if (src.neutralize && text) expr = `CASE WHEN regexp_matches(${expr}, '^[=+\\-@\\t\\r]') THEN '''' || ${expr} ELSE ${expr} END`;
    return `${expr} AS ${quoteIdent(as)}`;
  }).join(', ');
}

function fromWhere(src: ExportSource, params: Param[]): { from: string; where: string; order: string } {
  if (src.scope === 'views') {
    return { from: FROM, where: whereSql({ accountId: src.accountId, fromMs: src.fromMs, toMs: src.toMs, tz: 'UTC', filters: src.filters }, 'v.started_at', params), order: 'v.started_at, v.view_id' };
  }
  const w = ['e.account_id = ?', 'e.ts >= ?', 'e.ts < ?'];
  params.push(src.accountId, new Date(src.fromMs), new Date(src.toMs));
  const names = (src.types ?? ['events', 'quality', 'ads']).flatMap((t) => EVENT_CATEGORIES[t]);
  w.push('e.event IN (SELECT unnest(?::JSON::VARCHAR[]))');
  params.push(JSON.stringify(names));
  const f = src.filters;
  if (f.contentIds?.length) {
    w.push('e.content_id IN (SELECT unnest(?::JSON::VARCHAR[]))');
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
  for (const [k, col] of [['userId', 'e.user_id'], ['sessionId', 'e.session_id'], ['deviceType', 'e.device_type'], ['country', 'e.country']] as const) {
    if (typeof f[k] === 'string') {
      w.push(`${col} = ?`);
      params.push(f[k]!);
    }
  }
  return { from: 'events e LEFT JOIN videos c ON c.account_id = e.account_id AND c.content_id = e.content_id', where: w.join(' AND '), order: 'e.ts, e.seq' };
}

function query(src: ExportSource, format: CopyFormat | 'rows', offset: number, limit: number, params: Param[]): string {
  const { from, where, order } = fromWhere(src, params);
  return `SELECT ${selectList(src, format)} FROM ${from} WHERE ${where} ORDER BY ${order} LIMIT ${Math.trunc(limit)} OFFSET ${Math.trunc(offset)}`;
}

const COPY_OPTIONS: Record<CopyFormat, string> = {
  csv: "FORMAT CSV, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NEW_LINE '\\r\\n'",
  jsonl: 'FORMAT JSON',
  json: 'FORMAT JSON, ARRAY true',
  parquet: 'FORMAT PARQUET, COMPRESSION zstd',
};

function snapshotOn(q: ConnQuerier): ExportSnapshot {
  return {
    async count(src) {
      const params: Param[] = [];
      const { from, where } = fromWhere(src, params);
      return Number((await q.one<{ n: number }>(`SELECT count(*) AS n FROM ${from} WHERE ${where}`, params))?.n ?? 0);
    },
    async copy(src, { format, path, offset, limit, gzip }) {
      const params: Param[] = [];
      const sql = query(src, format, offset, limit, params);
      const compression = gzip && format !== 'parquet' ? ', COMPRESSION gzip' : '';
      if (/'/.test(path)) throw new Error('export paths never hold quotes');
      await q.run(`COPY (${sql}) TO '${path}' (${COPY_OPTIONS[format]}${compression})`, params);
    },
    async stream(src, { offset, limit }, visit) {
      const params: Param[] = [];
      const result = await q.conn.stream(query(src, 'rows', offset, limit, params), params.map(toDuckParam));
      const names = src.fields.map((f) => f.as);
      for await (const rows of result.yieldRowObjectJs()) {
        await visit(rows.map((r) => {
          const row = fromDuckRow(r as Record<string, unknown>);
          return names.map((n) => row[n] ?? null);
        }));
      }
    },
  };
}

export function exportRepo(db: Db): ExportRepo {
  return {
    snapshot: (fn) => db.tx((q) => fn(snapshotOn(q))),
  };
}
