/**
 * Kinescope analytics requests (spec/compat.md) mapped to StatsService requests. Pure: no I/O; every
 * refusal is a KinescopeError carrying Kinescope's numeric code (400400 invalid parameter, 400216
 * invalid sort field) and a message naming the parameter and what is accepted.
 */
import { listsEveryDate, MAX_LISTED_DAYS, parsePeriod, PeriodError } from '../../metrics/period.ts';
import type { Metric } from '../../metrics/registry.ts';
import type { Order } from '../../metrics/stats.ts';
import type { RecordFilters } from '../../storage/types.ts';
import { shown } from '../../util/shown.ts';

/** The metrics of every Kinescope answer, in this order. */
export const KINESCOPE_METRICS = ['player_loads', 'views', 'unique_views', 'view_rate', 'total_watch_time', 'avg_watch_time', 'watch_depth'] as const satisfies readonly Metric[];
export type KinescopeMetric = (typeof KINESCOPE_METRICS)[number];

export const GROUP_BY = ['video_id', 'project_id', 'date', 'country'] as const;
export type KinescopeGroup = (typeof GROUP_BY)[number];

export const DEFAULT_PER_PAGE = 10;
export const MAX_PER_PAGE = 100;

export const CODE_INVALID = 400400;
export const CODE_SORT_FIELD = 400216;

export class KinescopeError extends Error {
  constructor(readonly kcode: number, message: string) {
    super(message);
  }
}

const invalid = (message: string) => new KinescopeError(CODE_INVALID, message);
const PERIOD_FORMS = 'a date YYYY-MM-DD (a whole day, included) or an RFC 3339 instant YYYY-MM-DDTHH:MM:SSZ';

export type Query = Record<string, unknown>;

/** A parameter given at most once, as a string; undefined when absent. */
function one(q: Query, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw invalid(`${name}: given ${v.length} times; send it once.`);
  if (typeof v !== 'string') throw invalid(`${name}: not accepted; send it once as a plain query parameter.`);
  return v;
}

export interface Period {
  fromMs: number;
  toMs: number;
  tz: string;
}

export function parsePeriodQuery(q: Query): Period {
  const from = one(q, 'from');
  const to = one(q, 'to');
  if (from === undefined || from === '') throw invalid(`from: required; expected ${PERIOD_FORMS}.`);
  if (to === undefined || to === '') throw invalid(`to: required; expected ${PERIOD_FORMS}.`);
  const tz = one(q, 'tz') ?? 'UTC';
  if (tz === '') throw invalid('tz: empty; expected an IANA time zone (e.g. UTC, Europe/Berlin) or leave it out for UTC.');
  try {
    return { ...parsePeriod(from, to, tz), tz };
  } catch (err) {
    if (err instanceof PeriodError) throw invalid(`${err.message}.`);
    throw err;
  }
}

export function parseFilterQuery(q: Query): RecordFilters {
  const f: RecordFilters = {};
  const project = one(q, 'project_id');
  if (project !== undefined) {
    if (project.trim() === '') throw invalid('project_id: empty; expected a project id, or leave the parameter out for every project.');
    f.projectId = project;
  }
  const video = one(q, 'video_id');
  if (video !== undefined) {
    if (video.trim() === '') throw invalid('video_id: empty; expected a video id, or leave the parameter out for every video.');
    f.contentIds = [video];
  }
  return f;
}

function int(q: Query, name: string, dflt: number, min: number, max: number): number {
  const v = one(q, name);
  if (v === undefined) return dflt;
  const n = /^\d{1,15}$/.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw invalid(`${name}: ${shown(v)} is not accepted; expected an integer ${range} (default ${dflt}).`);
  }
  return n;
}

function parseGroupBy(q: Query): KinescopeGroup {
  const g = one(q, 'group_by');
  if (g === undefined || g === '') throw invalid(`group_by: required; expected one of ${GROUP_BY.join(', ')}.`);
  if (!(GROUP_BY as readonly string[]).includes(g)) throw invalid(`group_by: ${shown(g)} is not accepted; expected one of ${GROUP_BY.join(', ')} (one value).`);
  return g as KinescopeGroup;
}

/** `field.direction`: the field one of the metrics or the group key (else 400216), the direction asc or desc. */
export function parseOrder(raw: string | undefined, groupBy: KinescopeGroup): Order | undefined {
  if (raw === undefined) return undefined;
  const fields: string[] = [groupBy, ...KINESCOPE_METRICS];
  const dot = raw.lastIndexOf('.');
  if (dot <= 0) throw invalid(`order: ${shown(raw)} is not accepted; expected field.direction, e.g. views.desc, with direction asc or desc.`);
  const field = raw.slice(0, dot);
  const dir = raw.slice(dot + 1);
  if (!fields.includes(field)) {
    throw new KinescopeError(CODE_SORT_FIELD, `order: ${shown(field)} is not a sort field; expected one of ${fields.join(', ')}.`);
  }
  if (dir !== 'asc' && dir !== 'desc') throw invalid(`order: direction ${shown(dir)} is not accepted; expected asc or desc, e.g. ${field}.desc.`);
  return { field, dir };
}

export interface OverviewRequest {
  period: Period;
  filters: RecordFilters;
}

export function parseOverview(q: Query): OverviewRequest {
  return { period: parsePeriodQuery(q), filters: parseFilterQuery(q) };
}

export interface GroupedRequest extends OverviewRequest {
  groupBy: KinescopeGroup;
  page: number;
  perPage: number;
  order: Order | undefined;
}

export function parseGrouped(q: Query): GroupedRequest {
  const period = parsePeriodQuery(q);
  const groupBy = parseGroupBy(q);
  const filters = parseFilterQuery(q);
  const page = int(q, 'page', 1, 1, Number.MAX_SAFE_INTEGER);
  const perPage = int(q, 'per_page', DEFAULT_PER_PAGE, 1, MAX_PER_PAGE);
  const order = parseOrder(one(q, 'order'), groupBy);
  if (groupBy === 'date') {
    // A date grouping lists every day of its period; one too long to list is refused rather than cut short.
    if (!listsEveryDate(period.fromMs, period.toMs, period.tz)) {
      throw invalid(`group_by: date lists at most ${MAX_LISTED_DAYS} days; shorten the period from–to or group by another key.`);
    }
  }
  return { period, filters, groupBy, page, perPage, order };
}
