/**
 * Where the bare store's insert time goes: the real `store.events.insert`, then its steps one by
 * one on an identical table — pulling values out of the events (getters, BigInt, timestamps,
 * JSON.stringify), the row-by-row appender calls, flushSync, closeSync, COMMIT — and, for
 * comparison, the same rows appended column-wise as DuckDB data chunks. Same run, same rows,
 * batches of 5000, medians of BENCH_REPS repetitions after a warm-up.
 *
 *   node --expose-gc --import tsx bench/appender.ts
 */
import {
  BIGINT, BOOLEAN, DOUBLE, DuckDBDataChunk, DuckDBInstance, DuckDBTimestampValue, TIMESTAMP, VARCHAR,
  type DuckDBAppender, type DuckDBConnection, type DuckDBType, type DuckDBValue,
} from '@duckdb/node-api';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint } from '../src/collector/dedupe.ts';
import type { StoredEvent } from '../src/events/types.ts';
import { openDuckDbStore } from '../src/storage/duckdb/index.ts';
import { median, saveResult } from './lib.ts';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const BATCH = Number(process.env.BENCH_BATCH ?? 5000);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);

type Kind = 'str' | 'num' | 'bool' | 'ts' | 'big';
/** The same columns, order and conversions as src/storage/duckdb/events.ts. */
const COLUMNS: Array<[Kind, (e: StoredEvent) => unknown]> = [
  ['big', (e) => e.seq], ['str', (e) => e.accountId], ['str', (e) => e.id], ['big', (e) => e.fp], ['str', (e) => e.event],
  ['ts', (e) => e.timestamp], ['ts', (e) => e.receivedAt], ['str', (e) => e.contentId], ['str', (e) => e.sessionId],
  ['str', (e) => e.userId], ['str', (e) => e.email], ['str', (e) => e.viewerAccountId], ['str', (e) => e.viewerName],
  ['str', (e) => e.deviceType], ['num', (e) => e.currentTime], ['str', (e) => e.url], ['str', (e) => e.referrer],
  ['str', (e) => e.domain], ['str', (e) => e.title], ['num', (e) => e.duration],
  ['str', (e) => (e.data === null ? null : JSON.stringify(e.data))], ['str', (e) => e.ip], ['str', (e) => e.userAgent],
  ['str', (e) => e.country], ['str', (e) => e.region], ['str', (e) => e.city], ['num', (e) => e.lat], ['num', (e) => e.lon],
  ['str', (e) => e.org], ['str', (e) => e.browser], ['str', (e) => e.os], ['str', (e) => e.platform], ['bool', (e) => e.isBot],
];
const TYPE: Record<Kind, DuckDBType> = { str: VARCHAR, num: DOUBLE, bool: BOOLEAN, ts: TIMESTAMP, big: BIGINT };

function convert(kind: Kind, v: unknown): DuckDBValue {
  if (v === null || v === undefined) return null;
  if (kind === 'big') return BigInt(v as number);
  if (kind === 'ts') return new DuckDBTimestampValue(BigInt(v as number) * 1000n);
  return v as DuckDBValue;
}

let seqNo = 0;
function rows(n: number): StoredEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const k = seqNo++;
    const id = `b${k}`;
    return {
      seq: k + 1, accountId: 'acc_bench', id, clientId: true, fp: fingerprint('acc_bench', id), event: i % 3 ? 'watchProgress' : 'impression',
      timestamp: Date.now() - 5000, receivedAt: Date.now(), contentId: `video-${k % 50}`, sessionId: `s${k >> 6}`, userId: `u${k >> 8}`,
      email: null, viewerAccountId: null, viewerName: null, deviceType: 'web', currentTime: null, url: `https://example.com/page/${k % 20}`,
      referrer: null, domain: 'example.com', title: null, duration: null, data: { from: i, to: i + 10 }, ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0', country: 'US', region: 'California', city: 'Mountain View', lat: 37.42,
      lon: -122.08, org: 'Example LLC', browser: 'Chrome', os: 'Linux', platform: 'desktop', isBot: false,
    } as StoredEvent;
  });
}

/** Per-step milliseconds for one batch appended row by row, as events.ts does. */
async function rowWise(conn: DuckDBConnection, batch: StoredEvent[]) {
  const t: Record<string, number> = {};
  let t0 = performance.now();
  await conn.run('BEGIN TRANSACTION');
  const app: DuckDBAppender = await conn.createAppender('events');
  t.begin = performance.now() - t0;
  t0 = performance.now();
  for (const e of batch) {
    for (const [kind, get] of COLUMNS) {
      const v = get(e);
      if (v === null || v === undefined) app.appendNull();
      else if (kind === 'str') app.appendVarchar(v as string);
      else if (kind === 'num') app.appendDouble(v as number);
      else if (kind === 'bool') app.appendBoolean(v as boolean);
      else if (kind === 'big') app.appendBigInt(BigInt(v as number));
      else app.appendTimestamp(new DuckDBTimestampValue(BigInt(v as number) * 1000n));
    }
    app.endRow();
  }
  t.appendLoop = performance.now() - t0;
  t0 = performance.now();
  app.flushSync();
  t.flush = performance.now() - t0;
  t0 = performance.now();
  app.closeSync();
  t.close = performance.now() - t0;
  t.gc = collect();
  t0 = performance.now();
  await conn.run('COMMIT');
  t.commit = performance.now() - t0;
  return t;
}

