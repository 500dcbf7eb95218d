/** Query parameters of the native stats API, parsed into a StatsRequest; each error names its parameter. */
import { AppError } from '../errors.ts';
import { addDays, localDate, MAX_HOURS, parsePeriod, PeriodError } from '../metrics/period.ts';
import { PRESETS, reportPeriod, type Preset } from '../reports/period.ts';
import { METRIC_NAMES, type Metric } from '../metrics/registry.ts';
import type { Order } from '../metrics/stats.ts';
import { DIMENSIONS, type Dimension, type RecordFilters } from '../storage/types.ts';
import { shown } from '../util/shown.ts';

export const DEFAULT_METRICS: Metric[] = ['views', 'player_loads', 'unique_views', 'view_rate', 'total_watch_time', 'avg_watch_time', 'watch_depth'];

/** Filter parameters shared by every stats route, mapped to record filters. */
export const FILTER_PARAMS = {
  video_id: 'contentIds', project_id: 'projectId', folder: 'folder', country: 'country', platform: 'platform',
  os: 'os', browser: 'browser', domain: 'domain', device_type: 'deviceType', user_id: 'userId', session_id: 'sessionId',
} as const satisfies Record<string, keyof RecordFilters>;

export const filterQuerySchema = Object.fromEntries(Object.keys(FILTER_PARAMS).map((k) => [k, { type: 'string', maxLength: 2048 }]));

const bad = (msg: string) => new AppError('validation_failed', msg);

function list<T extends string>(name: string, raw: string | undefined, allowed: readonly T[], dflt: T[]): T[] {
  if (raw === undefined || raw === '') return dflt;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!(allowed as readonly string[]).includes(i)) throw bad(`${name}: ${shown(i)} is not accepted; expected a comma-separated list of ${allowed.join(', ')}`);
  return [...new Set(items)] as T[];
}

/**
 * Named periods: the report presets (whole local days in tz at the moment of the request, weeks
 * from Monday) and two rolling ones: the last 24 hours up to now, and the last 30 days (today and
 * the 29 before it, the default).
 */
export const PERIOD_PRESETS = ['last_24_hours', 'last_30_days', ...PRESETS.filter((p) => p !== 'custom')] as const;
export type PeriodPreset = (typeof PERIOD_PRESETS)[number];

/** `period` (a preset), or `from`/`to` (dates or RFC 3339), with `tz`; default the last 30 days. */
export function parsePeriodParams(q: Record<string, unknown>, now: number): { fromMs: number; toMs: number; tz: string } {
  const str = (k: string) => (typeof q[k] === 'string' && q[k] !== '' ? (q[k] as string) : undefined);
  const tz = str('tz') ?? 'UTC';
  const today = (() => {
    try {
      return localDate(now, tz);
    } catch {
      throw bad(`tz: ${shown(tz)} is not an IANA time zone (e.g. UTC, Europe/Berlin)`);
    }
  })();
  const preset = str('period');
  if (preset !== undefined) {
    if (!(PERIOD_PRESETS as readonly string[]).includes(preset)) throw bad(`period: ${shown(preset)} is not accepted; expected one of ${PERIOD_PRESETS.join(', ')}, or from and to instead`);
    if (str('from') !== undefined || str('to') !== undefined) throw bad('period: give either period or from/to, not both');
    if (preset === 'last_24_hours') return { fromMs: now - 86_400_000, toMs: now + 1, tz };
    if (preset !== 'last_30_days') {
      const r = reportPeriod(preset as Preset, now, tz);
      return { fromMs: r.fromMs, toMs: r.toMs, tz };
    }
  }
  try {
    return { ...parsePeriod(str('from') ?? addDays(today, -29), str('to') ?? today, tz), tz };
  } catch (err) {
    if (err instanceof PeriodError) throw bad(err.message);
    throw err;
  }
}

/** `hour` lists every hour of the period: at most 31 days of them. */
export function checkHourSpan(groupBy: Dimension[], period: { fromMs: number; toMs: number }): void {
  if (groupBy.includes('hour') && period.toMs - period.fromMs > MAX_HOURS * 3_600_000) {
    throw bad('dimensions: hour covers at most 31 days; shorten the period or group by date');
  }
}

export function parseFilters(q: Record<string, unknown>): RecordFilters {
  const f: RecordFilters = {};
  for (const [param, field] of Object.entries(FILTER_PARAMS)) {
    const v = q[param];
    if (typeof v !== 'string' || v === '') continue;
    if (field === 'contentIds') f.contentIds = v.split(',').map((s) => s.trim()).filter(Boolean);
    else (f as Record<string, string>)[field] = v;
  }
  return f;
}

export function parseMetrics(raw: string | undefined): Metric[] {
  return list('metrics', raw, METRIC_NAMES, DEFAULT_METRICS);
}

export function parseDimensions(raw: string | undefined): Dimension[] {
  return list('dimensions', raw, DIMENSIONS, []);
}

/** `field.direction`, the field a requested metric or dimension. */
export function parseOrder(raw: string | undefined, fields: string[]): Order | undefined {
  if (!raw) return undefined;
  const m = /^([a-z_]+)\.(asc|desc)$/.exec(raw);
  if (!m || !fields.includes(m[1])) throw bad(`order: ${shown(raw)} is not accepted; expected field.asc or field.desc with field one of ${fields.join(', ')}`);
  return { field: m[1], dir: m[2] as 'asc' | 'desc' };
}
