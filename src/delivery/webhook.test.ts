import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startReceiver, type Receiver } from './test-receiver.ts';
import { newMessageId, newWebhookSecret, sendWebhook, sign, signedHeaders, verify } from './webhook.ts';

describe('Standard Webhooks signing', () => {
  test('matches the Standard Webhooks reference vector', () => {
    const sig = sign({
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
    });
    assert.equal(sig, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  test('new secrets are whsec_ + base64 of 32 random bytes, all different', () => {
    const a = newWebhookSecret();
    assert.match(a, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(Buffer.from(a.slice(6), 'base64').length, 32);
    assert.notEqual(a, newWebhookSecret());
    assert.match(newMessageId(), /^msg_[A-Za-z0-9_-]{22}$/);
  });

  test('verify accepts a signed message and refuses any change', () => {
    const secret = newWebhookSecret();
    const now = 1_700_000_000_000;
    const body = '{"type":"export.completed","exportId":"e1"}';
    const headers = signedHeaders({ secret, id: 'msg_1', timestamp: now / 1000, body });
    assert.deepEqual(verify({ secret, headers, body, now }), { ok: true, id: 'msg_1', timestamp: now / 1000 });
    assert.equal(verify({ secret, headers, body: body + ' ', now }).ok, false);
    assert.equal(verify({ secret: newWebhookSecret(), headers, body, now }).ok, false);
    assert.equal(verify({ secret, headers: { ...headers, 'webhook-id': 'msg_2' }, body, now }).ok, false);
    assert.equal(verify({ secret, headers: { ...headers, 'webhook-timestamp': String(now / 1000 + 1) }, body, now }).ok, false);
    // Too old or too far in the future (5 minutes tolerance).
    assert.match((verify({ secret, headers, body, now: now + 301_000 }) as { reason: string }).reason, /too far/);
    assert.equal(verify({ secret, headers, body, now: now - 301_000 }).ok, false);
    assert.equal(verify({ secret, headers: { 'webhook-id': 'x' }, body, now }).ok, false);
  });

  test('verify accepts one of several signatures (secret rotation) and a fetch Headers object', () => {
    const oldSecret = newWebhookSecret();
    const secret = newWebhookSecret();
    const body = '{}';
    const ts = 1_700_000_000;
    const both = `${sign({ secret: oldSecret, id: 'm', timestamp: ts, body })} ${sign({ secret, id: 'm', timestamp: ts, body })}`;
    const headers = new Headers({ 'Webhook-Id': 'm', 'Webhook-Timestamp': String(ts), 'Webhook-Signature': both });
    assert.equal(verify({ secret, headers, body, now: ts * 1000 }).ok, true);
    assert.equal(verify({ secret: oldSecret, headers, body, now: ts * 1000 }).ok, true);
    assert.equal(verify({ secret: newWebhookSecret(), headers, body, now: ts * 1000 }).ok, false);
  });
});

describe('sendWebhook against a real receiver on loopback', () => {
  const secret = newWebhookSecret();
  let rx: Receiver;
  let target: Receiver;
  before(async () => {
    rx = await startReceiver({ secret });
    target = await startReceiver({ secret });
  });
  after(async () => {
    await rx.close();
    await target.close();
  });
  const send = (path: string, extra: { id?: string; timeoutMs?: number } = {}) =>
    sendWebhook({ url: rx.base + path, id: extra.id ?? newMessageId(), body: '{"type":"export.completed"}', secret, allowPrivate: true, timeoutMs: extra.timeoutMs });

  test('2xx is success; the request is a signed JSON POST that verifies', async () => {
    rx.answer = () => ({ status: 200 });
    const before = rx.hits.length;
    const r = await send('/hooks/reelstat?x=1', { id: 'msg_ok' });
    assert.equal(r.ok, true);
    assert.equal(r.status, 200);
    assert.equal(r.error, null);
    assert.equal(r.gone, false);
    const hit = rx.hits[before]!;
    assert.equal(hit.method, 'POST');
    assert.equal(hit.path, '/hooks/reelstat?x=1');
    assert.equal(hit.headers['content-type'], 'application/json');
    assert.equal(hit.headers['webhook-id'], 'msg_ok');
    assert.equal(hit.body, '{"type":"export.completed"}');
    assert.equal(hit.verified.ok, true, JSON.stringify(hit.verified));
  });

  test('500 is a failure with its status; the same webhook-id is sent on every attempt', async () => {
    rx.answer = () => ({ status: 500 });
    const before = rx.hits.length;
    const results = [await send('/', { id: 'msg_same' }), await send('/', { id: 'msg_same' }), await send('/', { id: 'msg_same' })];
    for (const r of results) {
      assert.equal(r.ok, false);
      assert.equal(r.status, 500);
      assert.match(r.error!, /HTTP 500/);
    }
    const hits = rx.hits.slice(before);
    assert.equal(hits.length, 3);
    assert.deepEqual(hits.map((h) => h.headers['webhook-id']), ['msg_same', 'msg_same', 'msg_same']);
    assert.ok(hits.every((h) => h.verified.ok));
  });

  test('a receiver that never answers fails after the timeout', async () => {
    rx.answer = () => 'hang';
    const r = await send('/', { timeoutMs: 300 });
    assert.equal(r.ok, false);
    assert.equal(r.status, null);
    assert.match(r.error!, /timed out/);
    assert.ok(r.durationMs >= 250, `durationMs ${r.durationMs}`);
  });

  test('429 with Retry-After in seconds or as an HTTP date', async () => {
    rx.answer = () => ({ status: 429, headers: { 'retry-after': '120' } });
    const a = await send('/');
    assert.equal(a.ok, false);
    assert.equal(a.status, 429);
    assert.equal(a.retryAfterMs, 120_000);

    const now = Date.parse('2025-03-01T12:00:00Z');
    rx.answer = () => ({ status: 503, headers: { 'retry-after': new Date(now + 3_600_000).toUTCString() } });
    const b = await sendWebhook({ url: rx.base + '/', id: 'm', body: '{}', secret, allowPrivate: true, now: () => now });
    assert.equal(b.status, 503);
    assert.equal(b.retryAfterMs, 3_600_000);
  });

  test('410 marks the destination gone', async () => {
    rx.answer = () => ({ status: 410 });
    const r = await send('/');
    assert.equal(r.ok, false);
    assert.equal(r.gone, true);
    assert.equal(r.status, 410);
  });

  test('a redirect is a failure and is not followed', async () => {
    rx.answer = () => ({ status: 302, headers: { location: target.base + '/elsewhere' } });
    const r = await send('/');
    assert.equal(r.ok, false);
    assert.equal(r.status, 302);
    assert.match(r.error!, /redirects are not followed/);
    assert.equal(target.hits.length, 0);
    assert.equal(target.connections, 0);
  });

  test('a closed port is a failure without a status', async () => {
    const down = await startReceiver();
    const url = down.base + '/';
    await down.close();
    const r = await sendWebhook({ url, id: 'm', body: '{}', secret, allowPrivate: true });
    assert.equal(r.ok, false);
    assert.equal(r.status, null);
    assert.match(r.error!, /ECONNREFUSED/);
  });

  test('non-http schemes and bad secrets are failures, not exceptions', async () => {
    const r = await sendWebhook({ url: 'ftp://127.0.0.1/', id: 'm', body: '{}', secret, allowPrivate: true });
    assert.equal(r.ok, false);
    assert.match(r.error!, /scheme "ftp" is not accepted/);
    const s = await sendWebhook({ url: rx.base + '/', id: 'm', body: '{}', secret: 'whsec_', allowPrivate: true });
    assert.equal(s.ok, false);
    assert.match(s.error!, /secret/);
  });
});
