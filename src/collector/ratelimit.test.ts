import assert from 'node:assert/strict';
import { it } from 'node:test';
import { AppError } from '../errors.ts';
import { RateLimiter } from './ratelimit.ts';

const retryAfter = (fn: () => void): number => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppError && err.code === 'rate_limited');
    return (err as AppError).extra.retryAfter ?? 0;
  }
  return 0;
};

it('takes a batch bigger than the burst when the bucket is full, then waits for the debt (it answered 429 for ever)', () => {
  let now = 0;
  const limit = new RateLimiter(50, 100, 'events per account', () => now);
  limit.take('a', 150); // a full bucket of 100: passes, 50 in debt
  assert.ok(retryAfter(() => limit.take('a', 1)) >= 2, 'the debt and the next event: 51 tokens at 50 a second');
  now += 1_000; // 0 tokens
  assert.ok(retryAfter(() => limit.take('a', 150)) >= 2, 'a big batch waits for a full bucket');
  now += 2_000; // 100 tokens: full
  limit.take('a', 150);
  limit.take('b', 30); // other keys are not affected
  assert.ok(retryAfter(() => limit.take('a', 1)) >= 1);
});

it('a cost within the burst takes what it costs', () => {
  let now = 0;
  const limit = new RateLimiter(10, 20, 'requests per address', () => now);
  for (let i = 0; i < 20; i++) limit.take('x');
  assert.ok(retryAfter(() => limit.take('x')) >= 1);
  now += 100; // one token back
  limit.take('x');
});
