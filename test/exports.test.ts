import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from 'csv-parse/sync';
import { collect, readAllEvents, runExport, startTestServer, type TestServer } from './helpers/server.ts';
import { download } from './helpers/files.ts';
import { FIELDS } from '../src/exports/fields.ts';

let s: TestServer;
let clockOffset = 0;
const DAY = 86_400_000;
// Every event falls on one UTC day, `today`, even when the suite runs just after midnight.
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const base = dayOf(Date.now() - 3_600_000) === dayOf(Date.now() - 3_500_000) ? Date.now() - 3_600_000 : Date.now() - 3_720_000;
const today = dayOf(base);
const yesterday = dayOf(base - DAY);
const HOSTILE = ['=1+1', '+cmd', '-2', '@SUM(A1)', '\tTab', 'quote "inside"', 'comma, here', 'line\r\nbreak', 'emoji 🎬👍', 'plain'];
const auth = () => ({ authorization: `Bearer ${s.token}`, 'content-type': 'application/json' });

const exportAndWait = (body: Record<string, unknown>) => runExport(s.url, s.token, body);

before(async () => {
  s = await startTestServer({ REELSTAT_EXPORT_PART_ROWS: '7' }, { now: () => Date.now() + clockOffset });
  const events = HOSTILE.flatMap((h, i) => [
    { id: `x${i}`, event: 'impression', timestamp: base + i * 1000, contentId: 'vid', sessionId: `s${i}`, viewerName: h, viewerAccountId: h, title: h, url: `https://e.test/${i}` },
    { id: `y${i}`, event: 'watchProgress', timestamp: base + i * 1000 + 6000, contentId: 'vid', sessionId: `s${i}`, viewerName: h, data: { from: 0, to: 6, note: h } },
  ]);
  events.push({ id: 'q1', event: 'rebuffer', timestamp: base + 30_000, contentId: 'vid', sessionId: 'sq', data: { duration: 2 } } as never);
  assert.equal((await collect(s.url, events, { 'x-reelstat-key': s.writeKey })).json.accepted, events.length);
});
after(() => s.stop());

