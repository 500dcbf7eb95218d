/** Periods and time zones: whole local days in an IANA zone → UTC instants, DST included. */
import { shown } from '../util/shown.ts';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
// RFC 3339 (its T and Z may be lower case, §5.6); realDateTime checks the fields' values.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const DAY = 86_400_000;

export class PeriodError extends Error {}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Offset of `tz` from UTC at instant `ms`, in ms (wall time − UTC). */
export function tzOffset(ms: number, tz: string): number {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', era: 'short', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(tz, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  // The year as a number line holds it (1 BC is year 0), set whole: Date.UTC reads years 0–99 as 1900–1999.
  const wall = new Date(0);
  wall.setUTCFullYear(p.era === 'BC' ? 1 - Number(p.year) : Number(p.year), +p.month - 1, +p.day);
  wall.setUTCHours(+p.hour, +p.minute, +p.second, 0);
  return wall.getTime() - Math.floor(ms / 1000) * 1000;
}

/**
 * The UTC instant at which local day `date` (YYYY-MM-DD) starts in `tz`: its midnight less the offset
 * then in force, or, where a change of offset skips midnight (America/Santiago and America/Havana
 * move to summer time at 00:00), the change itself, the first instant of that date. Where the
 * offsets a day and a half before and after differ, the candidates are midnight less each of them,
 * and the first that starts `date` is the start (the
 * offset at midnight alone gave 03:00Z for Santiago's 2026-09-06, 23:00 on the 5th there).
 */
export function dayStartUtc(date: string, tz: string): number {
  const [, y, m, d] = /^([+-]?\d+)-(\d+)-(\d+)$/.exec(date)!.map(Number);
  const at = new Date(0);
  at.setUTCFullYear(y!, m! - 1, d); // Date.UTC would read years 0–99 as 1900–1999
  const wall = at.getTime();
  const before = tzOffset(wall - 1.5 * DAY, tz);
  const after = tzOffset(wall + 1.5 * DAY, tz);
  if (before === after) return wall - before; // no change of offset near the day (nearly every day)
  const starts = (t: number) => localDate(t, tz) === date && localDate(t - 1, tz) !== date;
  const found = [wall - before, wall - after].sort((a, b) => a - b).find(starts);
  if (found !== undefined) return found;
  // A change inside the day's first instants but not at midnight (Toronto, 1919-03-31: 23:30 → 00:30),
  // or a day skipped whole (Pacific/Apia, 2011-12-30: an empty day): the first instant whose local
  // date is not before `date`, found by halving (a few days a century per zone).
  let lo = wall - Math.max(before, after) - DAY;
  let hi = wall - Math.min(before, after) + DAY;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDate(mid, tz) < date) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * Whether the date and time of an ISO 8601 date-time (already matched by a pattern) are real: a day
 * of its month, hours to 23, minutes and seconds to 59. Date.parse rolls 2026-11-31 over to
 * December 1 and reads T24:00 as the next midnight, so a request for one day answered for another.
 */
export function realDateTime(v: string): boolean {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2}))?/.exec(v);
  return !!m && isRealDate(m[1]!) && Number(m[2]) <= 23 && Number(m[3]) <= 59 && Number(m[4] ?? 0) <= 59;
}

export function isRealDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** The local date (YYYY-MM-DD) of an instant in `tz`. */
export function localDate(ms: number, tz: string): string {
  return isoDate(ms + tzOffset(ms, tz));
}

/**
 * `date` moved by `n` days. Past 9999-12-31 the year has six digits and a sign (+010000-01-01, as
 * toISOString writes it), which dayStartUtc reads: the end of a period to 9999-12-31 is an instant.
 */
export function addDays(date: string, n: number): string {
  return isoDate(Date.parse(`${date}T00:00:00Z`) + n * DAY);
}

/** The UTC date of `ms`, YYYY-MM-DD (±YYYYYY-MM-DD outside years 0–9999). */
const isoDate = (ms: number): string => {
  const iso = new Date(ms).toISOString();
  return iso.slice(0, iso.indexOf('T'));
};

/**
 * `from`/`to` as dates (whole local days, both included) or RFC 3339 instants (both included).
 * Returns [fromMs, toMs) in UTC.
 */
