/**
 * One export measurement in a process of its own, so that its peak RSS (VmHWM) is the export's:
 *   node build/bench/export-child.mjs '{"mode":"export"|"copy", "dbPath", "out", "scope", "format", "accountId", "toMs", "partRows", "filters"?}'
 * (bundled by bench/export.ts; `node --import tsx bench/export-child.ts` runs it too, ~25 MB higher).
 * Prints one JSON line: {"seconds", "rows", "peakRssMb", "baseRssMb"}.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { resolveFields } from '../src/exports/fields.ts';
import { writeRun, type ExportFormat } from '../src/exports/run.ts';
import { Db } from '../src/storage/duckdb/db.ts';
import { openDuckDbStore } from '../src/storage/duckdb/index.ts';
import type { RecordFilters } from '../src/storage/types.ts';

interface Job { mode: 'export' | 'copy'; dbPath: string; out: string; scope: 'events' | 'views' | 'sessions'; format: ExportFormat; accountId: string; toMs: number; partRows: number; filters?: RecordFilters }

const job = JSON.parse(process.argv[2]!) as Job;
const mb = (field: string) => Math.round(Number(/(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(field))!)![1]) / 1024);

// DuckDB's own COPY … TO of the same rows (all columns) in the export's order, storage order (events
// by seq, view records by rowid), which DuckDB keeps through a scan and a filter without ORDER BY
// (preserve_insertion_order); XLSX has no engine writer, so its ceiling is the CSV COPY. Both run
// with the server's DuckDB limits (REELSTAT_DUCKDB_MEMORY_LIMIT, REELSTAT_DUCKDB_THREADS).
const COPY: Record<string, string> = { csv: 'FORMAT CSV, HEADER true', jsonl: 'FORMAT JSON', parquet: 'FORMAT PARQUET, COMPRESSION zstd', xlsx: 'FORMAT CSV, HEADER true' };
const TABLE = { events: ['events', 'ts'], views: ['view_records', 'started_at'] } as const;
const limits = loadConfig().duckdb;

let rows = 0;
let seconds = 0;
const base = mb('VmRSS');
if (job.mode === 'copy') {
  const db = await Db.open(job.dbPath, 4, limits);
  if (job.scope === 'sessions') throw new Error('no ceiling for sessions (an aggregate)');
  const [table, col] = TABLE[job.scope];
  const path = join(job.out, `ceiling.${job.format}`);
  const t0 = performance.now();
  rows = await db.run(`COPY (SELECT * FROM ${table} WHERE account_id = ? AND ${col} < ?) TO '${path}' (${COPY[job.format]})`, [job.accountId, new Date(job.toMs)]);
  seconds = (performance.now() - t0) / 1000;
  rmSync(path, { force: true });
  db.close();
} else {
  const store = await openDuckDbStore(job.dbPath, limits);
  const fields = resolveFields(job.scope, undefined).map((f) => ({ name: f.def.name, as: f.as }));
  const runId = `bench-${job.scope}-${job.format}`;
  const t0 = performance.now();
  const r = await writeRun(store, job.out, {
    runId, format: job.format, gzip: false, zip: false, partRows: job.partRows, period: { from: '', to: '' },
    source: { scope: job.scope, accountId: job.accountId, fromMs: 0, toMs: job.toMs, filters: job.filters ?? {}, fields, neutralize: job.format === 'csv' },
  });
  seconds = (performance.now() - t0) / 1000;
  rows = r.rows;
  rmSync(join(job.out, runId), { recursive: true, force: true });
  await store.close();
}
process.stdout.write(JSON.stringify({ seconds, rows, peakRssMb: mb('VmHWM'), baseRssMb: base }) + '\n');
process.exit(0);
