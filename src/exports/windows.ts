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
 * The windows to run now, oldest first, at most `max`: every window that ends after `origin`
 * (the first is the one holding it), starts after `lastFrom` (the latest window already run), and
 * whose end plus `delayMs` is not after `now`.
 */
export function dueWindows(kind: ScheduledKind, args: { origin: number; lastFrom: number | null; now: number; delayMs: number; max: number }): Window[] {
  let w = windowAt(kind, args.origin);
  if (args.lastFrom !== null && args.lastFrom >= w.from) w = windowAt(kind, windowAt(kind, args.lastFrom).to);
  const out: Window[] = [];
  while (out.length < args.max && w.to + args.delayMs <= args.now) {
    out.push(w);
    w = windowAt(kind, w.to);
  }
  return out;
}
