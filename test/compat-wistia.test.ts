/**
 * The Wistia dialect end to end: scripted sessions through the collector, then
 * /stats/medias/{id}/events.csv|json over HTTP basic auth — including the vendor document's own
 * curl commands, run for real — compared with expectations computed by hand from spec/metrics.md.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { viewIdOf } from '../src/metrics/viewRecord.ts';
import { BROWSER_UA, collect, createAccount, startTestServer, type TestServer } from './helpers/server.ts';

const run = promisify(execFile);
const DAY = 86_400_000;
const TODAY = Math.floor(Date.now() / DAY) * DAY;
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const iso = (ms: number) => new Date(ms).toISOString();
const FIELDS = ['received_at', 'event_key', 'visitor_key', 'ip', 'org', 'country', 'region', 'city', 'lat', 'lon', 'email', 'percent_viewed', 'embed_url', 'media_id'];

const EMAIL = 'a,"b"@example.com\r\n=1+1 😀';
const PAGE = 'https://shop.test/p?a=1,2&q="x"\n=HYPERLINK("http://evil")';

const D2 = TODAY - 2 * DAY + 10 * 3_600_000; // two days ago, 10:00 UTC
const D1 = TODAY - DAY + 10 * 3_600_000; // yesterday, 10:00 UTC
const D0 = Math.max(TODAY, Date.now() - 120_000); // today

let s: TestServer;
let acc: string;
const key = (session: string, media = 'm1') => viewIdOf(acc, session, media);
const basicAuth = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const owner = () => basicAuth(s.email, s.password);

async function get(path: string, headers: Record<string, string> = owner()) {
  const r = await fetch(`${s.url}${path}`, { headers });
  const text = await r.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* CSV */
  }
  return { status: r.status, type: r.headers.get('content-type'), headers: r.headers, text, json };
}

async function events(query = '', media = 'm1'): Promise<any[]> {
  const r = await get(`/stats/medias/${media}/events.json${query ? '?' + query : ''}`);
  assert.equal(r.status, 200, r.text);
  assert.ok(Array.isArray(r.json));
  return r.json;
}

const ev = (session: string, base: number, sec: number, event: string, more: Record<string, unknown> = {}) => ({
  id: `${session}-${event}-${sec}`, event, timestamp: iso(base + sec * 1000), sessionId: session, contentId: 'm1', ...more,
});

before(async () => {
  s = await startTestServer();
  acc = s.server.firstAccount!.id;
  const token = { authorization: `Bearer ${s.token}` };
  const put = await fetch(`${s.url}/api/v1/videos/m1`, { method: 'PUT', headers: { ...token, 'content-type': 'application/json' }, body: JSON.stringify({ duration: 40 }) });
  assert.equal(put.status, 200);
  const alice = { userId: 'alice', email: EMAIL, url: PAGE, ip: '8.8.8.8', userAgent: BROWSER_UA };
  const list = [
    // Two days ago: 0→10 then 0→20 — 20 unique seconds of the catalog's 40 (the events claim 100).
    ev('w1', D2, 0, 'impression', { ...alice, duration: 100 }),
    ev('w1', D2, 1, 'playStart', alice),
    ev('w1', D2, 11, 'watchProgress', { ...alice, data: { from: 0, to: 10 } }),
    ev('w1', D2, 31, 'watchProgress', { ...alice, data: { from: 0, to: 20 } }),
    // Yesterday, two sessions starting at the same millisecond: 4 s and 50 s (capped at 1).
    ev('w2', D1, 0, 'watchProgress', { userId: 'alice', data: { from: 5, to: 9 } }),
    ev('w3', D1, 0, 'impression', { userId: 'bob' }),
    ev('w3', D1, 50, 'watchProgress', { userId: 'bob', data: { from: 0, to: 50 } }),
    // Today: a load that never played.
    ev('w4', D0, 0, 'impression', { userId: 'carol' }),
    // A media no duration is known for.
    ev('w5', D1, 0, 'watchProgress', { contentId: 'm2', data: { from: 0, to: 3 } }),
  ];
  const r = await collect(s.url, list, token);
  assert.equal(r.json?.accepted, list.length, r.text);
});
after(() => s.stop());