describe('on-demand exports', () => {
  it('CSV: parts of 7 rows, RFC 4180, formulas neutralized, every event once', async () => {
    const e = await exportAndWait({ startDate: yesterday, endDate: today, format: 'csv', scope: 'events', fields: ['id', 'event', 'viewerName', { fieldName: 'data', aliasName: 'payload' }, 'timestamp'] });
    assert.equal(e.status, 'completed', JSON.stringify(e));
    assert.equal(e.rows, 21);
    assert.equal(e.dialect, null, 'a native export is no dialect\'s');
    assert.deepEqual(e.files.map((f: any) => f.rows), [7, 7, 7]);
    const rows: any[] = [];
    for (const f of e.files) {
      const buf = await download(f.url);
      assert.equal(buf.length, f.size);
      assert.equal(createHash('sha256').update(buf).digest('hex'), f.sha256);
      assert.ok(buf.toString('utf8').includes('\r\n'), 'CRLF line ends');
      rows.push(...parse(buf, { columns: true }));
    }
    assert.deepEqual(Object.keys(rows[0]), ['id', 'event', 'viewerName', 'payload', 'timestamp']);
    const byId = new Map(rows.map((r) => [r.id, r]));
    assert.equal(byId.size, 21);
    HOSTILE.forEach((h, i) => {
      const want = /^[=+\-@\t\r]/.test(h) ? `'${h}` : h;
      assert.equal(byId.get(`x${i}`).viewerName, want);
      assert.deepEqual(JSON.parse(byId.get(`y${i}`).payload), { from: 0, to: 6, note: h });
    });
    for (const r of rows) for (const v of Object.values(r)) assert.ok(!/^[=+\-@\t\r]/.test(v as string), `a cell starts a formula: ${v}`);
    assert.match(byId.get('x0').timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
  it('CSV of every field of the events, views and sessions scopes: no text cell starts a formula (the field catalog says which are text)', async () => {
    for (const scope of ['events', 'views', 'sessions']) {
      const e = await exportAndWait({ startDate: yesterday, endDate: today, format: 'csv', scope });
      assert.equal(e.status, 'completed', JSON.stringify(e));
      const rows: any[] = [];
      for (const f of e.files) rows.push(...parse(await download(f.url), { columns: true }));
      assert.ok(rows.length >= HOSTILE.length, `${scope}: ${rows.length} rows`);
      for (const r of rows) for (const [k, v] of Object.entries(r)) assert.ok(!/^[=+\-@\t\r]/.test(v as string), `${scope}.${k}: a cell starts a formula: ${v}`);
      assert.ok(rows.some((r) => r.viewerAccountId === "'=1+1"), `${scope}: viewerAccountId neutralized`);
    }
  });
  it('JSON Lines keeps the raw shape: data as an object, strings untouched', async () => {
    const e = await exportAndWait({ startDate: today, endDate: today, format: 'jsonl', types: ['events'], fields: ['id', 'viewerName', 'data'] });
    const all: any[] = [];
    for (const f of e.files) all.push(...(await download(f.url)).toString('utf8').trim().split('\n').map((l: string) => JSON.parse(l)));
    assert.equal(all.length, 20, 'the rebuffer (quality) is left out');
    const stored = new Map((await readAllEvents(s.url, s.token)).map((x) => [x.id, x]));
    for (const row of all) {
      assert.equal(row.viewerName, stored.get(row.id).viewerName);
      assert.deepEqual(row.data, stored.get(row.id).data);
    }
  });
  it('Parquet reads back with DuckDB; gzip and zip work', async () => {
    const e = await exportAndWait({ startDate: today, endDate: today, format: 'parquet', fields: ['id', 'timestamp', 'viewerName'] });
    const dir = mkdtempSync(join(tmpdir(), 'rs-pq-'));
    let n = 0;
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    for (const [i, f] of e.files.entries()) {
      const p = join(dir, `p${i}.parquet`);
      writeFileSync(p, await download(f.url));
      const rows = (await c.runAndReadAll(`SELECT * FROM read_parquet('${p}')`)).getRowObjectsJS();
      n += rows.length;
      assert.equal(rows.length, f.rows);
    }
    assert.equal(n, 21);
    // Each scope's Parquet columns typed as the field catalog says (a DuckDB HUGEINT sum was written as DOUBLE).
    for (const scope of ['events', 'views', 'sessions'] as const) {
      const all = await exportAndWait({ startDate: today, endDate: today, format: 'parquet', scope });
      const p = join(dir, `${scope}.parquet`);
      writeFileSync(p, await download(all.files[0].url));
      const types = new Map((await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${p}')`)).getRowObjectsJS().map((r) => [r.column_name as string, r.column_type as string]));
      for (const def of FIELDS[scope]) {
        const want = { string: /^VARCHAR$/, integer: /^(BIGINT|INTEGER)$/, number: /^(DOUBLE|BIGINT|INTEGER)$/, boolean: /^BOOLEAN$/, timestamp: /^TIMESTAMP/, object: /./ }[def.type];
        assert.match(types.get(def.name) ?? 'missing', want, `${scope}.${def.name} (${def.type})`);
      }
    }
    c.closeSync();
    const gz = await exportAndWait({ startDate: today, endDate: today, format: 'jsonl', gzip: true, fields: ['id'] });
    assert.ok(gz.files[0].name.endsWith('.jsonl.gz'));
    assert.equal(gunzipSync(await download(gz.files[0].url)).toString().trim().split('\n').length, 7);
    const z = await exportAndWait({ startDate: today, endDate: today, format: 'csv', zip: true, fields: ['id'] });
    assert.equal(z.files.length, 1);
    const zp = join(dir, 'x.zip');
    writeFileSync(zp, await download(z.files[0].url));
    execFileSync('unzip', ['-t', zp]);
    const listing = execFileSync('unzip', ['-l', zp]).toString();
    assert.match(listing, /part-00003\.csv/);
    assert.match(listing, /manifest\.json/);
    // the run lists the parts inside the ZIP, as its manifest does; the manifest has a link of its own
    const inside = z.files[0].parts as Array<{ name: string; rows: number; size: number; sha256: string }>;
    assert.deepEqual(inside.map((p) => p.name), ['part-00001.csv', 'part-00002.csv', 'part-00003.csv']);
    assert.equal(inside.reduce((n, p) => n + p.rows, 0), z.rows);
    const manifest = JSON.parse((await download(z.manifest)).toString('utf8'));
    assert.deepEqual(manifest.parts, inside);
    for (const p of inside) {
      const body = execFileSync('unzip', ['-p', zp, p.name]);
      assert.equal(body.length, p.size);
      assert.equal(createHash('sha256').update(body).digest('hex'), p.sha256);
    }
    // and beside plain parts
    const plain = JSON.parse((await download(gz.manifest)).toString('utf8'));
    assert.deepEqual(plain.parts.map((p: { name: string }) => p.name), gz.files.map((f: { name: string }) => f.name));
    assert.equal(plain.gzip, true);
    const forged = new URL(gz.manifest);
    forged.pathname = forged.pathname.replace('manifest.json', 'manifest.jsonx');
    assert.equal((await fetch(forged)).status, 403);
  });
  it('bom: CSV files start with a UTF-8 byte order mark for Excel, once, in every scope; refused for other formats', async () => {
    const MARK = Buffer.from([0xef, 0xbb, 0xbf]);
    const starts = (buf: Buffer, what: string) => {
      assert.deepEqual(buf.subarray(0, 3), MARK, `${what} starts with the mark`);
      assert.equal(buf.indexOf(MARK, 3), -1, `${what}: one mark`);
    };
    const e = await exportAndWait({ startDate: today, endDate: today, format: 'csv', bom: true, fields: ['id', 'viewerName'] });
    assert.equal(e.files.length, 3);
    const rows: any[] = [];
    for (const f of e.files) {
      const buf = await download(f.url);
      starts(buf, f.name);
      assert.equal(createHash('sha256').update(buf).digest('hex'), f.sha256);
      rows.push(...parse(buf, { columns: true, bom: true }));
    }
    assert.equal(rows.length, 21);
    assert.deepEqual(Object.keys(rows[0]), ['id', 'viewerName']);
    assert.equal(rows.find((r) => r.id === 'x0').viewerName, "'=1+1", 'formulas still neutralized');
    const gz = await exportAndWait({ startDate: today, endDate: today, format: 'csv', bom: true, gzip: true, fields: ['id'] });
    starts(gunzipSync(await download(gz.files[0].url)), 'a gzip part');
    for (const [scope, fields] of [['views', ['viewId']], ['sessions', ['sessionId', 'contentIds']], ['videos', ['video_id', 'views']]] as const) {
      const x = await exportAndWait({ startDate: today, endDate: today, format: 'csv', bom: true, scope, fields });
      assert.equal(x.status, 'completed', JSON.stringify(x));
      const buf = await download(x.files[0].url);
      starts(buf, scope);
      assert.deepEqual(Object.keys((parse(buf, { columns: true, bom: true }) as Array<Record<string, string>>)[0]!), fields, scope);
    }
    const plain = await download((await exportAndWait({ startDate: today, endDate: today, format: 'csv', fields: ['id'] })).files[0].url);
    assert.equal(plain.subarray(0, 3).toString(), 'id\r', 'no mark unless asked for');
    for (const [body, re] of [[{ format: 'jsonl', bom: true }, /bom: a byte order mark applies to CSV only/], [{ format: 'csv', bom: 'yes' }, /bom: expected true or false/]] as const) {
      const r = await fetch(`${s.url}/api/v1/exports`, { method: 'POST', headers: auth(), body: JSON.stringify({ startDate: today, endDate: today, ...body }) });
      assert.equal(r.status, 400);
      assert.match((await r.json()).error.message, re);
    }
  });
  it('aliases in any script name the columns and keys of every format', async () => {
    const fields = [{ fieldName: 'id', aliasName: 'Café' }, { fieldName: 'event', aliasName: '国家' }, { fieldName: 'viewerName', aliasName: 'हिन्दी नाम' }];
    const names = fields.map((f) => f.aliasName);
    const csv = await exportAndWait({ startDate: yesterday, endDate: today, format: 'csv', bom: true, fields });
    assert.deepEqual(Object.keys((parse(await download(csv.files[0].url), { columns: true, bom: true }) as Array<Record<string, string>>)[0]!), names);
    const jsonl = await exportAndWait({ startDate: yesterday, endDate: today, format: 'jsonl', fields });
    assert.deepEqual(Object.keys(JSON.parse((await download(jsonl.files[0].url)).toString('utf8').split('\n')[0]!)), names);
    const pq = await exportAndWait({ startDate: yesterday, endDate: today, format: 'parquet', fields });
    const p = join(mkdtempSync(join(tmpdir(), 'alias-')), 'a.parquet');
    writeFileSync(p, await download(pq.files[0].url));
    const c = await (await DuckDBInstance.create(':memory:')).connect();
    assert.deepEqual((await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${p}')`)).getRowObjectsJS().map((r) => r.column_name), names);
  });
  it('views scope exports view records', async () => {
    const e = await exportAndWait({ startDate: today, endDate: today, format: 'jsonl', scope: 'views', fields: ['viewId', 'sessionId', 'counted', 'hm', 'uniqueSeconds'] });
    const all: any[] = [];
    for (const f of e.files) all.push(...(await download(f.url)).toString('utf8').trim().split('\n').map((l: string) => JSON.parse(l)));
    assert.equal(all.length, 11);
    const s0 = all.find((r) => r.sessionId === 's0');
    assert.deepEqual([s0.counted, s0.hm, s0.uniqueSeconds], [true, '0-5', 6]);
  });
  it('refuses bad requests with a message', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ startDate: '2026-01-01', endDate: '2026-02-15' }, /30 days/],
      [{ startDate: '2020-01-01', endDate: '2020-01-02' }, /raw events are kept 90 days/],
      // the day of now - 90 days: its first hours are older than the sweeper keeps
      [{ startDate: dayOf(Date.now() - 90 * DAY), endDate: dayOf(Date.now() - 89 * DAY) }, /raw events are kept 90 days; the earliest date accepted is/],
      [{ startDate: today }, /endDate/],
      [{ startDate: today, endDate: today, fields: ['nope'] }, /unknown field "nope"/],
      [{ startDate: today, endDate: today, fields: ['id', 'id'] }, /twice/],
      [{ startDate: today, endDate: today, format: 'pdf' }, /format/],
      [{ startDate: today, endDate: today, format: 'parquet', gzip: true }, /gzip: a Parquet file is compressed already/],
      [{ startDate: today, endDate: today, format: 'xlsx', gzip: true }, /gzip: an XLSX file is compressed already/],
      [{ startDate: today, endDate: today, types: ['weird'] }, /types/],
      [{ startDate: today, endDate: today, filters: { color: 'red' } }, /filters.color/],
      // output names that differ only in case (a JSON export failed on them, a CSV renamed the second)
      [{ startDate: today, endDate: today, fields: [{ fieldName: 'id', aliasName: 'Name' }, { fieldName: 'event', aliasName: 'name' }] }, /"name" is used twice \(as "Name"; names are compared ignoring case\)/],
      [{ startDate: today, endDate: today, scope: 'videos', fields: [{ fieldName: 'content_id', aliasName: 'Id' }, { fieldName: 'title', aliasName: 'id' }] }, /ignoring case/],
      // a misspelt key of a field (it was dropped, and the column kept its name)
      [{ startDate: today, endDate: today, fields: [{ fieldName: 'country', alias: 'Land' }] }, /^fields\[0\]: "alias" is not a key of a field; a field takes fieldName and aliasName/],
      // types outside the events scope (accepted and ignored: every record came out)
      [{ startDate: today, endDate: today, scope: 'views', types: ['ads'] }, /^types: chooses raw events by category, in the events scope only; leave it out for scope views/],
      // a folder the catalog cannot hold (the export came out empty)
      [{ startDate: today, endDate: today, filters: { folder: 'courses/basics/' } }, /^filters\.folder: "courses\/basics\/" is not a folder path; expected names joined by "\/"/],
      [{ startDate: today, endDate: today, filters: { folder: '/a' } }, /not a folder path/],
      [{ startDate: today, endDate: today, filters: { folder: 'a//b' } }, /not a folder path/],
      [{ startDate: today, endDate: today, fields: [{ fieldName: 'id', aliasName: '1st' }] }, /aliasName: "1st" must be 1–64 characters: letters and digits \(of any script\)/],
      [{ startDate: today, endDate: today, fields: [{ fieldName: 'id', aliasName: 'a,b' }] }, /aliasName/],
      // a long value is quoted cut to 80 characters
      [{ startDate: today, endDate: today, fields: ['x'.repeat(5000)] }, /^fields\[0\]: unknown field "x{79}… \(5002 characters\) for scope events/],
    ];
    for (const [body, re] of cases) {
      const r = await fetch(`${s.url}/api/v1/exports`, { method: 'POST', headers: auth(), body: JSON.stringify(body) });
      assert.equal(r.status, 400, JSON.stringify(body).slice(0, 200));
      const message = (await r.json()).error.message as string;
      assert.match(message, re);
      assert.ok(message.length < 400, `a short message: ${message.length} characters`);
    }
    const kept = await fetch(`${s.url}/api/v1/exports`, { method: 'POST', headers: auth(), body: JSON.stringify({ startDate: dayOf(Date.now() - 89 * DAY), endDate: dayOf(Date.now() - 88 * DAY) }) });
    assert.equal(kept.status, 202, 'the next day is kept whole');
  });
  it('downloads resume: one byte range (206), If-Range, ETag (304), a range past the end (416)', async () => {
    const e = await exportAndWait({ startDate: yesterday, endDate: today, format: 'jsonl', fields: ['id', 'event', 'viewerName'] });
    const f = e.files[0];
    const whole = await download(f.url);
    assert.equal(whole.length, f.size);
    const get = (headers: Record<string, string>, method = 'GET') => fetch(f.url, { method, headers });
    const head = await get({}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('accept-ranges'), 'bytes');
    assert.equal(head.headers.get('content-length'), String(f.size));
    assert.equal(head.headers.get('content-type'), 'application/x-ndjson');
    assert.equal(head.headers.get('cache-control'), 'private, no-cache', 'viewers\' data: revalidated, never kept by a shared cache');
    const etag = head.headers.get('etag')!;
    assert.ok(etag && head.headers.get('last-modified'));
    // A download cut off after 100 bytes goes on from byte 100, and the pieces make the file.
    const rest = await get({ range: 'bytes=100-' });
    assert.equal(rest.status, 206);
    assert.equal(rest.headers.get('content-range'), `bytes 100-${f.size - 1}/${f.size}`);
    assert.match(rest.headers.get('content-disposition')!, /^attachment; filename="part-00001\.jsonl"$/);
    const joined = Buffer.concat([whole.subarray(0, 100), Buffer.from(await rest.arrayBuffer())]);
    assert.equal(createHash('sha256').update(joined).digest('hex'), f.sha256);
    const first = await get({ range: 'bytes=0-9' });
    assert.deepEqual([first.status, Buffer.from(await first.arrayBuffer())], [206, whole.subarray(0, 10)]);
    const last = await get({ range: 'bytes=-5' });
    assert.deepEqual([last.status, Buffer.from(await last.arrayBuffer())], [206, whole.subarray(-5)]);
    // If-Range with the file's ETag gives the range; with another, the whole file.
    assert.equal((await get({ range: 'bytes=0-9', 'if-range': etag })).status, 206);
    const stale = await get({ range: 'bytes=0-9', 'if-range': '"other"' });
    assert.deepEqual([stale.status, Buffer.from(await stale.arrayBuffer()).length], [200, f.size]);
    // (fetch adds Cache-Control: no-cache to a conditional request, which asks for the file again: 200)
    const same = await get({ 'if-none-match': etag, 'cache-control': 'max-age=0' });
    assert.deepEqual([same.status, same.headers.get('content-disposition'), (await same.arrayBuffer()).byteLength], [304, null, 0]);
    const past = await get({ range: `bytes=${f.size}-` });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), `bytes */${f.size}`);
    const body = await past.json();
    assert.equal(body.error.code, 'range_not_satisfiable');
    assert.match(body.error.message, new RegExp(`not a byte range of this file \\(${f.size} bytes\\)`));
    // The link is still checked first: a range does not get around it.
    const forged = new URL(f.url);
    forged.searchParams.set('sig', 'A'.repeat(forged.searchParams.get('sig')!.length));
    assert.equal((await fetch(forged, { headers: { range: 'bytes=0-9' } })).status, 403);
  });
  it('signed links: any byte changed → 403, past expiry → 410', async () => {
    const e = await exportAndWait({ startDate: today, endDate: today, format: 'csv', fields: ['id'] });
    const url = new URL(e.files[0].url);
    const sig = url.searchParams.get('sig')!;
    for (let i = 0; i < sig.length; i++) {
      const bad = new URL(url);
      bad.searchParams.set('sig', sig.slice(0, i) + (sig[i] === 'A' ? 'B' : 'A') + sig.slice(i + 1));
      assert.equal((await fetch(bad)).status, 403);
    }
    const later = new URL(url);
    later.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 1));
    assert.equal((await fetch(later)).status, 403);
    const padded = new URL(url); // the same number, other digits
    padded.searchParams.set('expires', `0${url.searchParams.get('expires')}`);
    assert.equal((await fetch(padded)).status, 403);
    const other = new URL(url.toString().replace('part-00001', 'part-00002'));
    assert.equal((await fetch(other)).status, 403);
    // A link missing expires or sig is refused as an altered one (403, not 400), in the same shape.
    for (const drop of ['expires', 'sig']) {
      const cut = new URL(url);
      cut.searchParams.delete(drop);
      const r = await fetch(cut);
      assert.equal(r.status, 403, drop);
      assert.equal((await r.json()).error.code, 'forbidden');
    }
    clockOffset = 7 * DAY + 1000;
    try {
      assert.equal((await fetch(url)).status, 410);
      const again = await (await fetch(`${s.url}/api/v1/exports/${e.id}`, { headers: auth() })).json();
      assert.equal(again.status, 'expired');
    } finally {
      clockOffset = 0;
    }
  });

  it('OpenAPI: the download links need expires and sig, and answer the file, 403 or 410; the shape of an export', async () => {
    const doc = await (await fetch(`${s.url}/api/v1/openapi.json`)).json();
    assert.match(doc.info.description, /JSON in UTF-8 \(bytes that are not UTF-8: 400; another charset, unless the text is all ASCII: 415\)/, 'the body rules are documented');
    for (const [path, type] of [['/downloads/{runId}/{name}', 'text/csv; charset=utf-8'], ['/downloads/reports/{id}/{name}', 'application/zip']]) {
      const op = doc.paths[path].get;
      assert.deepEqual(op.parameters.filter((p: any) => p.in === 'query').map((p: any) => [p.name, p.required]), [['expires', true], ['sig', true]], path);
      assert.deepEqual(Object.keys(op.responses), ['200', '206', '304', '403', '410', '412', '416'], path);
      assert.ok(op.responses['200'].content[type], path);
      assert.deepEqual(Object.keys(op.responses['410'].content['application/json'].schema.properties.error.properties), ['code', 'message'], path);
    }
    const one = doc.paths['/api/v1/exports/{id}'].get.responses['200'].content['application/json'].schema;
    assert.deepEqual(one.properties.status.enum, ['pending', 'running', 'completed', 'failed', 'expired']);
    assert.deepEqual(Object.keys(one.properties), ['id', 'createdAt', 'scope', 'format', 'dialect', 'status', 'rows', 'period', 'files', 'manifest', 'error', 'filesRemoved', 'attempts']);
    assert.ok(doc.paths['/api/v1/exports'].get.responses['200'].content['application/json'].schema.properties.data);
    assert.ok(doc.paths['/api/v1/fields'].get.responses['200'].content['application/json'].schema.properties.data);
  });
});
