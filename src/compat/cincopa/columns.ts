/**
 * The Cincopa raw-views CSV (spec/compat.md, seeds/000): the request's `t` and `p` and the mapping
 * of a view record to a row. Pure: no I/O, no clock (the caller passes `now`).
 */
import type { CsvValue } from '../csv.ts';
import type { RecordRow } from '../../storage/types.ts';

export const CINCOPA_COLUMNS = [
  'time', 'hmid', 'ckid', 'unique', 'ud_email', 'ud_acc_id', 'ud_name', 'prg', 'lat', 'long', 'ip',
  'rid', 'country', 'city', 'dur', 'url', 'ua', 'name', 'hm',
] as const;

export const EXPORT_TYPE = 'by_uid_csv';
export const MAX_DAYS = 31;
const DAY = 86_400_000;

/** A refusal of the request's parameters; the message says what is accepted. */
export class CincopaParamError extends Error {}

const P_HELP =
  `p must be D-K: D days (1 to ${MAX_DAYS}) ending K days (0 or more) before today (UTC), both ends included; ` +
  `for example p=6-0 is the last 6 days including today, p=7-7 the 7 days that ended a week ago, p=${MAX_DAYS}-0 the most allowed.`;

export function checkType(t: unknown): void {
  if (t !== EXPORT_TYPE) {
    throw new CincopaParamError(`t=${describe(t)} is not accepted; the only export type is t=${EXPORT_TYPE}.`);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return '(missing)';
  if (Array.isArray(v)) return '(given more than once)';
  return JSON.stringify(String(v));
}

export interface Window {
  days: number;
  offset: number;
  /** First included UTC day, YYYY-MM-DD (null before 1970-01-01, where no event can be). */
  first: string | null;
  /** Last included UTC day, YYYY-MM-DD (null before 1970-01-01). */
  last: string | null;
  /** [fromMs, toMs) */
  fromMs: number;
  toMs: number;
}

/** `p=D-K` → the UTC days [today − K − D + 1, today − K], both included. */
export function parseWindow(p: unknown, now: number): Window {
  const m = typeof p === 'string' ? /^(\d{1,9})-(\d{1,9})$/.exec(p) : null;
  if (!m) throw new CincopaParamError(`p=${describe(p)} is malformed. ${P_HELP}`);
  const days = Number(m[1]);
  const offset = Number(m[2]);
  if (days < 1) throw new CincopaParamError(`p=${p}: D must be at least 1. ${P_HELP}`);
  if (days > MAX_DAYS) throw new CincopaParamError(`p=${p}: at most ${MAX_DAYS} days can be exported at once. ${P_HELP}`);
  const today = Math.floor(now / DAY);
  const lastDay = today - offset;
  const firstDay = lastDay - days + 1;
  const fromMs = firstDay * DAY;
  const toMs = (lastDay + 1) * DAY;
  const date = (d: number) => (d >= 0 ? new Date(d * DAY).toISOString().slice(0, 10) : null);
  return { days, offset, first: date(firstDay), last: date(lastDay), fromMs, toMs };
}

/** The attachment's file name: the days it covers. */
export function fileName(w: Window): string {
  return w.first && w.last ? `views_${w.first}_${w.last}.csv` : `views_p${w.days}-${w.offset}.csv`;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** One CSV row, in CINCOPA_COLUMNS order. */
export function cincopaRow(r: RecordRow): CsvValue[] {
  return [
    iso(r.startedAt), // time
    r.viewId, // hmid
    r.viewer, // ckid
    r.unique ? 'true' : 'false', // unique
    r.email, // ud_email
    r.viewerAccountId, // ud_acc_id
    r.viewerName, // ud_name
    r.totalSeconds, // prg
    r.lat, // lat
    r.lon, // long
    r.ip, // ip
    r.contentId, // rid
    r.country, // country
    r.city, // city
    r.duration, // dur
    r.url, // url
    r.userAgent, // ua
    r.title, // name
    r.hm, // hm
  ];
}
