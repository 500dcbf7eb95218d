/**
 * E1–E5: exports of raw events and view records in each format, against DuckDB's own COPY … TO of
 * the same rows (same order, all columns, no formatting) in the same run, with peak RSS. Needs a data
 * directory seeded by `npm run bench -- query`: BENCH_DATA_DIR=/path (the query bench keeps a
 * directory it was given).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { resolveFields } from '../src/exports/fields.ts';
import { writeRun, type ExportFormat } from '../src/exports/run.ts';
import { Db } from '../src/storage/duckdb/db.ts';
import { openDuckDbStore } from '../src/storage/duckdb/index.ts';
import { saveResult } from './lib.ts';

let peak = 0;
setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10).unref();

async function measure(fn: () => Promise<unknown>): Promise<{ seconds: number; peakMb: number }> {
  peak = process.memoryUsage().rss;
  const t0 = performance.now();
  await fn();
  return { seconds: (performance.now() - t0) / 1000, peakMb: Math.round(Math.max(peak, process.memoryUsage().rss) / 1e6) };
}

const FORMATS: ExportFormat[] = ['csv', 'jsonl', 'parquet'];
const COPY: Record<string, string> = { csv: 'FORMAT CSV, HEADER true', jsonl: 'FORMAT JSON', parquet: 'FORMAT PARQUET, COMPRESSION zstd' };
const ORDER: Record<string, string> = { events: 'ts, seq', view_records: 'started_at, view_id' };

export async function run() {
  const dataDir = process.env.BENCH_DATA_DIR;
  if (!dataDir) throw new Error('set BENCH_DATA_DIR to a data directory seeded by `npm run bench -- query`');
  const sizes = (process.env.BENCH_EXPORT_ROWS ?? '1000000,10000000').split(',').map(Number);
  const config = loadConfig({ REELSTAT_DATA_DIR: dataDir });
  const out = mkdtempSync(join(tmpdir(), 'reelstat-xbench-'));
  const plan = (['events', 'views'] as const).flatMap((scope) => sizes.flatMap((rows) => FORMATS.map((format) => ({ scope, rows, format }))));

  // Ceilings first, with the bare database.
  const db = await Db.open(config.dbPath);
  const accountId = (await db.one<{ id: string }>('SELECT id FROM accounts ORDER BY created_at LIMIT 1'))!.id;
  const counts = {
    events: (await db.one<{ n: number }>('SELECT count(*) AS n FROM events WHERE account_id = ?', [accountId]))!.n,
    views: (await db.one<{ n: number }>('SELECT count(*) AS n FROM view_records WHERE account_id = ?', [accountId]))!.n,
  };
  const todo = plan.filter((p) => counts[p.scope] >= p.rows);
  const ceilings = new Map<string, number>();
  const bounds = new Map<string, number>();
  for (const p of todo) {
    const table = p.scope === 'events' ? 'events' : 'view_records';
    const col = p.scope === 'events' ? 'ts' : 'started_at';
    const key = `${p.scope}/${p.rows}`;
    if (!bounds.has(key)) {
      const b = await db.one<{ t: number | null }>(`SELECT ${col} AS t FROM ${table} WHERE account_id = ? ORDER BY ${ORDER[table]} LIMIT 1 OFFSET ${p.rows}`, [accountId]);
      bounds.set(key, b?.t ?? Date.now() + 86_400_000);
    }
    const path = join(out, `ceiling.${p.format}`);
    const m = await measure(() => db.run(`COPY (SELECT * FROM ${table} WHERE account_id = ? AND ${col} < ? ORDER BY ${ORDER[table]}) TO '${path}' (${COPY[p.format]})`, [accountId, new Date(bounds.get(key)!)]));
    ceilings.set(`${p.scope}/${p.rows}/${p.format}`, m.seconds);
    rmSync(path, { force: true });
  }
  db.close();

  const store = await openDuckDbStore(config.dbPath);
  const results: Array<Record<string, unknown>> = [];
  for (const p of todo) {
    const fields = resolveFields(p.scope, undefined).map((f) => ({ name: f.def.name, as: f.as }));
    const runId = `${p.scope}-${p.format}-${p.rows}`;
    const m = await measure(() => writeRun(store, out, {
      runId, format: p.format, gzip: false, zip: false, partRows: p.rows, period: { from: '', to: '' },
      source: { scope: p.scope, accountId, fromMs: 0, toMs: bounds.get(`${p.scope}/${p.rows}`)!, filters: {}, fields, neutralize: p.format === 'csv' },
    }));
    const seconds = m.seconds;
    const ceiling = ceilings.get(`${p.scope}/${p.rows}/${p.format}`)!;
    results.push({ scope: p.scope, rows: p.rows, format: p.format, seconds: +seconds.toFixed(2), rowsPerSec: Math.round(p.rows / seconds), copySeconds: +ceiling.toFixed(2), ratioToCopy: +(ceiling / seconds).toFixed(2), peakRssMb: m.peakMb });
    console.table(results.slice(-1));
    rmSync(join(out, runId), { recursive: true, force: true });
  }
  await store.close();
  rmSync(out, { recursive: true, force: true });
  console.table(results);
  console.log('saved', saveResult('export', { counts, results }));
  return results;
}
