// R16: an export taken while ingest goes on into the same time range is one consistent snapshot.
// One client sends batches one after the other (each acknowledged, so committed, before the next);
// every export of that range, in any format, must then hold exactly the batches committed before
// its snapshot: whole batches, a prefix of the sending order, in arrival order, no gap, no partial
// batch, across all of its parts.
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, it } from 'node:test';
import { slicing } from '../src/storage/duckdb/exportranges.ts';
import { collect, runExport, startTestServer, type TestServer } from './helpers/server.ts';
import { download, parseCsv } from './helpers/files.ts';

let s: TestServer;
const BATCH = 250;
const today = new Date().toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

before(async () => {
  slicing.rows = 97; // parts of 400 rows are read in slices of 97: every bound is crossed
  s = await startTestServer({ REELSTAT_EXPORT_PART_ROWS: '400', REELSTAT_COLLECT_IP_RATE: '0', REELSTAT_COLLECT_ACCOUNT_RATE: '0' });
});
after(async () => {
  await s.stop();
  slicing.rows = 262_144;
});

const idOf = (b: number, i: number) => `b${String(b).padStart(4, '0')}-${String(i).padStart(4, '0')}`;

it('exports taken during ingest hold whole committed batches, a prefix of arrival order, across parts', { timeout: 180_000 }, async () => {
  const t0 = Date.now() - 3_600_000;
  let sent = 0;
  let stop = false;
  const ingest = (async () => {
    for (let b = 0; !stop && b < 400; b++) {
      const events = Array.from({ length: BATCH }, (_, i) => ({
        id: idOf(b, i), event: 'impression', timestamp: t0 + ((b * 7919 + i * 104_729) % 3_000_000), contentId: `v${i % 5}`, sessionId: `s${b}`,
      }));
      const r = await collect(s.url, events, { 'x-reelstat-key': s.writeKey });
      assert.equal(r.status, 202);
      sent = b + 1;
    }
  })();
  try {
    while (sent < 4) await new Promise((r) => setTimeout(r, 20));
    for (const format of ['csv', 'jsonl'] as const) {
      for (let round = 0; round < 2; round++) {
        const floor = sent; // batches acknowledged before the export was asked for
        const e = await runExport(s.url, s.token, { startDate: yesterday, endDate: today, format, fields: ['id', 'timestamp'] });
        assert.equal(e.status, 'completed', JSON.stringify(e));
        const ids: string[] = [];
        for (const f of e.files) {
          const body = await download(f.url);
          const rows = format === 'csv' ? parseCsv(body).map((r) => r.id!) : body.toString('utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).id as string);
          assert.equal(rows.length, f.rows, 'a part holds the rows its manifest says');
          ids.push(...rows);
        }
        assert.equal(ids.length, e.rows);
        assert.equal(ids.length % BATCH, 0, `whole batches only (${ids.length} rows)`);
        const batches = ids.length / BATCH;
        assert.ok(batches >= floor, `every batch acknowledged before the export is in it (${batches} < ${floor})`);
        const expected = Array.from({ length: batches }, (_, b) => Array.from({ length: BATCH }, (_, i) => idOf(b, i))).flat();
        assert.deepEqual(ids, expected, 'the first batches, in arrival order, nothing missing, nothing twice');
        assert.ok(e.files.length > 1, 'spread over several parts');
      }
    }
  } finally {
    stop = true;
    await ingest;
  }
  assert.ok(sent > 4, 'ingest went on during the exports');
});

it('the same export twice writes the same bytes, sliced and gzipped alike', { timeout: 300_000 /* ~65–90 s alone on two cores */ }, async () => {
  const body = { startDate: yesterday, endDate: today, fields: ['id', 'event', 'timestamp', 'contentId', 'sessionId'] };
  const plain = [await runExport(s.url, s.token, { ...body, format: 'csv' }), await runExport(s.url, s.token, { ...body, format: 'csv' })];
  const gz = await runExport(s.url, s.token, { ...body, format: 'csv', gzip: true });
  const jsonl = [await runExport(s.url, s.token, { ...body, format: 'jsonl' }), await runExport(s.url, s.token, { ...body, format: 'jsonl' })];
  // View records lie scattered over the table (the materializer rewrites them): their slices are found by query.
  const views = [await runExport(s.url, s.token, { ...body, scope: 'views', fields: ['viewId', 'sessionId', 'loads'], format: 'csv' }),
    await runExport(s.url, s.token, { ...body, scope: 'views', fields: ['viewId', 'sessionId', 'loads'], format: 'csv' })];
  assert.ok(views[0].rows > 400 && views[0].files.length > 1, `views spread over parts (${views[0].rows} rows)`);
  const viewIds = (await Promise.all(views[0].files.map(async (f: any) => parseCsv(await download(f.url)).map((r) => r.viewId!)))).flat();
  assert.equal(new Set(viewIds).size, views[0].rows, 'every record once');
  for (const pair of [plain, jsonl, views]) assert.deepEqual(pair[0].files.map((f: any) => f.sha256), pair[1].files.map((f: any) => f.sha256));
  assert.ok(plain[0].files.length > 1);
  for (const [i, f] of gz.files.entries()) {
    const csv = gunzipSync(await download(f.url)).toString('utf8');
    assert.equal(csv, (await download(plain[0].files[i].url)).toString('utf8'), 'one gzip member holding the same CSV');
    assert.equal(csv.split('\r\n').filter((l) => l.startsWith('id,')).length, 1, 'one header a part');
  }
});
