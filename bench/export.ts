/**
 * E1–E5: exports of raw events and view records as CSV, JSON Lines, XLSX and Parquet, each against
 * DuckDB's own COPY … TO of the same rows (same order, all columns) in the same run. Every
 * measurement runs in a child process (bench/export-child.ts, bundled into plain JavaScript as the
 * server runs: lib.ts bundled) whose peak RSS (VmHWM) is reported.
 *
 *   npm run bench -- export
 *   BENCH_DATA_DIR=/path        reuse a directory seeded earlier (by this bench or the query bench)
 *   BENCH_EVENTS=10000000       events and view records to seed into a new directory (kept for reuse; path printed),
 *                               generated inside DuckDB (bench/exportdata.ts): 10M of each take about two minutes
 *   REELSTAT_DUCKDB_MEMORY_LIMIT, REELSTAT_DUCKDB_THREADS   the store's limits, as in the server (src/config.ts)
 *   BENCH_EXPORT_ROWS=1000000,10000000   row tiers (a tier the data cannot fill is skipped)
 *   BENCH_REPS=5                repetitions (median) at tiers under 5M rows; 1 above, after no warm-up
 *   BENCH_FORMATS=csv,jsonl,xlsx,parquet
 *   BENCH_SCOPES=events,views   also `sessions` (no ceiling: an aggregate; only E5 applies, at 10M)
 *   BENCH_NAME=export            results file: bench/results/<name>-<date>.json
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import type { ExportFormat } from '../src/exports/run.ts';
import { createLogger } from '../src/logger.ts';
import { startServer } from '../src/server.ts';
import { Db } from '../src/storage/duckdb/db.ts';
import { bundled, median, saveResult } from './lib.ts';
import { seedSyntheticCatalog, seedSyntheticEvents, seedSyntheticViews } from './exportdata.ts';

type Scope = 'events' | 'views' | 'sessions';
/** Per scope: its row count, and the time bound before which exactly its first N rows lie. */
const ROWS: Record<Scope, { count: string; bound: (n: number) => string }> = {
  events: { count: 'SELECT count(*) AS n FROM events WHERE account_id = ?', bound: (n) => `SELECT ts AS t FROM events WHERE account_id = ? ORDER BY ts, seq LIMIT 1 OFFSET ${n}` },
  views: { count: 'SELECT count(*) AS n FROM view_records WHERE account_id = ?', bound: (n) => `SELECT started_at AS t FROM view_records WHERE account_id = ? ORDER BY started_at, view_id LIMIT 1 OFFSET ${n}` },
  // a session belongs to the period of its first record
  sessions: {
    count: 'SELECT count(DISTINCT session_id) AS n FROM view_records WHERE account_id = ?',
    bound: (n) => `SELECT f AS t FROM (SELECT min(started_at) AS f FROM view_records WHERE account_id = ? GROUP BY session_id) ORDER BY f LIMIT 1 OFFSET ${n}`,
  },
};