/** The same batch appended as column-wise data chunks (2048 rows each). */
async function columnWise(conn: DuckDBConnection, batch: StoredEvent[]) {
  const t: Record<string, number> = {};
  const types = COLUMNS.map(([k]) => TYPE[k]);
  await conn.run('BEGIN TRANSACTION');
  const app = await conn.createAppender('events');
  let t0 = performance.now();
  let build = 0;
  for (let off = 0; off < batch.length; off += 2048) {
    const part = batch.slice(off, off + 2048);
    const b0 = performance.now();
    const cols = COLUMNS.map(([kind, get]) => part.map((e) => convert(kind, get(e))));
    const chunk = DuckDBDataChunk.create(types, part.length);
    chunk.setColumns(cols);
    build += performance.now() - b0;
    app.appendDataChunk(chunk);
  }
  t.chunkBuild = build;
  t.chunkAppend = performance.now() - t0 - build;
  t0 = performance.now();
  app.flushSync();
  app.closeSync();
  t.flushClose = performance.now() - t0;
  t.gc = collect();
  t0 = performance.now();
  await conn.run('COMMIT');
  t.commit = performance.now() - t0;
  return t;
}

/**
 * With --expose-gc: a full collection of the garbage the append made, timed on its own, so that a
 * collection landing while COMMIT is awaited is not counted as COMMIT. 0 without the flag.
 */
function collect(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return 0;
  const t0 = performance.now();
  gc();
  return performance.now() - t0;
}

/** Only the JS side: getters and conversions, no DuckDB call. */
function extractOnly(batch: StoredEvent[]): number {
  const t0 = performance.now();
  let sink = 0;
  for (const e of batch) for (const [kind, get] of COLUMNS) if (convert(kind, get(e)) !== null) sink++;
  if (sink < 0) console.log(sink);
  return performance.now() - t0;
}

async function table(path: string): Promise<{ inst: DuckDBInstance; conn: DuckDBConnection }> {
  const ddl = /CREATE TABLE events \([\s\S]*?\n\);/.exec(readFileSync('src/storage/duckdb/migrations/001_init.sql', 'utf8'))![0];
  const inst = await DuckDBInstance.create(path);
  const conn = await inst.connect();
  await conn.run(ddl);
  return { inst, conn };
}

function sum(steps: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of steps) for (const [k, v] of Object.entries(s)) out[k] = (out[k] ?? 0) + v;
  return out;
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'reelstat-bench-appender-'));
  const reps: Array<Record<string, number>> = [];
  try {
    const store = await openDuckDbStore(join(dir, 'store.duckdb'));
    await store.migrate();
    const a = await table(join(dir, 'rowwise.duckdb'));
    const b = await table(join(dir, 'columnwise.duckdb'));
    for (let rep = 0; rep <= REPS; rep++) {
      const batches = Array.from({ length: BATCHES }, () => rows(BATCH));
      const n = BATCH * BATCHES;
      const r: Record<string, number> = {};
      let t0 = performance.now();
      for (const x of batches) await store.events.insert(x, []);
      r.storeInsertPerSec = n / ((performance.now() - t0) / 1000);
      r.extractMsPerBatch = batches.reduce((s, x) => s + extractOnly(x), 0) / BATCHES;
      const rw: Array<Record<string, number>> = [];
      t0 = performance.now();
      for (const x of batches) rw.push(await rowWise(a.conn, x));
      r.rowWisePerSec = n / ((performance.now() - t0) / 1000);
      for (const [k, v] of Object.entries(sum(rw))) r[`rowWise_${k}MsPerBatch`] = v / BATCHES;
      const cw: Array<Record<string, number>> = [];
      t0 = performance.now();
      for (const x of batches) cw.push(await columnWise(b.conn, x));
      r.columnWisePerSec = n / ((performance.now() - t0) / 1000);
      for (const [k, v] of Object.entries(sum(cw))) r[`columnWise_${k}MsPerBatch`] = v / BATCHES;
      if (rep > 0) reps.push(r);
    }
    await store.close();
    a.conn.closeSync();
    a.inst.closeSync();
    b.conn.closeSync();
    b.inst.closeSync();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const out: Record<string, number> = {};
  for (const k of Object.keys(reps[0])) out[k] = +median(reps.map((r) => r[k])).toFixed(k.endsWith('PerSec') ? 0 : 2);
  console.table(out);
  console.log('saved', saveResult('appender', { batch: BATCH, batchesPerRep: BATCHES, reps: REPS, ...out }));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
