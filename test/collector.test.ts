import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collect, createAccount, ev, readAllEvents, startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(() => s.stop());

const wk = () => ({ 'x-reelstat-key': s.writeKey });

describe('collector body forms', () => {
  it('takes {"writeKey", "events"}', async () => {
    const r = await collect(s.url, { writeKey: s.writeKey, events: [ev(), ev()] });
    assert.equal(r.status, 202);
    assert.deepEqual(r.json, { accepted: 2, duplicates: 0, rejected: [] });
  });
  it('takes a JSON array with the key in the query', async () => {
    const r = await fetch(`${s.url}/api/v1/collect?writeKey=${s.writeKey}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([ev(), ev(), ev()]) });
    assert.equal(r.status, 202);
    assert.equal((await r.json()).accepted, 3);
  });
  it('takes one event object with the key in a header', async () => {
    const r = await collect(s.url, ev(), wk());
    assert.equal(r.status, 202);
    assert.equal(r.json.accepted, 1);
  });
  it('takes NDJSON, and rejects only the broken line', async () => {
    const body = [JSON.stringify(ev()), '{not json', '', JSON.stringify(ev())].join('\n');
    const r = await collect(s.url, body, { ...wk(), 'content-type': 'application/x-ndjson' });
    assert.equal(r.status, 202);
    assert.equal(r.json.accepted, 2);
    assert.equal(r.json.rejected.length, 1);
    assert.equal(r.json.rejected[0].index, 1);
    assert.match(r.json.rejected[0].error, /not JSON/);
  });
  it('takes text/plain beacons as JSON', async () => {
    const r = await collect(s.url, JSON.stringify({ writeKey: s.writeKey, events: [ev()] }), { 'content-type': 'text/plain;charset=UTF-8' });
    assert.equal(r.status, 202);
    assert.equal(r.json.accepted, 1);
  });
  it('takes a body with no content type', async () => {
    const r = await fetch(`${s.url}/api/v1/collect`, { method: 'POST', headers: wk(), body: new Blob([JSON.stringify(ev())]) });
    assert.equal(r.status, 202);
  });
  it('answers 400 to a body that cannot be parsed, naming the accepted forms', async () => {
    for (const body of ['{"events": [', 'null', '42', '{"foo": 1}', '', '{"events": []}']) {
      const r = await collect(s.url, body, wk());
      assert.equal(r.status, 400, body);
      assert.equal(r.json.error.code, 'invalid_body');
      assert.match(r.json.error.message, /expected/);
    }
  });
});

describe('collector limits', () => {
  it('413 over 1000 events', async () => {
    const r = await collect(s.url, Array.from({ length: 1001 }, () => ev()), wk());
    assert.equal(r.status, 413);
    assert.match(r.json.error.message, /1000/);
  });
  it('413 over 1 MiB', async () => {
    const r = await collect(s.url, [ev({ title: 'x'.repeat(1024 * 1024) })], wk());
    assert.equal(r.status, 413);
    assert.equal(r.json.error.code, 'payload_too_large');
  });
  it('1000 events are fine', async () => {
    const r = await collect(s.url, Array.from({ length: 1000 }, () => ev()), wk());
    assert.equal(r.status, 202);
    assert.equal(r.json.accepted, 1000);
  });
});

describe('collector credentials', () => {
  it('401 for an unknown write key and for none', async () => {
    let r = await collect(s.url, ev(), { 'x-reelstat-key': 'wk_nope' });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.code, 'unauthorized');
    r = await collect(s.url, ev());
    assert.equal(r.status, 401);
    assert.match(r.json.error.message, /write key/);
  });
  it('an API token may set ip and userAgent; a write key may not', async () => {
    const a = await createAccount(s.url, 'Trusted', 'trusted@example.test');
    const ua = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
    let r = await collect(s.url, [ev({ id: 'tok-1', ip: '8.8.8.8', userAgent: ua, url: 'https://www.Example.com/watch?v=1' })], { authorization: `Bearer ${a.apiToken}` });
    assert.equal(r.status, 202);
    r = await collect(s.url, [ev({ id: 'wk-1', ip: '8.8.8.8', userAgent: ua })], { 'x-reelstat-key': a.writeKey, 'user-agent': 'curl/8.0' });
    assert.equal(r.status, 202);
    const events = await readAllEvents(s.url, a.apiToken);
    const byToken = events.find((e) => e.id === 'tok-1');
    const byKey = events.find((e) => e.id === 'wk-1');
    assert.equal(byToken.ip, '8.8.8.8');
    assert.equal(byToken.country, 'US');
    assert.equal(byToken.platform, 'smartphone');
    assert.equal(byToken.os, 'iOS');
    assert.equal(byToken.deviceType, 'ios');
    assert.equal(byToken.domain, 'example.com');
    assert.equal(byKey.ip, '127.0.0.1');
    assert.equal(byKey.userAgent, 'curl/8.0');
    assert.equal(byKey.country, null);
  });
});

describe('CORS', () => {
  it('answers the preflight and allows any origin', async () => {
    const r = await fetch(`${s.url}/api/v1/collect`, {
      method: 'OPTIONS',
      headers: { origin: 'https://site.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.match(r.headers.get('access-control-allow-methods')!, /POST/);
    assert.match(r.headers.get('access-control-allow-headers')!, /Content-Type/i);
    const p = await collect(s.url, ev(), { ...wk(), origin: 'https://site.example' });
    assert.equal(p.headers.get('access-control-allow-origin'), '*');
    const bad = await collect(s.url, 'nope', { ...wk(), origin: 'https://site.example' });
    assert.equal(bad.headers.get('access-control-allow-origin'), '*', 'errors carry CORS too, so pages can read them');
    assert.match(bad.headers.get('access-control-expose-headers')!, /Retry-After/i, 'the SDK reads Retry-After across origins');
  });
});

describe('per-event validation', () => {
  const day = 86_400_000;
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['event', { event: undefined }, /event: must be one of/],
    ['event', { event: 'dance' }, /event: must be one of/],
    ['timestamp', { timestamp: undefined }, /timestamp: is required/],
    ['timestamp', { timestamp: '2026-01-01 10:00' }, /ISO 8601/],
    ['timestamp', { timestamp: '2026-02-30T10:00:00' }, /ISO 8601/],
    ['timestamp', { timestamp: Date.now() + 2 * day }, /24 h in the future/],
    ['timestamp', { timestamp: Date.now() - 91 * day }, /older than the raw-event retention of 90 days/],
    ['timestamp', { timestamp: 12.5 }, /whole number/],
    ['contentId', { contentId: undefined }, /contentId: is required/],
    ['contentId', { contentId: 'c'.repeat(129) }, /at most 128/],
    ['sessionId', { sessionId: '' }, /sessionId: is required/],
    ['sessionId', { sessionId: 7 }, /sessionId: must be a string/],
    ['id', { id: 'i'.repeat(65) }, /id: is 65 characters long; at most 64/],
    ['userId', { userId: 'u'.repeat(129) }, /at most 128/],
    ['deviceType', { deviceType: 'fridge' }, /deviceType: must be one of web, ios, android, tv, other/],
    ['currentTime', { currentTime: -1 }, /currentTime: must be a number of seconds ≥ 0/],
    ['url', { url: 'https://x/' + 'a'.repeat(2048) }, /at most 2048/],
    ['referrer', { referrer: 5 }, /referrer: must be a string/],
    ['duration', { duration: 0 }, /duration: must be a number of seconds > 0 and at most 1000000000/],
    // 2^31 s stopped every account's records from being built; 1e19 failed the commit of others' events too
    ['duration', { duration: 2 ** 31 }, /at most 1000000000/],
    ['duration', { duration: 1e19 }, /at most 1000000000/],
    ['data.to', { event: 'watchProgress', data: { from: 0, to: 1e308 } }, /data.to: must be a number of seconds ≥ 0 and at most/],
    ['data.duration', { event: 'rebuffer', data: { duration: 2e9 } }, /at most 1000000000/],
    ['title', { title: 'a\ud800b' }, /title holds a lone UTF-16 surrogate/],
    ['contentId', { contentId: 'c\udc00' }, /contentId holds a lone UTF-16 surrogate/],
    ['data', { data: { note: 'x\ud83d' } }, /data\.note holds a lone UTF-16 surrogate/],
    ['data', { data: JSON.parse('{"a":'.repeat(40) + '1' + '}'.repeat(40)) }, /nested more than 32 levels/],
    ['data', { event: 'watchProgress' }, /data: is required for watchProgress/],
    ['data', { event: 'watchProgress', data: { from: 5, to: 2 } }, /0 ≤ from ≤ to/],
    ['data.from', { event: 'watchProgress', data: { from: -1, to: 2 } }, /data.from: must be a number of seconds ≥ 0/],
    ['data.direction', { event: 'swipe', data: { direction: 'sideways' } }, /up, down, left, right/],
    ['data.duration', { event: 'rebuffer', data: {} }, /data.duration/],
    ['data.adId', { event: 'adClick', data: {} }, /data.adId/],
    ['data.fatal', { event: 'error', data: { fatal: 'yes' } }, /true or false/],
    ['data', { data: { blob: 'x'.repeat(9000) } }, /8 KiB/],
    ['data', { data: [1, 2] }, /data: must be an object/],
    ['(event)', 'not an object' as never, /JSON object/],
  ];
  it('rejects each bad event with its index, field and reason, and keeps the good ones', async () => {
    const good = ev();
    const bad = cases.map(([, over]) => (typeof over === 'string' ? over : ev(over)));
    const r = await collect(s.url, [good, ...bad, ev()], wk());
    assert.equal(r.status, 202);
    assert.equal(r.json.accepted, 2);
    assert.equal(r.json.rejected.length, cases.length);
    cases.forEach(([field, , re], i) => {
      const rej = r.json.rejected[i];
      assert.equal(rej.index, i + 1, `case ${i}`);
      assert.equal(rej.field, field, `case ${i}: ${rej.error}`);
      assert.match(rej.error, re, `case ${i}`);
    });
  });
  it('takes text as UTF-8 only: other bytes are a 400 and nothing is stored; prototype keys are dropped from data', async () => {
    const id = `utf8-${Date.now()}`;
    const bytes = Buffer.concat([Buffer.from(`[${JSON.stringify(ev({ id }))},`), Buffer.from('{"event":"impression","title":"caf'), Buffer.from([0xe9]), Buffer.from(`"}]`)]);
    const r = await fetch(`${s.url}/api/v1/collect`, { method: 'POST', headers: { 'content-type': 'text/plain', ...wk() }, body: bytes });
    assert.equal(r.status, 400);
    assert.match((await r.json()).error.message, /not valid UTF-8/);
    const proto = await collect(s.url, [ev({ id: `${id}-p`, data: JSON.parse('{"__proto__": {"x": 1}, "constructor": {"prototype": {"y": 2}}, "keep": 1}') })], wk());
    assert.equal(proto.json.accepted, 1);
    const stored = (await readAllEvents(s.url, s.token)).filter((x) => String(x.id).startsWith(id));
    assert.deepEqual(stored.map((x) => [x.id, x.data]), [[`${id}-p`, { keep: 1 }]], 'the event of the refused body is not stored; the prototype keys are not');
  });
  it('takes ISO 8601 in its forms: basic, lower-case t and z, an hour offset, a decimal comma', async () => {
    const at = new Date(Date.now() - 3_600_000);
    const d = at.toISOString().slice(0, 10);
    const h = at.toISOString().slice(11, 13);
    const forms = [`${d}T${h}:46:25+00`, `${d.replaceAll('-', '')}T${h}4625Z`, `${d}T${h}:46:25,5Z`, `${d}t${h}:46:25z`, `${d}T${h}:46:25.5+0000`];
    const id = `iso-${Date.now()}`;
    const r = await collect(s.url, forms.map((timestamp, i) => ev({ id: `${id}-${i}`, timestamp })), wk());
    assert.deepEqual([r.json.accepted, r.json.rejected], [forms.length, []], JSON.stringify(r.json));
    const stored = (await readAllEvents(s.url, s.token)).filter((x) => String(x.id).startsWith(id)).sort((a, b) => String(a.id).localeCompare(String(b.id)));
    const want = (ms: number) => new Date(Date.parse(`${d}T${h}:46:25Z`) + ms).toISOString();
    assert.deepEqual(stored.map((x) => new Date(x.timestamp as string).toISOString()), [want(0), want(0), want(500), want(0), want(500)]);
  });
  it('accepts epoch milliseconds and offsets, and ignores unknown fields', async () => {
    const r = await collect(s.url, [ev({ timestamp: Date.now() - 1000 }), ev({ timestamp: '2026-11-22T10:00:00+03:00'.replace('2026-11-22', new Date().toISOString().slice(0, 10)), extra: { a: 1 } })], wk());
    assert.equal(r.json.accepted, 2, JSON.stringify(r.json));
  });
});

describe('de-duplication', () => {
  it('stores an id once per account, across requests and within one', async () => {
    const e = ev({ id: 'dup-1' });
    let r = await collect(s.url, [e, e, ev({ id: 'dup-2' })], wk());
    assert.deepEqual([r.json.accepted, r.json.duplicates], [2, 1]);
    r = await collect(s.url, [e, ev({ id: 'dup-2' }), ev({ id: 'dup-3' })], wk());
    assert.deepEqual([r.json.accepted, r.json.duplicates], [1, 2]);
    const stored = (await readAllEvents(s.url, s.token)).filter((x) => String(x.id).startsWith('dup-'));
    assert.deepEqual(stored.map((x) => x.id).sort(), ['dup-1', 'dup-2', 'dup-3']);
  });
  it('the same id in another account is another event', async () => {
    const b = await createAccount(s.url, 'Other', 'other-dedupe@example.test');
    const r = await collect(s.url, [ev({ id: 'dup-1' })], { 'x-reelstat-key': b.writeKey });
    assert.deepEqual([r.json.accepted, r.json.duplicates], [1, 0]);
  });
});

describe('catalog filled from events', () => {
  it('a duration set by PUT is seconds > 0 and at most 1,000,000,000 (1e19 was a 500)', async () => {
    const auth = { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' };
    for (const duration of [1e19, 2 ** 31, 0]) {
      const r = await fetch(`${s.url}/api/v1/videos/too-long`, { method: 'PUT', headers: auth, body: JSON.stringify({ duration }) });
      assert.equal(r.status, 400, String(duration));
      assert.match((await r.json()).error.message, /duration/);
    }
    assert.equal((await fetch(`${s.url}/api/v1/videos/too-long`, { method: 'PUT', headers: auth, body: JSON.stringify({ duration: 1e9 }) })).status, 200);
    const cleared = await fetch(`${s.url}/api/v1/videos/too-long`, { method: 'PUT', headers: auth, body: JSON.stringify({ duration: null }) });
    assert.deepEqual([cleared.status, (await cleared.json()).duration], [200, null], 'null clears it');
  });
  it('takes title and the largest duration when the entry has none, and keeps what a user set', async () => {
    await collect(s.url, [ev({ contentId: 'fill-1', title: 'First title', duration: 30 }), ev({ contentId: 'fill-1', title: 'Other', duration: 42 })], wk());
    const auth = { authorization: `Bearer ${s.token}` };
    let v = await (await fetch(`${s.url}/api/v1/videos/fill-1`, { headers: auth })).json();
    assert.equal(v.title, 'First title');
    assert.equal(v.duration, 42);
    await fetch(`${s.url}/api/v1/videos/fill-1`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Set by user', duration: 40 }) });
    await collect(s.url, [ev({ contentId: 'fill-1', title: 'Late', duration: 99 })], wk());
    v = await (await fetch(`${s.url}/api/v1/videos/fill-1`, { headers: auth })).json();
    assert.equal(v.title, 'Set by user');
    assert.equal(v.duration, 40);
  });
});

describe('rate limits', () => {
  it('429 with Retry-After past the per-account event rate', async () => {
    const t = await startTestServer({ REELSTAT_COLLECT_ACCOUNT_RATE: '50' });
    try {
      const batch = () => Array.from({ length: 60 }, () => ev());
      const first = await collect(t.url, batch(), { 'x-reelstat-key': t.writeKey });
      assert.equal(first.status, 202);
      const second = await collect(t.url, batch(), { 'x-reelstat-key': t.writeKey });
      assert.equal(second.status, 429);
      assert.ok(Number(second.headers.get('retry-after')) >= 1);
      assert.equal(second.json.error.code, 'rate_limited');
    } finally {
      await t.stop();
    }
  });
  it('429 with Retry-After past the per-address request rate', async () => {
    const t = await startTestServer({ REELSTAT_COLLECT_IP_RATE: '3' });
    try {
      // Sent at once: one after the other, on a loaded machine each took longer than the bucket needs to refill (3 a second).
      const codes = (await Promise.all(Array.from({ length: 10 }, () => collect(t.url, ev(), { 'x-reelstat-key': t.writeKey })))).map((r) => r.status);
      assert.ok(codes.includes(202));
      assert.ok(codes.includes(429));
    } finally {
      await t.stop();
    }
  });
});
