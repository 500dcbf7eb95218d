// XLSX exports and the `videos` scope, end to end: events through the collector (and one stored
// directly, with a 40,000-character value no collector field allows), files downloaded through their
// signed links and read by independent tools: unzip -t, openpyxl, csv-parse.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fingerprint } from '../src/collector/dedupe.ts';
import { Db } from '../src/storage/duckdb/db.ts';
import { videoPaging } from '../src/exports/videos.ts';
import { collect, runExport, startTestServer, type TestServer } from './helpers/server.ts';
import { download, parseCsv, readXlsx, unzipMember, unzipTest, type XlsxCell } from './helpers/files.ts';

let s: TestServer;
const DAY = 86_400_000;
const today = new Date().toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - DAY).toISOString().slice(0, 10);
const HOSTILE = ['=1+1', '+cmd', '-2', '@SUM(A1)', '\tTab', '\rCR first', 'quote "inside"', "it's", 'comma, here', 'line\r\nbreak\nand\rmore', ' emoji 🎬👍 ', '<b>&amp;</b> _x0041_ and _x0042_', 'plain'];
const LONG = '=' + 'x'.repeat(39_990) + '😀 end'; // 40,000 characters
const CONTROL = 'ctl\x01\x03\nrow\x0B\x03\x1Fend\uFFFE';
const neutral = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
const auth = () => ({ authorization: `Bearer ${s.token}`, 'content-type': 'application/json' });

async function exportAndWait(body: Record<string, unknown>) {
  const e = await runExport(s.url, s.token, body);
  assert.equal(e.status, 'completed', JSON.stringify(e));
  return e;
}

before(async () => {
  s = await startTestServer({ REELSTAT_EXPORT_PART_ROWS: '7' });
  const t0 = Date.now() - 3_600_000;
  await fetch(`${s.url}/api/v1/projects/p1`, { method: 'PUT', headers: auth(), body: JSON.stringify({ name: '=Project' }) });
  for (const [id, body] of [['vid', { title: 'Main', duration: 20, folder: 'top', projectId: 'p1' }], ['sub', { title: '-Sub', duration: 10, folder: 'top/sub' }],
    ['idle', { title: 'Idle', duration: 30, folder: 'top/sub' }], ['else', { title: 'Elsewhere', folder: 'other' }]] as const) {
    const r = await fetch(`${s.url}/api/v1/videos/${id}`, { method: 'PUT', headers: auth(), body: JSON.stringify(body) });
    assert.equal(r.status, 200);
  }
  const events = HOSTILE.flatMap((h, i) => [
    { id: `x${i}`, event: 'impression', timestamp: t0 + i * 1000, contentId: i % 2 ? 'sub' : 'vid', sessionId: `s${i}`, viewerName: h, url: `https://e.test/${i}` },
    { id: `y${i}`, event: 'watchProgress', timestamp: t0 + i * 1000 + 6000, contentId: i % 2 ? 'sub' : 'vid', sessionId: `s${i}`, viewerName: h, data: { from: 0, to: 6, note: h } },
  ]);
  events.push({ id: 'else1', event: 'impression', timestamp: t0, contentId: 'else', sessionId: 'se', viewerName: 'x', url: 'https://e.test/else' });
  assert.equal((await collect(s.url, events, { 'x-reelstat-key': s.writeKey })).json.accepted, events.length);
  // A stored event holding a 40,000-character value (longer than the collector accepts, as an older
  // version or a backfill could have stored), written through the store itself.
  const accountId = s.server.firstAccount!.id;
  const seq = (await s.server.store.events.maxSeq()) + 1000;
  await s.server.store.events.insert([{
    accountId, id: 'long', clientId: true, fp: fingerprint(accountId, 'long'), seq, receivedAt: t0 + 500, event: 'impression', timestamp: t0 + 500,
    contentId: 'else', sessionId: 'slong', userId: null, email: null, viewerAccountId: null, viewerName: LONG, deviceType: 'web', currentTime: null,
    url: null, referrer: null, domain: null, title: null, duration: null, ip: null, userAgent: null, country: null, region: null, city: null,
    lat: null, lon: null, org: null, browser: null, os: null, platform: 'desktop', isBot: false, data: null,
  } as never, {
    // Characters XML forbids (the store's XLSX rows end with \x03 + LF, so that one above all), stored
    // the same way: the cell keeps the rest.
    accountId, id: 'ctl', clientId: true, fp: fingerprint(accountId, 'ctl'), seq: seq + 1, receivedAt: t0 + 600, event: 'impression', timestamp: t0 + 600,
    contentId: 'else', sessionId: 'sctl', userId: null, email: null, viewerAccountId: null, viewerName: CONTROL, deviceType: 'web', currentTime: null,
    url: null, referrer: null, domain: null, title: null, duration: null, ip: null, userAgent: null, country: null, region: null, city: null,
    lat: null, lon: null, org: null, browser: null, os: null, platform: 'desktop', isBot: false, data: null,
  } as never], []);
});
after(() => s.stop());

