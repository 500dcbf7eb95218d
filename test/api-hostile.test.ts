/**
 * Hostile requests to the API (a fuzzing audit's findings): each is a clear 4xx in the error
 * table's shape and changes nothing; the account keeps working after them.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { apiClient, request, type Api } from './helpers/api.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

describe('errors of the HTTP parser keep the error shape', () => {
  /** The raw answer to `bytes` sent on a connection of its own, read until the server closes it. */
  const raw = (bytes: string) => new Promise<string>((resolve, reject) => {
    const u = new URL(s.url);
    const sock = connect(Number(u.port), u.hostname, () => sock.end(bytes));
    let out = '';
    sock.on('data', (d) => (out += d));
    sock.on('error', (err) => (out ? resolve(out) : reject(err))); // the server may reset once it answered
    sock.on('close', () => resolve(out));
  });
  const answer = (text: string) => {
    const [head, body] = text.split('\r\n\r\n');
    return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(head!)?.[1]), head: head!, json: JSON.parse(body!) };
  };
  it('headers over 16 KB: a 431 in the error table\'s shape', async () => {
    const r = answer(await raw(`GET /api/v1/exports HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    assert.equal(r.status, 431);
    assert.match(r.head, /content-type: application\/json/i);
    assert.equal(r.json.error.code, 'headers_too_large');
    assert.match(r.json.error.message, /at most 16 KB/);
  });
  it('a request that is not HTTP: a 400 in the same shape, and the server goes on', async () => {
    const r = answer(await raw('THIS IS NOT HTTP\r\n\r\n'));
    assert.equal(r.status, 400);
    assert.deepEqual(Object.keys(r.json.error).sort(), ['code', 'message']);
    assert.match(r.json.error.message, /not valid HTTP/);
    assert.equal((await api('GET', '/api/v1/exports')).status, 200);
  });
});

let s: TestServer;
let api: Api;
let csToken: string;
before(async () => {
  s = await startTestServer();
  api = apiClient(s.url, s.token);
  const client = (await api('POST', '/api/v1/oauth-clients')).json;
  csToken = (await request(s.url, 'POST', '/v1/oauth/token', { client_id: client.client_id, client_secret: client.client_secret, grant_type: 'client_credentials' })).json.access_token;
  assert.ok(csToken);
});
after(() => s.stop());

const today = new Date().toISOString().slice(0, 10);
const exportBody = (over: Record<string, unknown> = {}) => ({ startDate: today, endDate: today, ...over });
/** A 4xx in the native error shape whose message matches `message`. */
function refused(r: { status: number; json: any; text: string }, status: number, message: RegExp) {
  assert.equal(r.status, status, r.text.slice(0, 300));
  assert.equal(typeof r.json?.error?.code, 'string', r.text.slice(0, 300));
  assert.match(r.json.error.message, message);
}

describe('text that is not well-formed, and bodies nested too deep', () => {
  it('a lone surrogate anywhere in a body is a 400 naming where, and nothing is stored', async () => {
    const before = (await api('GET', '/api/v1/exports')).json.data.length;
    refused(await api('POST', '/api/v1/exports', exportBody({ filters: { userId: '\ud800' } })), 400, /body\.filters\.userId holds a lone UTF-16 surrogate/);
    refused(await api('POST', '/api/v1/exports', exportBody({ filters: { contentId: 'a\udc00b' } })), 400, /body\.filters\.contentId/);
    refused(await api('POST', '/api/v1/exports', { ...exportBody(), ['k\ud800']: 1 }), 400, /a key of body .* lone UTF-16 surrogate/);
    refused(await api('POST', '/api/v1/scheduled-exports', { frequency: 'daily', name: 'x\ud83d', delivery: { webhook: 'https://example.com/h' } }), 400, /body\.name/);
    const cs = await request(s.url, 'POST', '/v1/exports', { name: 'n', format: 'CSV', scope: 'sessions', deviceLabel: 'all', segmentId: '\udfff', frequency: { value: 'daily' } }, csToken);
    assert.equal(cs.status, 400, cs.text);
    assert.equal(cs.json.success, false, 'in the dialect\'s own error shape');
    assert.match(cs.json.errorMessage, /body\.segmentId/);
    // A pair is well-formed: an emoji passes this check (and is then a valid filter).
    assert.equal((await api('POST', '/api/v1/exports', exportBody({ filters: { userId: 'u-\ud83d\ude00' } }))).status, 202);
    // Every list still reads (a stored lone surrogate made them fail for good).
    const list = await api('GET', '/api/v1/exports');
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.data.length, before + 1);
    assert.equal((await request(s.url, 'GET', '/v1/exports', undefined, csToken)).status, 200);
    assert.equal((await api('GET', '/api/v1/scheduled-exports')).status, 200);
  });

  it('a body nested deeper than 32 levels is a 400, however deep', async () => {
    // Written as text: JSON.stringify itself overflows the stack at this depth.
    const deep = '{"a":'.repeat(5000) + '"csv"' + '}'.repeat(5000);
    refused(await api('POST', '/api/v1/exports', `{"startDate":"${today}","endDate":"${today}","format":${deep}}`), 400, /body\.format(\.a)+ is nested more than 32 levels deep/);
    refused(await api('POST', '/api/v1/scheduled-exports', `{"frequency":${deep}}`), 400, /nested more than 32 levels/);
    const arr = '['.repeat(50_000) + ']'.repeat(50_000);
    refused(await api('POST', '/api/v1/exports', `{"startDate":"${today}","endDate":"${today}","fields":${arr}}`), 400, /nested more than 32 levels/);
  });

  it('a body that is not UTF-8 is a 400, another charset a 415; nothing is stored', async () => {
    const send = (path: string, bytes: Buffer, type = 'application/json', token = s.token) =>
      fetch(`${s.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body: new Uint8Array(bytes) })
        .then(async (r) => ({ status: r.status, text: await r.text() })).then((r) => ({ ...r, json: JSON.parse(r.text) }));
    // "Café" in Latin-1: decoded as UTF-8 it became "Caf\ufffd" and was stored so.
    const latin1 = (json: string) => Buffer.from(json, 'latin1');
    const count = async () => [(await api('GET', '/api/v1/exports?limit=100')).json.data.length, (await api('GET', '/api/v1/scheduled-exports?limit=100')).json.data.length];
    const before = await count();
    const schedule = '{"name":"Café","frequency":"daily","delivery":{"webhook":"https://example.com/h"}}';
    refused(await send('/api/v1/scheduled-exports', latin1(schedule)), 400, /^The body is not valid UTF-8; send JSON encoded as UTF-8/);
    refused(await send('/api/v1/exports', latin1(JSON.stringify(exportBody({ filters: { folder: 'cours/été' } })))), 400, /not valid UTF-8/);
    refused(await send('/api/v1/scheduled-exports', latin1(schedule), 'application/json; charset=iso-8859-1'), 415, /^charset=iso-8859-1 is not accepted; send JSON encoded as UTF-8/);
    refused(await send('/api/v1/users/u1/export', latin1('{"format":"é"}')), 400, /not valid UTF-8/); // a route whose body may be left out
    assert.deepEqual(await count(), before);
    // The dialect answers in its own shape, JSON and form bodies alike.
    const job = '{"name":"Rapport été","format":"CSV","scope":"views","deviceLabel":"all","frequency":{"value":"daily"},"fields":[{"fieldName":"view_id"}]}';
    for (const [body, type] of [[latin1(job), 'application/json'], [latin1('name=été&format=CSV&scope=views&deviceLabel=all&frequency[value]=daily&fields[0][fieldName]=view_id'), 'application/x-www-form-urlencoded']] as const) {
      const cs = await send('/v1/exports', body, type, csToken);
      assert.equal(cs.status, 400, cs.text);
      assert.deepEqual([cs.json.success, cs.json.errorCode], [false, 'INVALID_BODY']);
      assert.match(cs.json.errorMessage, /not valid UTF-8/);
    }
    // A percent-escape in a form is read as UTF-8 too ("%E9" is Latin-1 é: it was kept as those three characters).
    const escaped = await send('/v1/exports', Buffer.from('name=Caf%E9&format=CSV&scope=views&deviceLabel=all&frequency[value]=daily&fields[0][fieldName]=view_id'), 'application/x-www-form-urlencoded', csToken);
    assert.deepEqual([escaped.status, escaped.json.errorCode], [400, 'INVALID_BODY']);
    assert.match(escaped.json.errorMessage, /"Caf%E9" holds a percent-escape that is not UTF-8/);
    // All-ASCII text under a charset that names it is the same text: taken.
    const ascii = await send('/api/v1/exports', Buffer.from(JSON.stringify(exportBody())), 'application/json; charset=us-ascii');
    assert.equal(ascii.status, 202, ascii.text);
    assert.deepEqual(await count(), [before[0]! + 1, before[1]]);
    // UTF-8, declared or not, is taken.
    const ok = await send('/api/v1/scheduled-exports', Buffer.from(schedule, 'utf8'), 'application/json; charset="UTF-8"');
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.json.name, 'Café');
  });

  it('a long value is quoted shortened in the error', async () => {
    const r = await api('POST', '/api/v1/exports', exportBody({ format: 'x'.repeat(500_000) }));
    refused(r, 400, /^format: "x{10,}… \(500002 characters\) is not accepted; expected one of csv/);
    assert.ok(r.text.length < 1000, `${r.text.length} bytes of error`);
  });
});