describe('Wistia /stats/medias/{id}/events', () => {
  it('JSON: every record newest first, the fields in order, percent_viewed 0–1', async () => {
    const all = await events();
    assert.deepEqual(all.map((e) => e.event_key), [key('w4'), ...[key('w2'), key('w3')].sort().reverse(), key('w1')]);
    for (const e of all) assert.deepEqual(Object.keys(e), FIELDS);
    const w1 = all[3];
    assert.equal(w1.received_at, iso(D2));
    assert.equal(w1.visitor_key, 'alice');
    assert.equal(w1.email, EMAIL);
    assert.equal(w1.embed_url, PAGE);
    assert.equal(w1.percent_viewed, 0.5, '20 unique seconds of the catalog\'s 40');
    assert.equal(w1.media_id, 'm1');
    assert.equal(w1.ip, '8.8.8.8');
    assert.equal(w1.country, 'US');
    assert.match(w1.org, /google/i);
    assert.equal(typeof w1.lat, 'number');
    assert.equal(typeof w1.lon, 'number');
    const byKey = Object.fromEntries(all.map((e) => [e.event_key, e]));
    assert.equal(byKey[key('w2')].percent_viewed, 0.1);
    assert.equal(byKey[key('w3')].percent_viewed, 1, '50 s of a 40 s video is 1');
    assert.equal(byKey[key('w4')].percent_viewed, 0, 'a load without a play');
    assert.equal(byKey[key('w4')].visitor_key, 'carol');
    assert.equal(byKey[key('w2')].email, null);
    assert.equal((await events('', 'm2'))[0].percent_viewed, null, 'unknown duration');
  });

  it('filter=view leaves out loads that never played; other filters are refused', async () => {
    assert.deepEqual((await events('filter=view')).map((e) => e.visitor_key).sort(), ['alice', 'alice', 'bob']);
    assert.ok((await events()).some((e) => e.visitor_key === 'carol'));
    for (const f of ['play', 'views', '', 'VIEW']) {
      const r = await get(`/stats/medias/m1/events.json?filter=${f}`);
      assert.equal(r.status, 400, f);
      assert.equal(r.json.error.code, 'validation_failed');
      assert.match(r.json.error.message, /filter.*filter=view/);
    }
  });

  it('CSV: the header, RFC 4180 quoting of hostile strings, the same rows as JSON', async () => {
    const r = await get('/stats/medias/m1/events.csv');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'text/csv; charset=utf-8');
    assert.ok(r.text.startsWith(FIELDS.join(',') + '\r\n'));
    assert.ok(r.text.includes('"a,""b""@example.com\r\n=1+1 😀"'), 'quoted, quotes doubled, no formula prefix');
    const rows = parse(r.text, { columns: true }) as Array<Record<string, string>>;
    const json = await events();
    assert.equal(rows.length, json.length);
    rows.forEach((row, i) => {
      assert.deepEqual(Object.keys(row), FIELDS);
      for (const f of FIELDS) assert.equal(row[f], json[i][f] === null ? '' : String(json[i][f]), `${i} ${f}`);
    });
    assert.equal(rows[3].email, EMAIL);
    assert.equal(rows[3].embed_url, PAGE);
    assert.match(r.headers.get('content-disposition') ?? '', /^attachment; filename="media_m1_events\.csv"$/);
  });

  it('start_date and end_date are whole UTC days, both included', async () => {
    const keys = async (q: string) => (await events(q)).map((e) => e.event_key);
    const y = dateOf(D1);
    assert.deepEqual((await keys(`start_date=${y}&end_date=${y}`)).sort(), [key('w2'), key('w3')].sort());
    assert.deepEqual(await keys(`end_date=${dateOf(D2)}`), [key('w1')]);
    assert.deepEqual(await keys(`start_date=${y}`), [key('w4'), ...[key('w2'), key('w3')].sort().reverse()]);
    assert.deepEqual(await keys(`start_date=${dateOf(TODAY + DAY)}`), []);
    for (const q of ['start_date=2026-02-30', 'start_date=2026-1-01', 'end_date=yesterday', `start_date=${y}&end_date=${dateOf(D2)}`, 'end_date=']) {
      const r = await get(`/stats/medias/m1/events.json?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.json.error.message, /_date/, q);
    }
  });

  it('limit and offset: default 100, larger than 1000 gives 1000, invalid values 400', async () => {
    const token = { authorization: `Bearer ${s.token}` };
    for (let i = 0; i < 1002; i += 501) {
      const batch = Array.from({ length: 501 }, (_, j) => ({ id: `bulk-${i + j}`, event: 'impression', timestamp: TODAY - 3 * DAY + (i + j) * 1000, contentId: 'many', sessionId: `b-${i + j}` }));
      assert.equal((await collect(s.url, batch, token)).json?.accepted, 501);
    }
    assert.equal((await events('', 'many')).length, 100);
    assert.equal((await events('limit=5000', 'many')).length, 1000);
    assert.equal((await events('limit=99999999999999999999', 'many')).length, 1000, 'however many digits');
    assert.equal((await events('limit=1000', 'many')).length, 1000);
    const last = await events('limit=1000&offset=1000', 'many');
    assert.deepEqual(last.map((e) => e.visitor_key), ['b-1', 'b-0'], 'newest first: the oldest two are last');
    assert.deepEqual((await events('limit=2&offset=1')).map((e) => e.event_key), (await events()).slice(1, 3).map((e) => e.event_key));
    assert.deepEqual(await events('offset=99'), []);
    for (const q of ['limit=0', 'limit=-1', 'limit=abc', 'limit=1.5', 'limit=', 'limit=1e3', 'offset=-1', 'offset=x', 'offset=1.0', 'limit=5&limit=6']) {
      const r = await get(`/stats/medias/m1/events.csv?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.type ?? '', /^application\/json/, q);
      assert.deepEqual(Object.keys(r.json.error), ['code', 'message'], q);
      assert.match(r.json.error.message, /^(limit|offset)/, q);
    }
  });

  it('basic auth: email and password, or api and a token; 401 with a challenge otherwise', async () => {
    assert.equal((await get('/stats/medias/m1/events.json', basicAuth('api', s.token))).status, 200);
    assert.equal((await get('/stats/medias/m1/events.json', basicAuth(s.email.toUpperCase(), s.password))).status, 200, 'emails are case-insensitive');
    for (const h of [{}, basicAuth(s.email, 'wrong'), basicAuth('api', `${s.token}x`), basicAuth('nobody@example.com', s.password), { authorization: `Bearer ${s.token}` }]) {
      const r = await get('/stats/medias/m1/events.csv', h);
      assert.equal(r.status, 401, JSON.stringify(h));
      assert.equal(r.headers.get('www-authenticate'), 'Basic realm="Reelstat"');
      assert.equal(r.json.error.code, 'unauthorized');
    }
  });

  it('404 for a media of another account or of none', async () => {
    const b = await createAccount(s.url, 'Other', 'other@example.com', 'other password 1');
    await collect(s.url, [{ event: 'impression', timestamp: D0, contentId: 'theirs', sessionId: 'o1' }], { 'x-reelstat-key': b.writeKey });
    assert.equal((await get('/stats/medias/theirs/events.json', basicAuth('other@example.com', 'other password 1'))).json.length, 1, 'it exists');
    for (const media of ['theirs', 'nothing']) {
      const r = await get(`/stats/medias/${media}/events.json`);
      assert.equal(r.status, 404, media);
      assert.equal(r.json.error.code, 'not_found');
    }
    assert.equal((await get('/stats/medias/m1/events.json', basicAuth('api', b.apiToken))).status, 404, 'the other account\'s token');
  });

  it('the vendor document\'s curl commands work as written', async () => {
    const user = `${s.email.replace('@', '%40')}:${s.password}`;
    assert.ok(user.includes('%40'));
    const { stdout: json } = await run('curl', ['-sS', '-u', user, `${s.url}/stats/medias/m1/events.json?filter=view&limit=100`]);
    assert.deepEqual(JSON.parse(json).map((e: any) => e.visitor_key).sort(), ['alice', 'alice', 'bob']);

    const dir = mkdtempSync(join(tmpdir(), 'wistia-curl-'));
    try {
      const day = dateOf(D1);
      const file = join(dir, `${day}_events.csv`);
      const { stdout } = await run('curl', ['-sS', '-u', user, `${s.url}/stats/medias/m1/events.csv?filter=view&limit=1000&start_date=${day}&end_date=${day}`]);
      // "> file": the shell's redirection, done here without a shell.
      writeFileSync(file, stdout);
      const rows = parse(readFileSync(file, 'utf8'), { columns: true }) as Array<Record<string, string>>;
      assert.deepEqual(rows.map((r) => r.visitor_key).sort(), ['alice', 'bob']);
      assert.deepEqual(rows.map((r) => r.percent_viewed).sort(), ['0.1', '1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const { stdout: code } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-u', `api:${s.token}`, `${s.url}/stats/medias/m1/events.json`]);
    assert.equal(code, '200');
    const { stdout: denied } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-u', `${s.email.replace('@', '%40')}:nope`, `${s.url}/stats/medias/m1/events.json`]);
    assert.equal(denied, '401');
  });
});