describe('XLSX exports', () => {
  it('events: parts of 7 rows, each a valid package; hostile text neutralized, 40k characters cut to 32,767', async () => {
    const e = await exportAndWait({ startDate: yesterday, endDate: today, format: 'xlsx', scope: 'events', types: ['events'],
      fields: ['id', 'event', 'viewerName', { fieldName: 'data', aliasName: 'payload' }, 'timestamp', 'isBot', 'currentTime'] });
    const n = HOSTILE.length * 2 + 3;
    assert.equal(e.rows, n);
    assert.deepEqual(e.files.map((f: any) => f.rows), Array.from({ length: Math.ceil(n / 7) }, (_, i) => Math.min(7, n - 7 * i)));
    const rows = new Map<string, XlsxCell[]>();
    for (const f of e.files) {
      assert.match(f.name, /^part-\d{5}\.xlsx$/);
      const buf = await download(f.url);
      assert.equal(buf.length, f.size);
      unzipTest(buf);
      const sheets = readXlsx(buf);
      assert.equal(sheets.length, 1);
      assert.deepEqual(sheets[0]!.rows[0], ['id', 'event', 'viewerName', 'payload', 'timestamp', 'isBot', 'currentTime']);
      assert.equal(sheets[0]!.rows.length - 1, f.rows);
      for (const r of sheets[0]!.rows.slice(1)) rows.set(r[0] as string, r);
    }
    assert.equal(rows.size, n);
    // What Excel shows: OOXML's _xHHHH_ escapes decoded (openpyxl hands them over as written).
    const shown = (c: XlsxCell) => String(c).replace(/_x([0-9A-Fa-f]{4})_/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    HOSTILE.forEach((h, i) => {
      assert.equal(shown(rows.get(`x${i}`)![2]), neutral(h), JSON.stringify(h));
      assert.deepEqual(JSON.parse(shown(rows.get(`y${i}`)![3])), { from: 0, to: 6, note: h });
      assert.equal(rows.get(`y${i}`)![5], false);
      assert.match((rows.get(`y${i}`)![4] as { date: string }).date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    });
    const long = rows.get('long')![2] as string;
    assert.equal(long.length, 32_767, 'Excel\'s cell limit');
    assert.equal(long, ("'" + LONG).slice(0, 32_767));
    assert.equal(rows.get('ctl')![2], 'ctl\nrowend', 'forbidden characters dropped, the row whole');
    for (const r of rows.values()) for (const c of r) if (typeof c === 'string') assert.ok(!/^[=+\-@\t\r]/.test(c), `a cell starts a formula: ${c.slice(0, 30)}`);
  });

  it('views scope, zipped: one archive holding every part and the manifest', async () => {
    const e = await exportAndWait({ startDate: yesterday, endDate: today, format: 'xlsx', scope: 'views', zip: true, fields: ['viewId', 'sessionId', 'counted', 'uniqueSeconds', 'viewerName', 'startedAt'] });
    assert.equal(e.files.length, 1);
    const zip = await download(e.files[0].url);
    const names = unzipTest(zip);
    assert.deepEqual(names.sort(), ['manifest.json', 'part-00001.xlsx', 'part-00002.xlsx']);
    const all = [...readXlsx(unzipMember(zip, 'part-00001.xlsx'))[0]!.rows.slice(1), ...readXlsx(unzipMember(zip, 'part-00002.xlsx'))[0]!.rows.slice(1)];
    assert.equal(all.length, HOSTILE.length + 1, 'one record a session (the load-only one of "else" too)');
    const s0 = all.find((r) => r[1] === 's0')!;
    assert.deepEqual(s0.slice(1, 5), ['s0', true, 6, "'=1+1"]);
  });

  it('the same XLSX export twice writes the same bytes (its entries carry the period\'s end, not the time of writing)', async () => {
    // Raw events (rows built by the store) and catalog entries (rows written by the writer's own cells).
    const bodies = [{ startDate: yesterday, endDate: today, format: 'xlsx', scope: 'events', fields: ['id', 'event', 'timestamp'] },
      { startDate: yesterday, endDate: today, format: 'xlsx', scope: 'videos', fields: ['content_id', 'title', 'views'] }];
    const first = await Promise.all(bodies.map((b) => exportAndWait(b)));
    await new Promise((r) => setTimeout(r, 2_100)); // a ZIP's DOS time counts in 2 s
    const second = await Promise.all(bodies.map((b) => exportAndWait(b)));
    for (const [i, e] of first.entries()) {
      assert.ok(e.files.length >= 1 && e.rows > 0, JSON.stringify(e).slice(0, 200));
      assert.deepEqual(second[i].files.map((f: any) => f.sha256), e.files.map((f: any) => f.sha256), bodies[i]!.scope);
    }
  });

  it('refuses gzip with XLSX, saying why', async () => {
    const r = await fetch(`${s.url}/api/v1/exports`, { method: 'POST', headers: auth(), body: JSON.stringify({ startDate: today, endDate: today, format: 'xlsx', gzip: true }) });
    assert.equal(r.status, 400);
    assert.match((await r.json()).error.message, /gzip: an XLSX file is compressed already/);
  });
});

describe('videos scope', () => {
  const stats = async () => {
    const r = await (await fetch(`${s.url}/api/v1/stats?from=${yesterday}&to=${today}&dimensions=video_id&metrics=player_loads,unique_views,views,total_watch_time,watch_depth,peak_concurrent_viewers`, { headers: auth() })).json();
    return new Map<string, any>(r.data.map((x: any) => [x.video_id ?? x.key?.video_id, x.metrics ?? x]));
  };

  it('one row a catalog entry with the metrics of the stats API, zeros for an entry nothing happened to', async () => {
    const e = await exportAndWait({ startDate: yesterday, endDate: today, format: 'csv', scope: 'videos' });
    assert.equal(e.rows, 4);
    const rows = (await Promise.all(e.files.map(async (f: any) => parseCsv(await download(f.url))))).flat();
    assert.deepEqual(rows.map((r) => r.content_id), ['else', 'idle', 'sub', 'vid']);
    assert.deepEqual(Object.keys(rows[0]!).slice(0, 15), ['project_id', 'project_name', 'video_id', 'stream_id', 'event_id', 'title', 'duration',
      'folder_name', 'folder_id', 'player_loads', 'unique_views', 'views', 'total_watch_time', 'view_rate', 'peak_concurrent_viewers']);
    const st = await stats();
    for (const r of rows) {
      const m = st.get(r.content_id!);
      const want = m ? [m.player_loads, m.unique_views, m.views, m.total_watch_time, m.watch_depth ?? 0, m.peak_concurrent_viewers] : [0, 0, 0, 0, 0, 0];
      assert.deepEqual([r.player_loads, r.unique_views, r.views, r.total_watch_time, r.view_rate, r.peak_concurrent_viewers].map(Number), want, r.content_id);
    }
    // by hand: vid has sessions 0,2,4,…,12 (7 views of 6 s), sub 1,3,…,11 (6 views); idle nothing
    const vid = rows.find((r) => r.content_id === 'vid')!;
    assert.deepEqual([vid.player_loads, vid.views, vid.total_watch_time, vid.view_rate, vid.project_name, vid.title], ['7', '7', '42', String(42 / (7 * 20)), "'=Project", 'Main']);
    const sub = rows.find((r) => r.content_id === 'sub')!;
    assert.deepEqual([sub.views, sub.total_watch_time, sub.title, sub.folder_name], ['6', '36', "'-Sub", 'top/sub']);
    assert.deepEqual(rows.find((r) => r.content_id === 'idle'), { ...rows.find((r) => r.content_id === 'idle'), player_loads: '0', views: '0', unique_views: '0', total_watch_time: '0', view_rate: '0', peak_concurrent_viewers: '0' });
    // the event stored past the writer is not materialized into a record: one load, from the collector
    assert.equal(rows.find((r) => r.content_id === 'else')!.player_loads, '1');
    // the catalog read a page at a time (here one entry a page): the same rows
    const page = videoPaging.items;
    videoPaging.items = 1;
    try {
      const paged = await exportAndWait({ startDate: yesterday, endDate: today, format: 'csv', scope: 'videos' });
      assert.deepEqual((await Promise.all(paged.files.map(async (f: any) => parseCsv(await download(f.url))))).flat(), rows);
    } finally {
      videoPaging.items = page;
    }
  });

  it('folder filter (nested included), renamed fields, JSON Lines and XLSX', async () => {
    const fields = ['content_id', { fieldName: 'views', aliasName: 'Views' }, 'duration', 'folder_name'];
    const j = await exportAndWait({ startDate: yesterday, endDate: today, format: 'jsonl', scope: 'videos', fields, filters: { folder: 'top' } });
    const lines = (await Promise.all(j.files.map(async (f: any) => (await download(f.url)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l))))).flat();
    assert.deepEqual(lines, [
      { content_id: 'idle', Views: 0, duration: 30, folder_name: 'top/sub' },
      { content_id: 'sub', Views: 6, duration: 10, folder_name: 'top/sub' },
      { content_id: 'vid', Views: 7, duration: 20, folder_name: 'top' },
    ]);
    const x = await exportAndWait({ startDate: yesterday, endDate: today, format: 'xlsx', scope: 'videos', fields, filters: { folder: 'top/sub' } });
    const buf = await download(x.files[0].url);
    unzipTest(buf);
    assert.deepEqual(readXlsx(buf)[0]!.rows, [['content_id', 'Views', 'duration', 'folder_name'], ['idle', 0, 30, 'top/sub'], ['sub', 6, 10, 'top/sub']]);
  });

  it('deviceLabel selects the views it counts', async () => {
    const views = async (deviceLabel: string) => {
      const e = await exportAndWait({ startDate: yesterday, endDate: today, format: 'jsonl', scope: 'videos', fields: ['content_id', 'views'], filters: { deviceLabel } });
      const lines = (await Promise.all(e.files.map(async (f: any) => (await download(f.url)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l))))).flat();
      return new Map<string, number>(lines.map((l: any) => [l.content_id, l.views]));
    };
    const all = await views('all');
    assert.equal(all.get('vid'), 7);
    const labelled = await Promise.all(['desktop', 'mobile', 'tablet'].map(views));
    for (const id of all.keys()) {
      const counts = labelled.map((m) => m.get(id)!);
      assert.ok(counts.reduce((a, b) => a + b, 0) <= all.get(id)!, `${id}: ${counts} within ${all.get(id)}`);
    }
    // vid's 7 views come from one platform: at most one label counts them
    assert.ok(labelled.filter((m) => m.get('vid') === 0).length >= 2, labelled.map((m) => m.get('vid')).join());
  });

  it('lists its fields; Parquet read back by DuckDB with typed columns', async () => {
    const f = await (await fetch(`${s.url}/api/v1/fields?scope=videos`, { headers: auth() })).json();
    assert.ok(f.data.some((d: any) => d.name === 'view_rate' && /watch depth/i.test(d.description)));
    const fields = ['content_id', { fieldName: 'views', aliasName: 'Views all' }, 'view_rate', 'title'];
    const p = await exportAndWait({ startDate: yesterday, endDate: today, format: 'parquet', scope: 'videos', fields, filters: { folder: 'top' } });
    assert.equal(p.files.length, 1);
    const path = join(mkdtempSync(join(tmpdir(), 'rs-pq-')), 'v.parquet');
    writeFileSync(path, await download(p.files[0].url));
    const db = await Db.open(':memory:', 1);
    try {
      const cols = await db.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
      assert.deepEqual(cols.map((c) => [c.column_name, c.column_type]), [['content_id', 'VARCHAR'], ['Views all', 'BIGINT'], ['view_rate', 'DOUBLE'], ['title', 'VARCHAR']]);
      const rows = await db.all<Record<string, unknown>>(`SELECT * FROM read_parquet('${path}') ORDER BY content_id`);
      assert.deepEqual(rows.map((r) => [r.content_id, r['Views all']]), [['idle', 0], ['sub', 6], ['vid', 7]]);
    } finally {
      await db.close();
    }
  });
});
