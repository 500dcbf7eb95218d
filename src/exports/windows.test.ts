import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dueWindows, windowAt } from './windows.ts';

const t = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();
const H = 3_600_000;

describe('scheduled export windows', () => {
  test('hourly, daily and weekly (Monday to Monday, UTC) windows', () => {
    assert.deepEqual(windowAt('hourly', t('2026-03-04T10:59:59.999Z')), { from: t('2026-03-04T10:00:00Z'), to: t('2026-03-04T11:00:00Z') });
    assert.deepEqual(windowAt('daily', t('2026-03-04T00:00:00Z')), { from: t('2026-03-04T00:00:00Z'), to: t('2026-03-05T00:00:00Z') });
    // 2026-03-04 is a Wednesday; its week runs from Monday 2 March to Monday 9 March.
    assert.deepEqual(windowAt('weekly', t('2026-03-04T12:00:00Z')), { from: t('2026-03-02T00:00:00Z'), to: t('2026-03-09T00:00:00Z') });
    assert.deepEqual(windowAt('weekly', t('2026-03-08T23:59:59Z')), { from: t('2026-03-02T00:00:00Z'), to: t('2026-03-09T00:00:00Z') });
    assert.deepEqual(windowAt('weekly', t('2026-03-09T00:00:00Z')).from, t('2026-03-09T00:00:00Z'));
    assert.equal(new Date(windowAt('weekly', t('1969-12-31T00:00:00Z')).from).getUTCDay(), 1, 'Monday before the epoch too');
  });

  test('the first window is the one that ends after creation; nothing before it ends', () => {
    const origin = t('2026-03-04T10:30:00Z');
    assert.deepEqual(dueWindows('daily', { origin, lastFrom: null, now: t('2026-03-04T23:59:59Z'), delayMs: 0, max: 100 }), []);
    const due = dueWindows('daily', { origin, lastFrom: null, now: t('2026-03-05T00:00:00Z'), delayMs: 0, max: 100 });
    assert.deepEqual(due.map((w) => iso(w.from)), ['2026-03-04T00:00:00.000Z']);
  });

  test('missed windows come back each once, after the latest run', () => {
    const origin = t('2026-03-04T10:30:00Z');
    const now = t('2026-03-08T01:00:00Z');
    const all = dueWindows('daily', { origin, lastFrom: null, now, delayMs: 0, max: 100 });
    assert.deepEqual(all.map((w) => iso(w.from).slice(0, 10)), ['2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07']);
    const rest = dueWindows('daily', { origin, lastFrom: t('2026-03-05T00:00:00Z'), now, delayMs: 0, max: 100 });
    assert.deepEqual(rest.map((w) => iso(w.from).slice(0, 10)), ['2026-03-06', '2026-03-07']);
    assert.equal(dueWindows('hourly', { origin, lastFrom: null, now, delayMs: 0, max: 10 }).length, 10, 'at most max at a time');
  });

  test('a delay holds a window back until its end plus the delay (daily at 04:00 UTC)', () => {
    const origin = t('2026-03-01T00:00:00Z');
    const at = (now: string) => dueWindows('daily', { origin, lastFrom: t('2026-03-03T00:00:00Z'), now: t(now), delayMs: 240 * 60_000, max: 9 }).map((w) => iso(w.from).slice(0, 10));
    assert.deepEqual(at('2026-03-05T03:59:59Z'), []);
    assert.deepEqual(at('2026-03-05T04:00:00Z'), ['2026-03-04']);
    // Made between midnight and 04:00: that morning's run (for the day before) is the first.
    for (const made of ['2026-12-01T00:27:00Z', '2026-12-01T03:54:00Z']) {
      const first = (now: string) => dueWindows('daily', { origin: t(made), lastFrom: null, now: t(now), delayMs: 240 * 60_000, max: 9 }).map((w) => iso(w.from).slice(0, 10));
      assert.deepEqual(first('2026-12-01T03:59:59Z'), []);
      assert.deepEqual(first('2026-12-01T04:00:01Z'), ['2026-11-30'], made);
    }
    // Made at or after 04:00: the day it was made in is the first (the day before ran before it existed).
    assert.deepEqual(dueWindows('daily', { origin: t('2026-12-01T04:00:00Z'), lastFrom: null, now: t('2026-12-02T04:00:00Z'), delayMs: 240 * 60_000, max: 9 }).map((w) => iso(w.from).slice(0, 10)), ['2026-12-01']);
    const hourly = dueWindows('hourly', { origin: t('2026-03-01T09:15:00Z'), lastFrom: null, now: t('2026-03-01T11:00:00Z'), delayMs: 0, max: 9 });
    assert.deepEqual(hourly.map((w) => [iso(w.from), (w.to - w.from) / H]), [['2026-03-01T09:00:00.000Z', 1], ['2026-03-01T10:00:00.000Z', 1]]);
  });
});
