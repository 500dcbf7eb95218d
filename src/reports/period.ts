/**
 * Report periods (Kinescope's "Export report"): fixed ranges relative to the request's moment in a
 * time zone — whole local days, weeks starting on Monday — or a custom range of dates.
 */
import { addDays, dayStartUtc, isRealDate, localDate } from '../metrics/period.ts';
import { shown } from '../util/shown.ts';

export const PRESETS = ['all_time', 'today', 'yesterday', 'this_week', 'last_week', 'this_month', 'last_month', 'last_year', 'custom'] as const;
export type Preset = (typeof PRESETS)[number];

export interface ReportPeriod {
  preset: Preset;
  /** First and last local day, both included; null for all_time. */
  from: string | null;
  to: string | null;
  tz: string;
  fromMs: number;
  toMs: number;
}

/** all_time: from the epoch to the end of year 9999. */
const ALL_TIME = { fromMs: 0, toMs: Date.UTC(9999, 11, 31) };

const monthStart = (date: string) => `${date.slice(0, 7)}-01`;
function nextMonth(first: string): string {
  const [y, m] = first.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
}
function prevMonth(first: string): string {
  const [y, m] = first.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12-01` : `${y}-${String(m - 1).padStart(2, '0')}-01`;
}

export class ReportPeriodError extends Error {}

/** The local days [from, to] of a preset at instant `now` in `tz`; custom takes `from` and `to`. */
export function reportPeriod(preset: Preset, now: number, tz: string, custom?: { from: string; to: string }): ReportPeriod {
  const today = localDate(now, tz);
  const monday = addDays(today, -((new Date(`${today}T00:00:00Z`).getUTCDay() + 6) % 7));
  let from: string;
  let to: string;
  switch (preset) {
    case 'all_time':
      return { preset, from: null, to: null, tz, ...ALL_TIME };
    case 'today': from = to = today; break;
    case 'yesterday': from = to = addDays(today, -1); break;
    case 'this_week': from = monday; to = addDays(monday, 6); break;
    case 'last_week': from = addDays(monday, -7); to = addDays(monday, -1); break;
    case 'this_month': from = monthStart(today); to = addDays(nextMonth(from), -1); break;
    case 'last_month': from = prevMonth(monthStart(today)); to = addDays(monthStart(today), -1); break;
    case 'last_year': { const y = Number(today.slice(0, 4)) - 1; from = `${String(y).padStart(4, '0')}-01-01`; to = `${String(y).padStart(4, '0')}-12-31`; break; }
    case 'custom': {
      if (!custom) throw new ReportPeriodError('from and to: required with period custom, dates YYYY-MM-DD');
      if (!isRealDate(custom.from)) throw new ReportPeriodError(`from: ${shown(custom.from)} is not a date; expected YYYY-MM-DD`);
      if (!isRealDate(custom.to)) throw new ReportPeriodError(`to: ${shown(custom.to)} is not a date; expected YYYY-MM-DD`);
      if (custom.to < custom.from) throw new ReportPeriodError(`to: ${custom.to} is before from ${custom.from}`);
      from = custom.from;
      to = custom.to;
      break;
    }
  }
  return { preset, from, to, tz, fromMs: dayStartUtc(from, tz), toMs: dayStartUtc(addDays(to, 1), tz) };
}