export function parsePeriod(from: string, to: string, tz: string): { fromMs: number; toMs: number } {
  if (!isValidTimeZone(tz)) throw new PeriodError(`tz: ${shown(tz)} is not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)`);
  const bound = (name: string, v: string, end: boolean): number => {
    if (isRealDate(v)) return end ? dayStartUtc(addDays(v, 1), tz) : dayStartUtc(v, tz);
    if (INSTANT.test(v) && realDateTime(v) && !Number.isNaN(Date.parse(v.toUpperCase()))) return Date.parse(v.toUpperCase()) + (end ? 1 : 0);
    throw new PeriodError(`${name}: ${shown(v)} is not a date; expected YYYY-MM-DD or RFC 3339 (2024-01-31T12:00:00Z)`);
  };
  const fromMs = bound('from', from, false);
  const toMs = bound('to', to, true);
  if (toMs <= fromMs) throw new PeriodError('to: must not be before from');
  return { fromMs, toMs };
}

/** An offset from UTC as ±HH:MM. */
export function offsetString(offsetMs: number): string {
  const m = Math.round(Math.abs(offsetMs) / 60_000);
  return `${offsetMs < 0 ? '-' : '+'}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

const HOUR = 3_600_000;
/** Periods longer than this are not listed hour by hour. */
export const MAX_HOURS = 31 * 24 + 1;

/** The local hour of an instant in `tz`, as its start with the offset: 2026-03-29T01:00:00+01:00. */
export function hourKey(ms: number, tz: string): string {
  const o = tzOffset(ms, tz);
  return new Date(ms + o).toISOString().slice(0, 13) + ':00:00' + offsetString(o);
}

/** Every local hour of a period, in order (for filling hours without data); a repeated wall hour has another offset. */
export function hoursOf(fromMs: number, toMs: number, tz: string): string[] {
  const out = new Set<string>();
  const local = fromMs + tzOffset(fromMs, tz);
  for (let t = fromMs - (((local % HOUR) + HOUR) % HOUR); t < toMs && out.size < MAX_HOURS + 2; t += HOUR) out.add(hourKey(t, tz));
  return [...out];
}

/** The most days datesOf lists. */
export const MAX_LISTED_DAYS = 3700;

/** Every local date of a period, in order (for filling days without data), at most MAX_LISTED_DAYS. */
export function datesOf(fromMs: number, toMs: number, tz: string): string[] {
  const out: string[] = [];
  for (let d = localDate(fromMs, tz); dayStartUtc(d, tz) < toMs && out.length < MAX_LISTED_DAYS; d = addDays(d, 1)) out.push(d);
  return out;
}

/** Whether datesOf lists every local date of the period: the day after its last possible one starts at or after `toMs`. */
export function listsEveryDate(fromMs: number, toMs: number, tz: string): boolean {
  return dayStartUtc(addDays(localDate(fromMs, tz), MAX_LISTED_DAYS), tz) >= toMs;
}

/**
 * The offsets of `tz` over [fromMs, toMs): pieces [startMs, endMs) of constant offset, so that a
 * store can name local days with plain arithmetic instead of a time-zone conversion per row.
 */
export function zoneSegments(fromMs: number, toMs: number, tz: string): Array<{ startMs: number; endMs: number; offsetMs: number }> {
  const out: Array<{ startMs: number; endMs: number; offsetMs: number }> = [];
  const HOUR = 3_600_000;
  // Past ~40 years nothing is grouped by day; keep the last offset rather than scanning millennia.
  toMs = Math.min(toMs, fromMs + 40 * 366 * 24 * HOUR);
  let start = fromMs;
  let offset = tzOffset(start, tz);
  for (let t = fromMs; t < toMs; ) {
    const next = Math.min(toMs, t + 6 * HOUR);
    const o = tzOffset(next, tz);
    if (o !== offset && next < toMs) {
      // Find the change to the minute.
      let lo = t;
      let hi = next;
      while (hi - lo > 60_000) {
        const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
        if (tzOffset(mid, tz) === offset) lo = mid;
        else hi = mid;
      }
      out.push({ startMs: start, endMs: hi, offsetMs: offset });
      start = hi;
      offset = tzOffset(hi, tz);
    }
    t = next;
  }
  out.push({ startMs: start, endMs: toMs, offsetMs: offset });
  return out;
}
