/**
 * Q1: queries on 10M seeded events. Each endpoint is timed through HTTP and against the storage
 * calls it makes (the raw SQL), in the same run: p50/p95 over 20 runs after 3 warm-ups.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { openDuckDbStore } from '../src/storage/duckdb/index.ts';
import type { RecordSet, Store } from '../src/storage/types.ts';
import { startServer } from '../src/server.ts';
import { materializeAll, seedCatalog, seedEvents } from './querydata.ts';
import { saveResult } from './lib.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const DAY = 86_400_000;
/** The 31-day Cincopa CSV is a bulk download (~1M rows at 10M events): fewer repetitions, judged by the API/raw ratio and rows/s. */
const CINCOPA_RUNS = Number(process.env.BENCH_CINCOPA_RUNS ?? 2);

async function time(fn: () => Promise<unknown>, runs = RUNS) {
  for (let i = 0; i < Math.min(3, runs); i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: +ms[Math.floor(runs / 2)].toFixed(1), p95: +ms[Math.min(runs - 1, Math.floor(runs * 0.95))].toFixed(1) };
}

async function listAll(store: Store, set: RecordSet) {
  let n = 0;
  await store.views.stream(set, { playedOnly: true, order: 'asc' }, async (rows) => {
    n += rows.length;
  });
  return n;
}

export async function run() {
  const total = Number(process.env.BENCH_EVENTS ?? 10_000_000);
  // BENCH_DATA_DIR reuses a data directory an earlier run seeded (it is kept then), to time queries again.
  const reuse = process.env.BENCH_DATA_DIR;
  const dataDir = reuse ?? mkdtempSync(join(tmpdir(), 'reelstat-qbench-'));
  const config = loadConfig({ REELSTAT_DATA_DIR: dataDir, PORT: '0', REELSTAT_LOG_LEVEL: 'warn', REELSTAT_COLLECT_IP_RATE: '0', REELSTAT_AUTH_MAX_FAILURES: '1000000' });
  const log = createLogger('warn');
  const now = Date.now();
  let written = 0;
  let seedSeconds = NaN;
  let materializeSeconds = NaN;
  let store: Store;
  if (!reuse) {
    // Bootstrap the account, then fill the store directly (ingest speed is the ingest bench's business).
    await (await startServer(config, log, { listen: false })).close();
  }
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
  store = await openDuckDbStore(config.dbPath);
  if (!reuse) {
    await seedCatalog(store, creds.id, now);
    let t0 = performance.now();
    written = await seedEvents(store, creds.id, total, now);
    seedSeconds = (performance.now() - t0) / 1000;
    materializeSeconds = await materializeAll(store, log);
    console.log(`seeded ${written} events in ${seedSeconds.toFixed(1)} s; materialized in ${materializeSeconds.toFixed(1)} s`);
  } else {
    written = await store.events.maxSeq();
  }
  const records = await store.views.count({ accountId: creds.id, fromMs: 0, toMs: now + DAY, tz: 'UTC', filters: {} }, { playedOnly: false });

  const today = new Date(now).toISOString().slice(0, 10);
  const from30 = new Date(now - 29 * DAY).toISOString().slice(0, 10);
  const set: RecordSet = { accountId: creds.id, fromMs: Date.parse(from30), toMs: Date.parse(today) + DAY, tz: 'UTC', filters: {} };
  const set31: RecordSet = { ...set, fromMs: Date.parse(today) - 30 * DAY };
  const one: RecordSet = { ...set, filters: { contentIds: ['video-0'] } };
  const raw = {
    overview: () => Promise.all([store.views.aggregate(set, []), store.views.loads(set, [])]),
    groupVideo: () => Promise.all([store.views.aggregate(set, ['video_id']), store.views.loads(set, ['video_id'])]),
    groupDate: () => Promise.all([store.views.aggregate(set, ['date']), store.views.loads(set, ['date'])]),
    groupCountry: () => Promise.all([store.views.aggregate(set, ['country']), store.views.loads(set, ['country'])]),
    nativeTop25: () => Promise.all([store.views.aggregate(set, ['video_id']), store.views.loads(set, ['video_id'])]),
    cincopa31: () => listAll(store, set31),
    wistiaPage: () => Promise.all([store.views.list(one, { playedOnly: false, order: 'desc', limit: 100, offset: 0 })]),
  };
  const cincopaRows = await store.views.count(set31, { playedOnly: true });
  const rawTimes: Record<string, { p50: number; p95: number }> = {};
  for (const [k, fn] of Object.entries(raw)) rawTimes[k] = await time(fn, k === 'cincopa31' ? CINCOPA_RUNS : RUNS);
  console.log('raw', rawTimes);
  await store.close();

  const server = await startServer({ ...config, port: 0 }, log);
  const bearer = { authorization: `Bearer ${creds.apiToken}` };
  const basic = { authorization: `Basic ${Buffer.from(`api:${creds.apiToken}`).toString('base64')}` };
  const get = (path: string, headers: Record<string, string>) => async () => {
    const r = await fetch(server.url + path, { headers });
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
  };
  const q = `from=${from30}&to=${today}`;
  const api = {
    overview: get(`/v1/analytics/overview?${q}`, bearer),
    groupVideo: get(`/v1/analytics?${q}&group_by=video_id&order=views.desc&per_page=10`, bearer),
    groupDate: get(`/v1/analytics?${q}&group_by=date&per_page=100`, bearer),
    groupCountry: get(`/v1/analytics?${q}&group_by=country&per_page=100`, bearer),
    nativeTop25: get(`/api/v1/stats?${q}&dimensions=video_id&limit=25`, bearer),
    cincopa31: get(`/ohm_get_v3.aspx?t=by_uid_csv&uid=${creds.uid}&p=31-0`, {}),
    wistiaPage: get(`/stats/medias/video-0/events.json?limit=100`, basic),
  };
  const apiTimes: Record<string, { p50: number; p95: number }> = {};
  for (const [k, fn] of Object.entries(api)) {
    try {
      apiTimes[k] = await time(fn, k === 'cincopa31' ? CINCOPA_RUNS : RUNS);
    } catch (err) {
      console.error(`${k}: ${(err as Error).message}`);
      apiTimes[k] = { p50: NaN, p95: NaN };
    }
  }
  await server.close();
  if (!reuse && !process.env.BENCH_KEEP) rmSync(dataDir, { recursive: true, force: true });
  else console.log(`data kept in ${dataDir} (BENCH_DATA_DIR=${dataDir} times the queries again)`);

  const table = Object.keys(raw).map((k) => ({
    query: k, apiP50: apiTimes[k].p50, apiP95: apiTimes[k].p95, rawP50: rawTimes[k].p50, rawP95: rawTimes[k].p95,
    ratioP50: +(apiTimes[k].p50 / rawTimes[k].p50).toFixed(2), p95Met: apiTimes[k].p95 <= 150, ratioMet: apiTimes[k].p50 <= 1.2 * rawTimes[k].p50,
  }));
  console.table(table);
  const cincopaRowsPerSec = Math.round(cincopaRows / (apiTimes.cincopa31.p50 / 1000));
  console.log(`cincopa31: ${cincopaRows} rows, ${cincopaRowsPerSec} rows/s through the API`);
  const out = { events: written, viewRecords: records, cincopaRows, cincopaRowsPerSec, seedSeconds: +seedSeconds.toFixed(1), materializeSeconds: +materializeSeconds.toFixed(1), queries: table };
  console.log(JSON.stringify(out, null, 2));
  console.log('saved', saveResult('query', out));
  return out;
}
