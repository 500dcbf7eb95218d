/**
 * Parts cut by size (REELSTAT_EXPORT_PART_BYTES, RunPlan.partBytes) on a real DuckDB file: in every
 * format every part with more than one row stays within the limit, and the parts hold the same rows
 * in the same order as one unlimited part (read back by csv-parse, gunzip, DuckDB and openpyxl).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parse } from 'csv-parse/sync';
import { seedSyntheticFile } from '../bench/exportdata.ts';
import { resolveFields } from '../src/exports/fields.ts';
import { writeRun, type ExportFormat } from '../src/exports/run.ts';
import { openDuckDbStore } from '../src/storage/duckdb/index.ts';
import type { ExportSource, Store } from '../src/storage/types.ts';
import { readXlsx } from './helpers/files.ts';

const dir = mkdtempSync(join(tmpdir(), 'rs-bytes-'));
const dbPath = join(dir, 'db.duckdb');
const now = Date.UTC(2026, 10, 1);
let store: Store;

before(async () => {
  await (await seedSyntheticFile(dbPath, 'acc', { events: 6_000, views: 3_000 }, now, { memoryLimit: '256MB', threads: 1 })).close();
  store = await openDuckDbStore(dbPath, { memoryLimit: '256MB', threads: 1 });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const KEY = { events: 'id', views: 'viewId', sessions: 'sessionId' } as const;
const source = (scope: keyof typeof KEY): ExportSource => ({
  scope, accountId: 'acc', fromMs: 0, toMs: now + 1, filters: {}, neutralize: false,
  // every field, the key first: Parquet packs synthetic rows tightly
  fields: resolveFields(scope, undefined).map((f) => ({ name: f.def.name, as: f.as })).sort((a, b) => Number(b.name === KEY[scope]) - Number(a.name === KEY[scope])),
});

/** One in-memory DuckDB for reading Parquet parts back. */
let reader: DuckDBConnection | undefined;

/** The key column of one part's file, in order. */
async function keysOf(path: string, format: ExportFormat, gzip: boolean, key: string): Promise<string[]> {
  const raw = gzip ? gunzipSync(readFileSync(path)) : readFileSync(path);
  if (format === 'csv') return (parse(raw, { columns: true }) as Array<Record<string, string>>).map((r) => r[key]!);
  if (format === 'jsonl') return raw.toString('utf8').trim().split('\n').filter(Boolean).map((l) => String(JSON.parse(l)[key]));
  if (format === 'json') return (JSON.parse(raw.toString('utf8')) as Array<Record<string, unknown>>).map((r) => String(r[key]));
  if (format === 'xlsx') return readXlsx(path).flatMap((sheet) => sheet.rows.slice(1).map((r) => String(r[0])));
  reader ??= await (await DuckDBInstance.create(':memory:')).connect();
  return (await reader.runAndReadAll(`SELECT "${key}" AS k FROM read_parquet('${path}')`)).getRowObjectsJS().map((r) => String(r.k));
}

describe('parts cut by size', () => {
  const cases: Array<[keyof typeof KEY, ExportFormat, boolean]> = [
    ['events', 'csv', false], ['events', 'jsonl', true], ['events', 'json', false], ['events', 'parquet', false], ['views', 'xlsx', false], ['sessions', 'csv', false],
  ];
  for (const [scope, format, gzip] of cases) {
    it(`${scope} as ${format}${gzip ? '.gz' : ''}: parts within a fifth of the whole, the same rows in the same order`, async () => {
      const run = async (partBytes: number | null) => {
        const runId = `${scope}-${format}-${partBytes ?? 'whole'}`;
        const r = await writeRun(store, dir, { runId, format, gzip, zip: false, partRows: 1_000_000, partBytes, period: { from: '', to: '' }, source: source(scope) });
        const keys: string[] = [];
        for (const f of r.files) {
          const path = join(dir, runId, f.name);
          assert.equal(statSync(path).size, f.size);
          const k = await keysOf(path, format, gzip, KEY[scope]);
          assert.equal(k.length, f.rows, f.name);
          keys.push(...k);
        }
        return { r, keys };
      };
      const whole = await run(null);
      assert.equal(whole.r.files.length, 1);
      const bytes = Math.floor(whole.r.files[0]!.size / 5);
      assert.ok(bytes >= 1024, `${bytes} bytes: REELSTAT_EXPORT_PART_BYTES takes 1KiB at least`);
      const cut = await run(bytes);
      assert.ok(cut.r.files.length >= 3, `${cut.r.files.length} parts`);
      for (const f of cut.r.files) assert.ok(f.size <= bytes || f.rows === 1, `${f.name}: ${f.size} bytes, ${f.rows} rows`);
      assert.equal(cut.r.rows, whole.r.rows);
      assert.deepEqual(cut.keys, whole.keys);
      assert.deepEqual(cut.r.files.map((f) => f.name), cut.r.files.map((_, i) => `part-${String(i + 1).padStart(5, '0')}.${format}${gzip ? '.gz' : ''}`));
    });
  }
});

describe('a staged table (the videos scope, reports) cut into parts', () => {
  // Rows as videoTable stages them: a JSON array a line, here with text of every length and kind.
  const ROWS = Array.from({ length: 2_000 }, (_, i) => [`c${String(i).padStart(5, '0')}`, i % 7 === 0 ? null : 'x'.repeat(i % 300) + (i % 11 ? '' : '\n"=1"'), i * 1.5]);
  const columns = [{ name: 'content_id', type: 'string' as const }, { name: 'title', type: 'string' as const }, { name: 'views', type: 'number' as const }];
  const staged = async (path: string) => {
    writeFileSync(path, ROWS.map((r) => JSON.stringify(r) + '\n').join(''));
    return { columns, path, rows: ROWS.length };
  };
  const cases: Array<[ExportFormat, boolean]> = [['csv', false], ['jsonl', true], ['json', false], ['xlsx', false], ['parquet', false]];
  for (const [format, gzip] of cases) {
    it(`${format}${gzip ? '.gz' : ''}: by rows, then by bytes, the same rows in order; the staged file is gone`, async () => {
      const run = async (partRows: number, partBytes: number | null) => {
        const runId = `table-${format}-${partRows}-${partBytes}`;
        const src = { ...source('events'), scope: 'videos' as never, fields: columns.map((c) => ({ name: c.name, as: c.name })) };
        const r = await writeRun(store, dir, { runId, format, gzip, zip: false, partRows, partBytes, period: { from: '', to: '' }, source: src }, staged);
        const keys: string[] = [];
        for (const f of r.files) {
          const k = await keysOf(join(dir, runId, f.name), format, gzip, 'content_id');
          assert.equal(k.length, f.rows, f.name);
          keys.push(...k);
        }
        assert.deepEqual(readdirSync(join(dir, runId)).filter((n) => n.startsWith('.')), [], 'nothing staged is left');
        return { r, keys };
      };
      const byRows = await run(300, null);
      assert.deepEqual(byRows.r.files.map((f) => f.rows), [300, 300, 300, 300, 300, 300, 200]);
      assert.deepEqual(byRows.keys, ROWS.map((r) => r[0]));
      const bytes = Math.max(1024, Math.floor(byRows.r.files[0]!.size / 2));
      const byBytes = await run(1_000_000, bytes);
      assert.ok(byBytes.r.files.length >= 8, `${byBytes.r.files.length} parts`);
      for (const f of byBytes.r.files) assert.ok(f.size <= bytes || f.rows === 1, `${f.name}: ${f.size} bytes`);
      assert.deepEqual(byBytes.keys, byRows.keys);
    });
  }
});
