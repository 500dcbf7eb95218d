import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../errors.ts';
import { mergeSettings } from './retention.ts';

const cur = { rawDays: 90, aggregateDays: 730, exportFileDays: 7 };

test('mergeSettings changes what is given and keeps the rest', () => {
  assert.deepEqual(mergeSettings(cur, { exportFileDays: 3 }), { ...cur, exportFileDays: 3 });
  assert.deepEqual(mergeSettings(cur, {}), cur);
  assert.deepEqual(mergeSettings(cur, { rawDays: 30, aggregateDays: 30 }), { rawDays: 30, aggregateDays: 30, exportFileDays: 7 });
});

test('mergeSettings refuses what is not a whole number of days, unknown keys and aggregates shorter than raw events', () => {
  for (const body of [null, [], 'x', { rawDays: 0 }, { rawDays: 36_501 }, { rawDays: 1.5 }, { rawDays: '9' }, { nope: 1 }, { aggregateDays: 89 }]) {
    assert.throws(() => mergeSettings(cur, body), (e: unknown) => e instanceof AppError && e.status === 400, JSON.stringify(body));
  }
});
