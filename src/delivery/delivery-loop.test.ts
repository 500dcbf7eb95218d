/**
 * R18: a delivery loop — what the outbox will do — driving planNext and sendWebhook against a real
 * receiver on loopback, with a fake clock: the clock jumps to each planned attempt, so a day of
 * retries runs in well under a second of real time.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startReceiver, type Receiver } from './test-receiver.ts';
import { newMessageId, newWebhookSecret, planNext, sendWebhook, type AttemptResult, type Plan } from './webhook.ts';

const MIN = 60_000;
const H = 60 * MIN;
const T0 = Date.parse('2025-06-01T00:00:00Z');
const secret = newWebhookSecret();
const clock = { t: T0 };

interface Attempt {
  at: number;
  result: AttemptResult;
  plan: Plan;
}

/** Attempts one message until planNext stops; `beforeAttempt` lets the scenario change the world. */
async function deliver(url: string, id: string, beforeAttempt: (now: number) => Promise<void> | void = () => {}): Promise<Attempt[]> {
  clock.t = T0;
  const log: Attempt[] = [];
  const body = JSON.stringify({ type: 'export.completed', exportId: 'exp_1', period: { from: '2025-05-31T00:00:00Z', to: '2025-06-01T00:00:00Z' }, files: [] });
  for (let n = 1; n < 100; n++) {
    await beforeAttempt(clock.t);
    const result = await sendWebhook({ url, id, body, secret, allowPrivate: true, now: () => clock.t, timeoutMs: 2000 });
    const plan = planNext(T0, clock.t, n, result);
    log.push({ at: clock.t, result, plan });
    if (plan.action !== 'retry') return log;
    assert.ok(plan.at > clock.t, 'the next attempt is later');
    clock.t = plan.at;
  }
  throw new Error('the loop did not end');
}

describe('R18: retries until the receiver recovers, with one webhook-id', () => {
  let rx: Receiver;
  let up = true;
  before(async () => {
    rx = await startReceiver({ secret, now: () => clock.t });
  });
  after(async () => {
    if (up) await rx.close();
  });
  beforeEach(async () => {
    if (!up) {
      await rx.up();
      up = true;
    }
    rx.hits.length = 0;
    rx.answer = () => ({ status: 204 });
  });

  test('receiver down (connection refused) for 40 minutes, then up: delivered once recovered', async () => {
    const id = newMessageId();
    const log = await deliver(rx.base + '/hook', id, async (now) => {
      const shouldBeUp = now >= T0 + 40 * MIN;
      if (up && !shouldBeUp) await rx.down();
      if (!up && shouldBeUp) await rx.up();
      up = shouldBeUp;
    });
    const last = log.at(-1)!;
    assert.deepEqual(last.plan, { action: 'done' });
    assert.ok(last.at >= T0 + 40 * MIN && last.at < T0 + 2 * H, `delivered at +${(last.at - T0) / MIN} min`);
    const failures = log.slice(0, -1);
    assert.ok(failures.length >= 4, `${failures.length} refused attempts`);
    for (const a of failures) {
      assert.equal(a.result.status, null);
      assert.match(a.result.error!, /ECONNREFUSED/);
    }
    assert.equal(rx.hits.length, 1, 'exactly one request reached the receiver');
    assert.equal(rx.hits[0]!.headers['webhook-id'], id);
    assert.equal(rx.hits[0]!.verified.ok, true);
    assert.equal(rx.hits[0]!.headers['webhook-timestamp'], String(Math.floor(last.at / 1000)));
  });

  test('receiver answering 500 for 3 hours: every attempt carries the same webhook-id and a fresh timestamp', async () => {
    const id = newMessageId();
    rx.answer = () => (clock.t < T0 + 3 * H ? { status: 500 } : { status: 200 });
    const log = await deliver(rx.base + '/hook', id);
    assert.deepEqual(log.at(-1)!.plan, { action: 'done' });
    assert.equal(rx.hits.length, log.length);
    assert.ok(rx.hits.length >= 7);
    assert.deepEqual(new Set(rx.hits.map((h) => h.headers['webhook-id'])), new Set([id]));
    assert.equal(new Set(rx.hits.map((h) => h.headers['webhook-timestamp'])).size, rx.hits.length);
    assert.ok(rx.hits.every((h) => h.verified.ok), 'every attempt is signed for its own timestamp');
    assert.equal(rx.hits.filter((_, i) => log[i]!.result.ok).length, 1);
  });

  test('429 with Retry-After: the next attempt waits at least that long', async () => {
    let n = 0;
    rx.answer = () => (n++ === 0 ? { status: 429, headers: { 'retry-after': '900' } } : { status: 200 });
    const log = await deliver(rx.base + '/hook', newMessageId());
    assert.equal(log.length, 2);
    assert.equal(log[0]!.result.status, 429);
    assert.equal(log[0]!.result.retryAfterMs, 900_000);
    assert.ok(log[1]!.at - log[0]!.at >= 900_000, 'waited the 15 minutes asked for, not the 5 s backoff');
    assert.deepEqual(log[1]!.plan, { action: 'done' });

    // As an HTTP date, relative to the (fake) clock of the attempt.
    n = 0;
    rx.answer = () => (n++ === 0 ? { status: 429, headers: { 'retry-after': new Date(clock.t + 2 * H).toUTCString() } } : { status: 200 });
    const byDate = await deliver(rx.base + '/hook', newMessageId());
    assert.equal(byDate.length, 2);
    assert.ok(byDate[1]!.at - byDate[0]!.at >= 2 * H - 1000);
  });

  test('410 Gone stops at once and disables the destination', async () => {
    rx.answer = () => ({ status: 410 });
    const log = await deliver(rx.base + '/hook', newMessageId());
    assert.equal(log.length, 1);
    assert.equal(log[0]!.plan.action, 'disable');
    assert.equal(rx.hits.length, 1);
  });

  test('a receiver that never succeeds: gives up 24 h after the first attempt', async () => {
    rx.answer = () => ({ status: 503 });
    const log = await deliver(rx.base + '/hook', newMessageId());
    const last = log.at(-1)!;
    assert.equal(last.plan.action, 'give_up');
    assert.match((last.plan as { reason: string }).reason, /within 24 h.*HTTP 503/);
    assert.equal(last.at, T0 + 24 * H, 'one last attempt at the end of the window');
    assert.ok(log.every((a) => a.at <= T0 + 24 * H));
    assert.ok(log.length >= 15 && log.length <= 25, `${log.length} attempts`);
    assert.equal(rx.hits.length, log.length);
  });
});
