import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import fc from 'fast-check';
import { startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer({ REELSTAT_COLLECT_ACCOUNT_RATE: '0', REELSTAT_COLLECT_IP_RATE: '0' });
});
after(() => s.stop());

const loneSurrogate = fc.constantFrom('\ud800', '\udfff', 'a\ud83d', '\u0000', '\u2028', '\ufeff');
const nasty = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), loneSurrogate, fc.string({ minLength: 3000, maxLength: 9000 }));
const anyValue = fc.oneof(nasty, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }));

const eventLike = fc.record(
  {
    id: fc.oneof(nasty, anyValue),
    event: fc.oneof(fc.constantFrom('impression', 'playStart', 'watchProgress', 'seek', 'swipe', 'rebuffer', 'error', 'adClick', 'qualityChange'), anyValue),
    timestamp: fc.oneof(fc.constant(new Date().toISOString()), fc.integer(), fc.double(), nasty, fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
    contentId: fc.oneof(nasty, anyValue),
    sessionId: fc.oneof(nasty, anyValue),
    userId: anyValue,
    currentTime: anyValue,
    duration: anyValue,
    url: anyValue,
    deviceType: anyValue,
    data: fc.oneof(anyValue, fc.record({ from: anyValue, to: anyValue, direction: anyValue, duration: anyValue, adId: anyValue, fatal: anyValue })),
  },
  { requiredKeys: [] },
);

function deep(n: number): string {
  return '['.repeat(n) + ']'.repeat(n);
}

const body = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.array(eventLike, { maxLength: 20 }).map((a) => JSON.stringify(a)),
  fc.array(eventLike, { maxLength: 20 }).map((a) => JSON.stringify({ events: a })),
  eventLike.map((e) => JSON.stringify(e)),
  fc.array(eventLike, { maxLength: 10 }).map((a) => a.map((e) => JSON.stringify(e)).join('\n')),
  fc.integer({ min: 1, max: 100_000 }).map(deep),
  fc.array(eventLike, { maxLength: 5 }).map((a) => JSON.stringify(a).slice(0, -3)),
);
const contentType = fc.constantFrom('application/json', 'text/plain', 'application/x-ndjson', 'application/octet-stream', 'multipart/form-data', '');

it('fuzzed collector bodies: no crash, no 5xx, every rejection explained', { timeout: 240_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(body, contentType, async (b, ct) => {
      const headers: Record<string, string> = { 'x-reelstat-key': s.writeKey };
      if (ct) headers['content-type'] = ct;
      const res = await fetch(`${s.url}/api/v1/collect`, { method: 'POST', headers, body: b });
      const text = await res.text();
      assert.ok([202, 400, 413, 415].includes(res.status), `status ${res.status}: ${text.slice(0, 300)}`);
      const json = JSON.parse(text);
      if (res.status === 202) {
        for (const r of json.rejected) {
          assert.equal(typeof r.index, 'number');
          assert.ok(r.error.length > 5);
        }
      } else {
        assert.ok(json.error.message.length > 10, text);
      }
    }),
    { numRuns: 600, seed: 20261122 },
  );
  const health = await fetch(`${s.url}/healthz`);
  assert.equal(health.status, 200);
});