async function seed(dataDir: string, total: number): Promise<void> {
  const config = loadConfig({ REELSTAT_DATA_DIR: dataDir, PORT: '0', REELSTAT_LOG_LEVEL: 'warn' });
  await (await startServer(config, createLogger('warn'), { listen: false })).close();
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
  const db = await Db.open(config.dbPath);
  const now = Date.now();
  const t0 = performance.now();
  await seedSyntheticCatalog(db, creds.id, now);
  await seedSyntheticEvents(db, creds.id, total, now, 0);
  await seedSyntheticViews(db, creds.id, total, now);
  await db.run('CHECKPOINT');
  await db.close();
  console.log(`seeded ${total} events and ${total} view records in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

function child(script: string, job: Record<string, unknown>): { seconds: number; rows: number; peakRssMb: number; baseRssMb: number } {
  const r = spawnSync(process.execPath, [script, JSON.stringify(job)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`export child failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

export async function run() {
  let dataDir = process.env.BENCH_DATA_DIR;
  if (!dataDir) {
    dataDir = mkdtempSync(join(tmpdir(), 'reelstat-xbench-data-'));
    console.log(`seeding ${dataDir} (kept: pass BENCH_DATA_DIR=${dataDir} to reuse it)`);
    await seed(dataDir, Number(process.env.BENCH_EVENTS ?? 10_000_000));
  }
  const tiers = (process.env.BENCH_EXPORT_ROWS ?? '1000000,10000000').split(',').map(Number);
  const formats = (process.env.BENCH_FORMATS ?? 'csv,jsonl,xlsx,parquet').split(',') as ExportFormat[];
  const reps = Number(process.env.BENCH_REPS ?? 5);
  const config = loadConfig({ REELSTAT_DATA_DIR: dataDir });
  const out = mkdtempSync(join(tmpdir(), 'reelstat-xbench-'));
  const script = await bundled('bench/export-child.ts');

  // Counts and, per tier, the time bound that selects exactly its first N rows (then the file is closed for the children).
  const db = await Db.open(config.dbPath);
  const accountId = (await db.one<{ id: string }>('SELECT id FROM accounts ORDER BY created_at LIMIT 1'))!.id;
  const scopes = (process.env.BENCH_SCOPES ?? 'events,views').split(',') as Scope[];
  const counts: Partial<Record<Scope, number>> = {};
  const bounds = new Map<string, number>();
  for (const scope of scopes) {
    if (!ROWS[scope]) throw new Error(`BENCH_SCOPES: ${scope} is not one of ${Object.keys(ROWS).join(', ')}`);
    const n = (counts[scope] = Number((await db.one<{ n: number }>(ROWS[scope].count, [accountId]))!.n));
    for (const rows of tiers) {
      if (n < rows) continue;
      const b = await db.one<{ t: number }>(ROWS[scope].bound(rows), [accountId]);
      bounds.set(`${scope}/${rows}`, b?.t ?? Date.UTC(9999, 0, 1));
    }
  }
  await db.close();
  const skipped = scopes.flatMap((scope) => tiers.filter((t) => counts[scope]! < t).map((t) => `${scope}/${t} (only ${counts[scope]} rows)`));
  if (skipped.length) console.log(`skipped: ${skipped.join(', ')}`);

  const results: Array<Record<string, unknown>> = [];
  for (const scope of scopes) {
    for (const rows of tiers) {
      const toMs = bounds.get(`${scope}/${rows}`);
      if (toMs === undefined) continue;
      for (const format of formats) {
        const job = { dbPath: config.dbPath, out, scope, format, accountId, toMs, partRows: config.exports.partRows };
        const n = rows >= 5_000_000 ? 1 : reps;
        const ceiling = scope !== 'sessions'; // an aggregate: DuckDB has no COPY of the same rows to compare with
        if (n > 1) { if (ceiling) child(script, { ...job, mode: 'copy' }); child(script, { ...job, mode: 'export' }); } // warm-up
        const ours: ReturnType<typeof child>[] = [];
        const copies: ReturnType<typeof child>[] = [];
        for (let i = 0; i < n; i++) {
          if (ceiling) copies.push(child(script, { ...job, mode: 'copy' }));
          ours.push(child(script, { ...job, mode: 'export' }));
        }
        const seconds = median(ours.map((o) => o.seconds));
        const copySeconds = ceiling ? median(copies.map((o) => o.seconds)) : NaN;
        const r = {
          scope, rows: ours[0]!.rows, format, reps: n, seconds: +seconds.toFixed(2), rowsPerSec: Math.round(ours[0]!.rows / seconds),
          copyOf: ceiling ? (format === 'xlsx' ? 'csv' : format) : null, copySeconds: ceiling ? +copySeconds.toFixed(2) : null, ratioToCopy: ceiling ? +(copySeconds / seconds).toFixed(2) : null,
          peakRssMb: Math.max(...ours.map((o) => o.peakRssMb)), copyPeakRssMb: ceiling ? Math.max(...copies.map((o) => o.peakRssMb)) : null, baseRssMb: ours[0]!.baseRssMb,
        };
        results.push(r);
        console.log(JSON.stringify(r));
      }
    }
  }
  rmSync(out, { recursive: true, force: true });

  // The goals of shared/guide/quality.md.
  const find = (scope: string, rows: number, format: string) => results.find((r) => r.scope === scope && r.rows === rows && r.format === format) as any;
  const goals: Array<Record<string, unknown>> = [];
  for (const r of results as any[]) {
    const rowsScope = r.scope !== 'sessions'; // E1–E3: exports of raw events and view records (issue 4); E5: any export
    if (rowsScope && r.format === 'csv') goals.push({ goal: 'E1', scope: r.scope, rows: r.rows, value: r.ratioToCopy, target: '≥ 0.8 × COPY', met: r.ratioToCopy >= 0.8 });
    if (rowsScope && r.format === 'jsonl') goals.push({ goal: 'E2', scope: r.scope, rows: r.rows, value: r.rowsPerSec, target: '≥ 1,000,000 rows/s', met: r.rowsPerSec >= 1_000_000 });
    if (rowsScope && r.format === 'xlsx') goals.push({ goal: 'E3', scope: r.scope, rows: r.rows, value: `${r.rowsPerSec} rows/s, ${r.peakRssMb} MB`, target: '≥ 100k rows/s, ≤ 200 MB at 1M', met: r.rowsPerSec >= 100_000 && (r.rows > 1_100_000 || r.peakRssMb <= 200) });
    if (r.rows >= 5_000_000) {
      const small = find(r.scope, tiers[0]!, r.format) ?? results.find((x: any) => x.scope === r.scope && x.format === r.format && x.rows < r.rows);
      goals.push({ goal: 'E5', scope: r.scope, format: r.format, rows: r.rows, value: `${r.peakRssMb} MB (${small ? (r.peakRssMb / small.peakRssMb).toFixed(2) : '?'} × 1M)`, target: '≤ 300 MB and ≤ 1.2 × 1M', met: r.peakRssMb <= 300 && (!small || r.peakRssMb <= 1.2 * small.peakRssMb) });
    }
  }
  console.table(results);
  console.table(goals);
  console.log('saved', saveResult(process.env.BENCH_NAME ?? 'export', { dataDir, counts, partRows: config.exports.partRows, results, goals }));
  return results;
}
