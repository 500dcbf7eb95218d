import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKOFF_MS, nextAttemptDelay, parseRetryAfter, planNext, RETRY_WINDOW_MS, type AttemptResult } from './retry.ts';

const H = 3_600_000;
const T0 = Date.parse('2025-06-01T00:00:00Z');
const failed = (extra: Partial<AttemptResult> = {}): AttemptResult => ({
  ok: false, status: 500, error: 'HTTP 500', retryAfterMs: null, gone: false, blocked: false, durationMs: 3, ...extra,
});

describe('nextAttemptDelay', () => {
  test('follows 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then 2 h, within ±20 % jitter', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 30].map((n) => nextAttemptDelay(n, null, () => 0.5)), [
      5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 7_200_000, 7_200_000,
    ]);
    for (let n = 1; n <= 9; n++) {
      const base = BACKOFF_MS[Math.min(n, BACKOFF_MS.length) - 1]!;
      assert.equal(nextAttemptDelay(n, null, () => 0), base * 0.8);
      assert.ok(nextAttemptDelay(n, null, () => 0.999999) <= base * 1.2);
    }
    const spread = new Set(Array.from({ length: 50 }, () => nextAttemptDelay(3)));
    assert.ok(spread.size > 10, 'jitter spreads the retries');
  });

  test('a longer Retry-After wins; a shorter one does not shorten the backoff', () => {
    assert.equal(nextAttemptDelay(1, 120_000, () => 0.5), 120_000);
    assert.equal(nextAttemptDelay(6, 60_000, () => 0.5), 3_600_000);
  });
});

describe('planNext', () => {
  test('2xx is done; 410 disables', () => {
    assert.deepEqual(planNext(T0, T0, 1, { ...failed(), ok: true, status: 204, error: null }), { action: 'done' });
    const p = planNext(T0, T0 + H, 4, failed({ status: 410, gone: true }));
    assert.equal(p.action, 'disable');
    assert.match((p as { reason: string }).reason, /410/);
  });

  test('a failure is retried after the backoff; Retry-After is honoured and capped at the 24 h window', () => {
    assert.deepEqual(planNext(T0, T0, 1, failed(), { random: () => 0.5 }), { action: 'retry', at: T0 + 5_000 });
    assert.deepEqual(planNext(T0, T0 + 1000, 1, failed({ status: 429, retryAfterMs: 600_000 }), { random: () => 0.5 }), { action: 'retry', at: T0 + 601_000 });
    assert.deepEqual(planNext(T0, T0 + H, 2, failed({ status: 429, retryAfterMs: 48 * H })), { action: 'retry', at: T0 + RETRY_WINDOW_MS });
    assert.deepEqual(planNext(T0, T0 + 23 * H, 15, failed(), { random: () => 0.5 }), { action: 'retry', at: T0 + 24 * H });
  });

  test('gives up once the 24 h window has passed, naming the last error', () => {
    const p = planNext(T0, T0 + 24 * H, 19, failed({ status: null, error: 'connection refused (ECONNREFUSED)' }));
    assert.equal(p.action, 'give_up');
    assert.match((p as { reason: string }).reason, /within 24 h.*19 attempts.*ECONNREFUSED/);
    assert.equal(planNext(T0, T0 + 2 * H, 3, failed(), { windowMs: H }).action, 'give_up');
  });

  test('a whole failing day: the attempt count and spacing', () => {
    let now = T0;
    let n = 0;
    const times: number[] = [];
    for (;;) {
      n++;
      times.push(now);
      const p = planNext(T0, now, n, failed(), { random: () => 0.5 });
      if (p.action !== 'retry') break;
      assert.ok(p.at > now);
      now = p.at;
    }
    assert.equal(times.at(-1), T0 + 24 * H);
    assert.deepEqual(times.slice(1, 8).map((t, i) => t - times[i]!), [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000]);
    assert.equal(n, 19);
  });
});

describe('parseRetryAfter', () => {
  test('seconds and HTTP dates; junk and absent are null; past dates are zero', () => {
    const now = Date.parse('2025-06-01T12:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(['30'], now), 30_000);
    assert.equal(parseRetryAfter('Sun, 01 Jun 2025 13:00:00 GMT', now), H);
    assert.equal(parseRetryAfter('Sun, 01 Jun 2025 11:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter(undefined, now), null);
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter('-5', now), null);
    assert.equal(parseRetryAfter('1.5', now), null);
  });
});
