/**
 * The windows of scheduled exports, pure: hourly (a UTC hour), daily (a UTC day), weekly (Monday
 * 00:00 UTC to the next Monday). Times are epoch milliseconds; a window is [from, to).
 */
import type { ScheduledKind } from '../storage/types.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** 1970-01-05, the first Monday after the epoch (a Thursday). */
const MONDAY = 4 * DAY;

export const SCHEDULED_KINDS: readonly ScheduledKind[] = ['hourly', 'daily', 'weekly'];

export interface Window {
  from: number;
  to: number;
}

const LENGTH: Record<ScheduledKind, number> = { hourly: HOUR, daily: DAY, weekly: WEEK };
const ANCHOR: Record<ScheduledKind, number> = { hourly: 0, daily: 0, weekly: MONDAY };

/** The window holding `t` (from ≤ t < to). */
export function windowAt(kind: ScheduledKind, t: number): Window {
  const len = LENGTH[kind];
  const from = Math.floor((t - ANCHOR[kind]) / len) * len + ANCHOR[kind];
  return { from, to: from + len };
}

/**
 * The first window of a schedule made at `origin` whose runs wait `delayMs` after a window ends: the
 * first whose run time (its end plus the delay) is after `origin`. Without a delay, the window
 * holding `origin`; a daily one at 04:00 UTC made at 02:00 runs at 04:00 for the day before.
 */
export function firstWindow(kind: ScheduledKind, origin: number, delayMs: number): Window {
  return windowAt(kind, origin - delayMs);
}

/**
 * The windows to run now, oldest first, at most `max`: every window from the first (firstWindow),
 * after `lastFrom` (the latest window already run), whose end plus `delayMs` is not after `now`.
 */
export function dueWindows(kind: ScheduledKind, args: { origin: number; lastFrom: number | null; now: number; delayMs: number; max: number }): Window[] {
  let w = firstWindow(kind, args.origin, args.delayMs);
  if (args.lastFrom !== null && args.lastFrom >= w.from) w = windowAt(kind, windowAt(kind, args.lastFrom).to);
  const out: Window[] = [];
  while (out.length < args.max && w.to + args.delayMs <= args.now) {
    out.push(w);
    w = windowAt(kind, w.to);
  }
  return out;
}
