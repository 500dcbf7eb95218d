/**
 * Retry policy of webhook deliveries, pure: the caller (the outbox) stores attempts and wakes up at
 * the planned time. Times are milliseconds since the epoch.
 */

/** The outcome of one delivery attempt. */
export interface AttemptResult {
  /** A 2xx answer. */
  ok: boolean;
  /** HTTP status, or null when no answer came (refused, timed out, connection failed). */
  status: number | null;
  /** Why the attempt failed, for the attempt log; null on success. */
  error: string | null;
  /** What the receiver's Retry-After asked for, in ms from the attempt; null without one. */
  retryAfterMs: number | null;
  /** The receiver answered 410 Gone: stop and disable the destination. */
  gone: boolean;
  /** The address was refused by the private-address policy (no connection was made). */
  blocked: boolean;
  durationMs: number;
}

export type Plan =
  | { action: 'done' }
  | { action: 'retry'; at: number }
  | { action: 'give_up'; reason: string }
  | { action: 'disable'; reason: string };

export const RETRY_WINDOW_MS = 24 * 3_600_000;

/** Base delay after the n-th failed attempt (n = 1, 2, …); the last one repeats. */
export const BACKOFF_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000] as const;

/** Jitter: the base delay times a factor in [1 - JITTER, 1 + JITTER). */
const JITTER = 0.2;

/**
 * Delay before the next attempt after `attemptNumber` failed attempts: exponential backoff with
 * ±20 % jitter, or the receiver's Retry-After when that is longer.
 */
export function nextAttemptDelay(attemptNumber: number, retryAfterMs: number | null = null, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attemptNumber));
  const base = BACKOFF_MS[Math.min(n, BACKOFF_MS.length) - 1]!;
  const delay = Math.round(base * (1 - JITTER + 2 * JITTER * random()));
  return retryAfterMs !== null && retryAfterMs > delay ? retryAfterMs : delay;
}

export interface PlanOptions {
  random?: () => number;
  windowMs?: number;
}

/**
 * What to do after attempt number `attemptNumber` (1 for the first) ended at `now` with `result`.
 * Retries stop `windowMs` (24 h) after the first attempt: a retry that would fall later is moved to
 * the end of the window (one last attempt), and a failure at or after it gives up.
 */
export function planNext(firstAttemptAt: number, now: number, attemptNumber: number, result: AttemptResult, opts: PlanOptions = {}): Plan {
  if (result.ok) return { action: 'done' };
  if (result.gone) return { action: 'disable', reason: 'the receiver answered 410 Gone; the webhook destination is disabled' };
  const windowMs = opts.windowMs ?? RETRY_WINDOW_MS;
  const deadline = firstAttemptAt + windowMs;
  if (now >= deadline) {
    const hours = Math.round(windowMs / 360_000) / 10;
    return { action: 'give_up', reason: `no successful delivery within ${hours} h of the first attempt (${attemptNumber} attempts); last error: ${result.error ?? 'unknown'}` };
  }
  const at = now + nextAttemptDelay(attemptNumber, result.retryAfterMs, opts.random);
  return { action: 'retry', at: Math.min(at, deadline) };
}

/**
 * Retry-After as milliseconds from `now`: delta seconds or an HTTP date. Null when absent or not
 * understood; never negative.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | null {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return null;
  if (/^\d+$/.test(v)) return Math.min(Number(v), 10 * 365 * 86_400) * 1000;
  if (!/[a-z]/i.test(v)) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}
