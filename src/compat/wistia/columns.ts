/**
 * The Wistia stats events export (spec/compat.md, seeds/002): its query parameters and the mapping
 * of a view record to an event. Pure: no I/O.
 */
import { isRealDate } from '../../metrics/period.ts';
import type { RecordRow } from '../../storage/types.ts';
import { shown } from '../../util/shown.ts';

export const WISTIA_FIELDS = [
  'received_at', 'event_key', 'visitor_key', 'ip', 'org', 'country', 'region', 'city', 'lat', 'lon', 'email',
  'percent_viewed', 'embed_url', 'media_id',
] as const;

export type WistiaField = (typeof WISTIA_FIELDS)[number];
export type WistiaEvent = Record<WistiaField, string | number | null>;

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
const DAY = 86_400_000;
/** No stored event can be before 1970 or after 9999; open ends of a date range use these. */
const EARLIEST = 0;
const LATEST = Date.UTC(10000, 0, 1);

/** A refused parameter; the message names it and says what is accepted. */
export class WistiaParamError extends Error {}

export interface WistiaQuery {
  playedOnly: boolean;
  limit: number;
  offset: number;
  /** [fromMs, toMs), whole UTC days. */
  fromMs: number;
  toMs: number;
}

type Raw = Record<string, string | string[] | undefined>;

function single(q: Raw, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw new WistiaParamError(`${name}: given more than once; give it once.`);
  return v;
}

function integer(q: Raw, name: string, min: number, help: string, cap?: number): number | undefined {
  const v = single(q, name);
  if (v === undefined) return undefined;
  // Past `cap`, however many digits, a whole number gives `cap` (limit=99999999999999999 gives 1000).
  if (cap !== undefined && /^\d{1,4096}$/.test(v) && BigInt(v) > BigInt(cap)) return cap;
  const n = /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new WistiaParamError(`${name}: ${shown(v)} is not accepted; ${help}.`);
  return n;
}

function date(q: Raw, name: string): number | undefined {
  const v = single(q, name);
  if (v === undefined) return undefined;
  if (!isRealDate(v)) throw new WistiaParamError(`${name}: ${shown(v)} is not a date; expected YYYY-MM-DD (UTC), e.g. 2010-03-01.`);
  return Date.parse(`${v}T00:00:00Z`);
}

/**
 * filter=view (played records only; absent: every record), limit 1–1000 (default 100; more gives
 * 1000), offset ≥ 0 (default 0), start_date/end_date YYYY-MM-DD, UTC days, both included.
 * Unknown parameters are ignored, as the vendor does.
 */
export function parseWistiaQuery(q: Raw): WistiaQuery {
  const filter = single(q, 'filter');
  if (filter !== undefined && filter !== 'view') {
    throw new WistiaParamError(`filter: ${shown(filter)} is not accepted; the only filter is filter=view (events where the video was played); leave it out for every event.`);
  }
  const limit = integer(q, 'limit', 1, `expected a whole number from 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT}; larger values give ${MAX_LIMIT})`, MAX_LIMIT);
  const offset = integer(q, 'offset', 0, 'expected a whole number ≥ 0 (default 0)');
  const start = date(q, 'start_date');
  const end = date(q, 'end_date');
  if (start !== undefined && end !== undefined && end < start) {
    throw new WistiaParamError(`end_date: ${q.end_date} is before start_date ${q.start_date}; both days are included, so end_date must be on or after start_date.`);
  }
  return {
    playedOnly: filter === 'view',
    limit: Math.min(limit ?? DEFAULT_LIMIT, MAX_LIMIT),
    offset: offset ?? 0,
    fromMs: start ?? EARLIEST,
    toMs: end === undefined ? LATEST : end + DAY,
  };
}

/** One event, keys in WISTIA_FIELDS order. */
export function wistiaEvent(r: RecordRow): WistiaEvent {
  return {
    received_at: new Date(r.startedAt).toISOString(),
    event_key: r.viewId,
    visitor_key: r.viewer,
    ip: r.ip,
    org: r.org,
    country: r.country,
    region: r.region,
    city: r.city,
    lat: r.lat,
    lon: r.lon,
    email: r.email,
    percent_viewed: r.percentViewed,
    embed_url: r.url,
    media_id: r.contentId,
  };
}