describe('on-demand exports refuse what they cannot do', () => {
  it('types by name only, no unknown keys, no day that has not begun, dates named', async () => {
    for (const t of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      refused(await api('POST', '/api/v1/exports', exportBody({ types: [t] })), 400, /^types: expected a non-empty list of events, quality, ads/);
    }
    refused(await api('POST', '/api/v1/exports', exportBody({ foo: 1 })), 400, /^"foo": unknown parameter; accepted: startDate, endDate/);
    refused(await api('POST', '/api/v1/exports', exportBody({ startDate: '2999-01-01', endDate: '2999-01-02' })), 400, /^startDate: 2999-01-01 has not begun; the latest date accepted is today/);
    const before = (await api('GET', '/api/v1/exports?limit=100')).json.data.length;
    const tomorrow = new Date(Date.parse(today) + 86_400_000).toISOString().slice(0, 10);
    refused(await api('POST', '/api/v1/exports', exportBody({ endDate: tomorrow })), 400, new RegExp(`^endDate: ${tomorrow} has not begun; the latest date accepted is today, ${today} \\(UTC\\)`));
    assert.equal((await api('GET', '/api/v1/exports?limit=100')).json.data.length, before, 'a refused export is not made');
    refused(await api('POST', '/api/v1/exports', exportBody({ startDate: `${today}T00:00:00Z` })), 400, /^startDate: ".*T00:00:00Z" is not a date YYYY-MM-DD/);
    refused(await api('POST', '/api/v1/exports', { endDate: today }), 400, /^startDate: required, a date YYYY-MM-DD/);
  });

  it('prototype keys in JSON are dropped, not called invalid JSON', async () => {
    const r = await api('POST', '/api/v1/exports', `{"startDate":"${today}","endDate":"${today}","__proto__":{"polluted":1}}`);
    assert.equal(r.status, 202, r.text);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('a JSON body sent as text/plain is a 415, the collector still takes text/plain', async () => {
    refused(await api('POST', '/api/v1/exports', JSON.stringify(exportBody()), { 'content-type': 'text/plain' }), 415, /application\/json/);
    const beacon = await fetch(`${s.url}/api/v1/collect`, {
      method: 'POST', headers: { 'content-type': 'text/plain', 'x-reelstat-key': s.writeKey },
      body: JSON.stringify({ event: 'impression', contentId: 'v1', sessionId: 's1', timestamp: new Date().toISOString() }),
    });
    assert.equal(beacon.status, 202, await beacon.text());
  });

  it('the id of a scheduled export is not an on-demand export: 404', async () => {
    const sched = await api('POST', '/api/v1/scheduled-exports', { frequency: 'daily', delivery: { webhook: 'https://example.com/h' } });
    assert.equal(sched.status, 201, sched.text);
    refused(await api('GET', `/api/v1/exports/${sched.json.id}`), 404, /is a scheduled export, not an on-demand one: GET \/api\/v1\/scheduled-exports\/\{id\}/);
  });
});

describe('errors say what is accepted', () => {
  it('an enum lists its values; an email that is not text is not called empty', async () => {
    refused(await api('GET', '/api/v1/fields?scope=x'), 400, /allowed values: events, views, sessions, videos\.$/);
    refused(await api('POST', '/api/v1/scheduled-exports', { frequency: 'daily', delivery: { email: 5 } }), 400, /delivery\.email: expected an email address as a string/);
    // null is no email (it was coerced to "" and called empty)
    const report = await api('POST', '/api/v1/reports', { period: 'today', email: null });
    assert.equal(report.status, 202, report.text);
  });
});

describe('dates at the end of the calendar', () => {
  it('a period ending 9999-12-31 is answered, not a 500', async () => {
    const stats = await api('GET', '/api/v1/stats?from=9999-12-31&to=9999-12-31');
    assert.equal(stats.status, 200, stats.text);
    const report = await api('POST', '/api/v1/reports', { period: 'custom', from: '9999-12-30', to: '9999-12-31' });
    assert.ok(report.status < 500, report.text);
  });
});

describe('errors of the router keep the error shape', () => {
  it('a path that does not decode, and a segment too long', async () => {
    refused(await api('GET', '/api/v1/exports/%E0%A4%A'), 400, /percent-encoded/);
    refused(await api('GET', '/api/v1/exports/%ED%A0%80'), 400, /percent-encoded/);
    refused(await api('GET', `/api/v1/exports/${'x'.repeat(3000)}`), 400, /longer than 2,048/);
  });
});
