/**
 * The Cincopa dialect end to end: scripted sessions through the collector, then
 * GET /ohm_get_v3.aspx parsed by an independent CSV parser (csv-parse) and compared with
 * expectations computed by hand from spec/metrics.md.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { viewIdOf } from '../src/metrics/viewRecord.ts';
import { BROWSER_UA, collect, createAccount, startTestServer, type TestServer } from './helpers/server.ts';

const DAY = 86_400_000;
const NOW = Date.now();
const TODAY = Math.floor(NOW / DAY) * DAY; // 00:00 UTC today
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const HEADER = 'time,hmid,ckid,unique,ud_email,ud_acc_id,ud_name,prg,lat,long,ip,rid,country,city,dur,url,ua,name,hm';
const COLS = HEADER.split(',');

// Hostile strings: quotes, commas, CR/LF, emoji, formulas. EMAIL has only a LF and ACC only a CR
// to quote them; hm (`0-9:2,10-19`) only a comma.
const NAME = 'O"Brien, Jr.\r\n=1+1 😀';
const EMAIL = 'x@example.com\n=1+1';
const PAGE = 'https://school.test/a?x=1,2&y="3"\n=HYPERLINK("http://evil")';
const ACC = '=SUM(A1:A2)\racc7';
const TITLE = 'Lesson "One", part 1 🎬';

// Sessions: when they start, relative to 00:00 UTC of their day.
const T0 = Math.max(TODAY, NOW - 120_000); // today, never in the future
const T3 = TODAY - 3 * DAY; // the first millisecond of the day 3 days ago
const T8 = TODAY - 8 * DAY + 12 * 3_600_000; // 8 days ago, noon

let s: TestServer;
let accountId: string;
const bearer = () => ({ authorization: `Bearer ${s.token}` });
const iso = (ms: number) => new Date(ms).toISOString();

function ev(sessionId: string, base: number, sec: number, event: string, more: Record<string, unknown> = {}) {
  return { id: `${sessionId}-${event}-${sec}`, event, timestamp: iso(base + sec * 1000), sessionId, contentId: 'v1', ip: '8.8.8.8', userAgent: BROWSER_UA, ...more };
}

async function get(query: string) {
  const r = await fetch(`${s.url}/ohm_get_v3.aspx?${query}`);
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type'), disposition: r.headers.get('content-disposition'), headers: r.headers, text };
}

async function csv(query: string): Promise<Array<Record<string, string>>> {
  const r = await get(query);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.type, 'text/csv; charset=utf-8');
  assert.ok(r.text.startsWith(HEADER + '\r\n'), 'the header row, CRLF');
  const rows = parse(r.text, { columns: true, bom: false }) as Array<Record<string, string>>;
  return rows;
}

before(async () => {
  s = await startTestServer();
  accountId = s.server.firstAccount!.id;
  const put = await fetch(`${s.url}/api/v1/videos/v1`, { method: 'PUT', headers: { ...bearer(), 'content-type': 'application/json' }, body: JSON.stringify({ title: TITLE, duration: 40 }) });
  assert.equal(put.status, 200);
  const viewer = { userId: 'u1', email: EMAIL, viewerName: NAME, viewerAccountId: ACC, url: PAGE };
  const events = [
    // u1, 3 days ago: 0→10 then 0→20 again — counts 2 on 0..9 and 1 on 10..19. Events claim 100 s; the catalog says 40.
    ev('sA', T3, 0, 'impression', { ...viewer, duration: 100 }),
    ev('sA', T3, 1, 'playStart', viewer),
    ev('sA', T3, 11, 'watchProgress', { ...viewer, data: { from: 0, to: 10 } }),
    ev('sA', T3, 31, 'watchProgress', { ...viewer, data: { from: 0, to: 20 } }),
    // u1 again, today: a later session of the same viewer and video is not unique.
    ev('sB', T0, 0, 'playStart', { userId: 'u1', url: 'https://school.test/plain' }),
    ev('sB', T0, 3, 'watchProgress', { userId: 'u1', data: { from: 5, to: 8 } }),
    // u2, 8 days ago: 6 seconds.
    ev('sC', T8, 0, 'impression', { userId: 'u2' }),
    ev('sC', T8, 6, 'watchProgress', { userId: 'u2', data: { from: 0, to: 6 } }),
    // u3, today: a load that never played — in no Cincopa row.
    ev('sD', T0, 0, 'impression', { userId: 'u3' }),
    // u1 on another video with no catalog entry: duration and title from its events.
    ev('sE', T0, 0, 'watchProgress', { userId: 'u1', contentId: 'v2', title: 'Second', duration: 50.4, data: { from: 0, to: 2 } }),
  ];
  const r = await collect(s.url, events, bearer());
  assert.equal(r.json?.accepted, events.length, r.text);
});
after(() => s.stop());

describe('Cincopa /ohm_get_v3.aspx', () => {
  it('one row per played record, oldest first, every column as defined', async () => {
    const rows = await csv(`t=by_uid_csv&uid=${s.uid}&p=31-0`);
    assert.deepEqual(rows.map((r) => r.hmid), [viewIdOf(accountId, 'sC', 'v1'), viewIdOf(accountId, 'sA', 'v1'), ...[viewIdOf(accountId, 'sB', 'v1'), viewIdOf(accountId, 'sE', 'v2')].sort()]);
    const a = rows[1];
    assert.deepEqual(Object.keys(a), COLS);
    assert.equal(a.time, iso(T3));
    assert.equal(a.ckid, 'u1');
    assert.equal(a.unique, 'true');
    assert.equal(a.ud_email, EMAIL);
    assert.equal(a.ud_acc_id, ACC);
    assert.equal(a.ud_name, NAME);
    assert.equal(a.prg, '30');
    assert.equal(a.hm, '0-9:2,10-19');
    assert.equal(a.dur, '40', 'the catalog duration wins over the events\' 100');
    assert.equal(a.rid, 'v1');
    assert.equal(a.url, PAGE);
    assert.equal(a.ua, BROWSER_UA);
    assert.equal(a.ip, '8.8.8.8');
    assert.equal(a.country, 'US');
    assert.ok(a.city.length > 0, 'a city');
    assert.ok(Number.isFinite(Number(a.lat)) && a.lat !== '' && Number.isFinite(Number(a.long)) && a.long !== '', `${a.lat} ${a.long}`);

    const b = rows.find((r) => r.hmid === viewIdOf(accountId, 'sB', 'v1'))!;
    assert.deepEqual([b.time, b.ckid, b.unique, b.prg, b.hm, b.dur, b.ud_email, b.ud_name, b.url], [iso(T0), 'u1', 'false', '3', '5-7', '40', '', '', 'https://school.test/plain']);
    const c = rows[0];
    assert.deepEqual([c.time, c.ckid, c.unique, c.prg, c.hm], [iso(T8), 'u2', 'true', '6', '0-5']);
    const e = rows.find((r) => r.rid === 'v2')!;
    assert.deepEqual([e.unique, e.prg, e.hm, e.dur, e.name], ['true', '2', '0-1', '50', 'Second'], 'another video: unique again; duration of the events, whole seconds');
    assert.ok(!rows.some((r) => r.ckid === 'u3'), 'the unplayed load is not a row');
  });

  // Fails today: ViewRepo.list() selects `v.*` (which has the record's own `title` column) and then
  // `coalesce(c.title, v.title) AS title`; DuckDB names the second `title:1`, so the catalog title is
  // lost and the record's event title (here none) is read instead. Fix in src/storage/duckdb/views.ts.
  it('name is the catalog title, over the events\' title', async () => {
    const rows = await csv(`t=by_uid_csv&uid=${s.uid}&p=31-0`);
    assert.deepEqual(rows.filter((r) => r.rid === 'v1').map((r) => r.name), [TITLE, TITLE, TITLE]);
  });

  it('quotes hostile fields by RFC 4180 and writes formulas as they are', async () => {
    const r = await get(`t=by_uid_csv&uid=${s.uid}&p=31-0`);
    assert.ok(r.text.includes(`"O""Brien, Jr.\r\n=1+1 😀"`), 'quotes doubled, CRLF kept inside quotes');
    assert.ok(r.text.includes(`,"${EMAIL}","${ACC}","${NAME.replace(/"/g, '""')}",30,`), 'each quoted, no apostrophe before =');
    assert.ok(r.text.includes(',"0-9:2,10-19"\r\n'), 'a comma alone quotes');
    assert.ok(r.text.endsWith('\r\n'));
    // Every line break outside quotes is CRLF: strip quoted fields and look for a bare LF or CR.
    const outside = r.text.replace(/"(?:[^"]|"")*"/g, '');
    assert.equal(outside.replace(/\r\n/g, '').search(/[\r\n]/), -1);
  });

  it('the window: D days ending K days before today (UTC), both ends included', async () => {
    const when = async (p: string) => (await csv(`t=by_uid_csv&uid=${s.uid}&p=${p}`)).filter((r) => r.rid === 'v1').map((r) => r.time);
    assert.deepEqual(await when('1-0'), [iso(T0)]);
    assert.deepEqual(await when('3-0'), [iso(T0)], 'the day 3 days ago is not in the last 3 days');
    assert.deepEqual(await when('4-0'), [iso(T3), iso(T0)], 'its first millisecond is in the last 4');
    assert.deepEqual(await when('6-0'), [iso(T3), iso(T0)]);
    assert.deepEqual(await when('7-7'), [iso(T8)]);
    assert.deepEqual(await when('8-0'), [iso(T3), iso(T0)], '8 days ago is not in the last 8 days');
    assert.deepEqual(await when('9-0'), [iso(T8), iso(T3), iso(T0)]);
    assert.deepEqual(await when('1-8'), [iso(T8)]);
    assert.deepEqual(await when('1-9'), []);
    assert.deepEqual(await when('1-3'), [iso(T3)]);
    assert.deepEqual(await when('31-0'), [iso(T8), iso(T3), iso(T0)]);
    assert.deepEqual(await when('31-100000'), [], 'far in the past: empty');
  });

  it('answers an attachment named after its days', async () => {
    const r = await get(`t=by_uid_csv&uid=${s.uid}&p=7-7`);
    assert.equal(r.status, 200);
    assert.equal(r.disposition, `attachment; filename="views_${dateOf(TODAY - 13 * DAY)}_${dateOf(TODAY - 7 * DAY)}.csv"`);
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });

  it('refuses more than 31 days and malformed p or t with a plain-text 400 saying what is accepted', async () => {
    const ok = await get(`t=by_uid_csv&uid=${s.uid}&p=31-5`);
    assert.equal(ok.status, 200);
    const cases: Array<[string, RegExp]> = [
      ['t=by_uid_csv&p=32-0', /at most 31 days/],
      ['t=by_uid_csv&p=365-0', /at most 31 days/],
      ['t=by_uid_csv&p=0-0', /at least 1/],
      ...['', '6', '6-', '-6-0', '6-0-1', '6.5-0', 'a-b', '6_0', ' 6-0', '6--1'].map((p): [string, RegExp] => [`t=by_uid_csv&p=${encodeURIComponent(p)}`, /malformed.*D-K/]),
      ['t=by_uid_csv', /p="?\(missing\)"?.*D-K/],
      ['t=by_uid_csv&p=6-0&p=7-0', /D-K/],
      ['p=6-0', /t=by_uid_csv/],
      ['t=by_uid_json&p=6-0', /"by_uid_json".*t=by_uid_csv/],
      ['t=BY_UID_CSV&p=6-0', /t=by_uid_csv/],
    ];
    for (const [q, re] of cases) {
      const r = await get(`${q}&uid=${s.uid}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.type, 'text/plain; charset=utf-8', q);
      assert.match(r.text, re, q);
      assert.match(r.text, /./);
    }
  });

  it('401 in plain text for a missing or unknown uid', async () => {
    for (const q of ['t=by_uid_csv&p=6-0', 't=by_uid_csv&p=6-0&uid=', 't=by_uid_csv&p=6-0&uid=A4AbePxwFKPJ', `t=by_uid_csv&p=6-0&uid=${s.uid}x`]) {
      const r = await get(q);
      assert.equal(r.status, 401, q);
      assert.equal(r.type, 'text/plain; charset=utf-8', q);
      assert.match(r.text, /uid|UID/);
    }
  });

  it('a rotated uid stops working; a disabled one too; each account sees only its own views', async () => {
    const b = await createAccount(s.url, 'Other', 'other@example.com');
    const auth = { authorization: `Bearer ${b.apiToken}` };
    await collect(s.url, [{ event: 'watchProgress', timestamp: iso(T0), contentId: 'bv', sessionId: 'b1', userId: 'bu', data: { from: 0, to: 4 } }], { 'x-reelstat-key': b.writeKey });
    const mine = await csv(`t=by_uid_csv&uid=${b.uid}&p=1-0`);
    assert.deepEqual(mine.map((r) => [r.rid, r.ckid, r.hm]), [['bv', 'bu', '0-3']]);

    const rotated = await fetch(`${s.url}/api/v1/export-uid`, { method: 'POST', headers: auth });
    assert.equal(rotated.status, 201);
    const { uid } = (await rotated.json()) as { uid: string };
    assert.notEqual(uid, b.uid);
    assert.equal((await get(`t=by_uid_csv&uid=${b.uid}&p=1-0`)).status, 401, 'the old uid');
    assert.equal((await csv(`t=by_uid_csv&uid=${uid}&p=1-0`)).length, 1, 'the new uid');

    assert.equal((await fetch(`${s.url}/api/v1/export-uid`, { method: 'DELETE', headers: auth })).status, 204);
    const disabled = await get(`t=by_uid_csv&uid=${uid}&p=1-0`);
    assert.equal(disabled.status, 401);
    assert.equal(disabled.type, 'text/plain; charset=utf-8');
    assert.equal((await csv(`t=by_uid_csv&uid=${s.uid}&p=1-0`)).filter((r) => r.rid === 'bv').length, 0, 'never another account\'s rows');
  });
});

describe('Cincopa streaming', () => {
  it('pages through more than 5000 records without losing or repeating one', async () => {
    const b = await createAccount(s.url, 'Bulk', 'bulk@example.com');
    const n = 5003;
    const base = TODAY - DAY + 3_600_000;
    const events = Array.from({ length: n }, (_, i) => ({
      id: `bulk-${i}`, event: 'watchProgress', timestamp: base + i * 1000, contentId: 'bulk', sessionId: `bs-${String(i).padStart(5, '0')}`, data: { from: 0, to: 1 },
    }));
    for (let i = 0; i < n; i += 1000) {
      const r = await collect(s.url, events.slice(i, i + 1000), { 'x-reelstat-key': b.writeKey });
      assert.equal(r.json?.accepted, Math.min(1000, n - i), r.text);
    }
    const r = await get(`t=by_uid_csv&uid=${b.uid}&p=2-0`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-length'), null, 'streamed, not a buffered body');
    const rows = parse(r.text, { columns: true }) as Array<Record<string, string>>;
    assert.equal(rows.length, n);
    assert.equal(new Set(rows.map((x) => x.hmid)).size, n);
    assert.deepEqual(rows.map((x) => x.ckid), events.map((e) => e.sessionId), 'oldest first, across page boundaries');
  });
});
