/**
 * Writes one export run: every part from one snapshot, into a temporary directory that is renamed
 * into place only when complete (with manifest.json beside the parts), so a crash never leaves a
 * half file visible; a retried run starts again from scratch.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportFile, ExportPart, ExportSnapshot, ExportSource, Store } from '../storage/types.ts';
import { FIELDS } from './fields.ts';
import { writeTable, xlsxType, type TableColumn } from './formats/table.ts';
import { stagedRows, type StagedTable } from './videos.ts';
import { XlsxWriter } from './formats/xlsx.ts';
import { sha256File } from '../util/sha256.ts';
import { fixedTime, ZipFile } from '../util/zip.ts';

export type ExportFormat = 'csv' | 'jsonl' | 'json' | 'parquet' | 'xlsx';

export interface RunPlan {
  runId: string;
  source: ExportSource;
  format: ExportFormat;
  gzip: boolean;
  zip: boolean;
  partRows: number;
  /** The most bytes a part's file may hold (a part of one row may hold more); null: no limit. */
  partBytes?: number | null;
  period: { from: string; to: string };
  /** Small files written beside the parts (a viewer's profile.json), listed and zipped with them. */
  extras?: Array<{ name: string; content: string }>;
}

/** The file beside a run's parts that lists them (rows, size, SHA-256). */
export const MANIFEST = 'manifest.json';

const EXT: Record<ExportFormat, string> = { csv: 'csv', jsonl: 'jsonl', json: 'json', parquet: 'parquet', xlsx: 'xlsx' };
/** Formats that are compressed already: gzip does not apply. */
const PACKED = new Set<ExportFormat>(['parquet', 'xlsx']);

/**
 * One XLSX part: the store builds each row's XML (src/storage/duckdb/xlsxsql.ts) and the streaming
 * writer packs the rows into sheets (a sheet that would pass 1,048,576 rows continues on a new one).
 * Memory stays flat: one chunk of rows at a time, with backpressure. Answers the rows written.
 */
async function xlsxPart(snap: ExportSnapshot, src: ExportSource, path: string, part: ExportPart): Promise<number> {
  const types = new Map<string, string>(FIELDS[src.scope].map((d) => [d.name, d.type]));
  const columns = src.fields.map((f) => ({ name: f.as, type: xlsxType((types.get(f.name) ?? 'string') as TableColumn['type']) }));
  // Deflate level 1: a sheet's XML packs ~25:1 at level 1 against ~37:1 at 6, for a quarter of the
  // CPU; at a million rows that is seconds of the export's time (bench/README.md).
  const w = new XlsxWriter(path, { columns, compressionLevel: 1, mtime: entryTime(src) });
  try {
    if (part.rows > 0) await snap.xlsxRows(src, part, columns.map((c) => c.type), (rows) => w.addRowLines(rows), `${path}.rows`);
    return (await w.finish()).rows;
  } catch (err) {
    await w.abort(err as Error);
    throw err;
  }
}

export function runDir(root: string, runId: string): string {
  return join(root, runId);
}

/**
 * The time the entries of a run's ZIPs (an XLSX part, the ZIP around the parts) carry: the end of its
 * period, so that the same rows give the same bytes (the time of writing made every XLSX part's
 * SHA-256 differ); a ZIP's DOS time clamps it to 1980–2107 (yazl).
 */
const entryTime = (src: ExportSource) => src.toMs;

async function zipFiles(dir: string, names: string[], out: string, ms: number): Promise<void> {
  const z = new ZipFile();
  for (const n of names) z.addFile(join(dir, n), n, { ...fixedTime(ms), mode: 0o100644 }); // not the umask's
  z.end();
  await new Promise<void>((resolve, reject) => {
    const ws = createWriteStream(out);
    z.outputStream.pipe(ws).on('close', resolve).on('error', reject);
    z.outputStream.on('error', reject);
  });
}

/**
 * `table`: rows computed by JS (the `videos` scope) instead of read from a snapshot, staged in a file
 * it is given in the run's temporary folder; they are cut into the same parts and written by the JS
 * writers (Parquet by the engine, from JSON Lines).
 */
export async function writeRun(store: Store, root: string, plan: RunPlan, table?: (staged: string) => Promise<StagedTable>): Promise<{ rows: number; files: ExportFile[] }> {
  const tmp = join(root, `.tmp-${plan.runId}`);
  try {
    return await writeInto(store, root, tmp, plan, table);
  } catch (err) {
    // A failed run leaves nothing behind (a crash leaves its folder to sweepTemp at the next start).
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

async function writeInto(store: Store, root: string, tmp: string, plan: RunPlan, table?: (staged: string) => Promise<StagedTable>): Promise<{ rows: number; files: ExportFile[] }> {
  const final = runDir(root, plan.runId);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const ext = EXT[plan.format] + (plan.gzip && !PACKED.has(plan.format) ? '.gz' : '');
  const parts: Array<{ name: string; rows: number; sha256?: string }> = [];
  // Parts a store may write on two connections at once: CSV and JSON Lines of raw events and view records.
  const parallel = !plan.gzip && (plan.format === 'csv' || plan.format === 'jsonl') && (plan.source.scope === 'events' || plan.source.scope === 'views');
  const nextName = () => `part-${String(parts.length + 1).padStart(5, '0')}.${ext}`;
  const limit = new PartBytes(plan.partBytes ?? null);
  const total = table ? await tableParts(await table(join(tmp, '.rows.jsonl'))) : await store.exports.snapshot(async (snap) => {
    let n = 0;
    const queue = await snap.parts(plan.source, plan.partRows);
    while (queue.length) {
      const part = queue.shift()!;
      const fits = limit.rows(part.rows);
      if (fits < part.rows) {
        queue.unshift(...(await snap.split(plan.source, part, fits)));
        continue;
      }
      const name = nextName();
      const path = join(tmp, name);
      const written = plan.format === 'xlsx' ? { rows: await xlsxPart(snap, plan.source, path, part) } : await snap.copy(plan.source, part, { format: plan.format, path, gzip: plan.gzip });
      // The parts were counted on the same snapshot: another count means the store's data disagrees
      // with itself (rows counted twice or not at all), and a part written again would not shrink.
      if (written.rows !== part.rows) throw new Error(`export part ${parts.length + 1}: ${written.rows} rows written where ${part.rows} were counted`);
      if (limit.over((await stat(path)).size, written.rows)) {
        await rm(path); // written again in smaller parts
        queue.unshift(part);
        continue;
      }
      parts.push({ name, ...written });
      n += written.rows;
    }
    return n;
  }, { parallel });
  async function tableParts(t: StagedTable): Promise<number> {
    try {
      // Each part reads its rows from the staged file, from the byte its first row starts at.
      for (let done = 0, start = 0; done < t.rows || parts.length === 0;) {
        const name = nextName();
        const slice = { rows: 0, end: start };
        const want = limit.rows(plan.partRows);
        const rows = async function* () {
          for await (const { row, end } of stagedRows(t.path, start)) {
            if (slice.rows === want) return;
            slice.rows++;
            slice.end = end;
            yield row;
          }
        };
        if (plan.format === 'parquet') {
          // JSON Lines first (typed by the columns), then the engine's Parquet writer.
          const staged = join(tmp, `${name}.jsonl`);
          await writeTable(staged, 'jsonl', t.columns, rows());
          await store.exports.parquetFromJsonl(staged, t.columns, join(tmp, name));
          await rm(staged);
        } else await writeTable(join(tmp, name), plan.format, t.columns, rows(), { gzip: plan.gzip, bom: plan.source.bom, mtime: entryTime(plan.source) });
        if (slice.rows === 0 && done < t.rows) throw new Error(`the staged rows end after ${done} of ${t.rows}`);
        if (limit.over((await stat(join(tmp, name))).size, slice.rows)) {
          await rm(join(tmp, name));
          continue;
        }
        parts.push({ name, rows: slice.rows });
        done += slice.rows;
        start = slice.end;
      }
      return t.rows;
    } finally {
      await rm(t.path, { force: true });
    }
  }
  for (const x of plan.extras ?? []) {
    await writeFile(join(tmp, x.name), x.content);
    parts.unshift({ name: x.name, rows: 1 });
  }
  let files: ExportFile[] = [];
  for (const p of parts) files.push({ name: p.name, rows: p.rows, size: (await stat(join(tmp, p.name))).size, sha256: p.sha256 ?? await sha256File(join(tmp, p.name)) });
  const manifest = { runId: plan.runId, period: plan.period, format: plan.format, gzip: plan.gzip, ...(plan.source.bom ? { bom: true } : {}), rows: total, parts: files };
  await writeFile(join(tmp, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  if (plan.zip) {
    const zipName = `export-${plan.runId}.zip`;
    await zipFiles(tmp, [...parts.map((p) => p.name), MANIFEST], join(tmp, zipName), entryTime(plan.source));
    for (const p of parts) await rm(join(tmp, p.name));
    // The manifest stays beside the ZIP too; the run lists the parts inside it.
    files = [{ name: zipName, rows: total, size: (await stat(join(tmp, zipName))).size, sha256: await sha256File(join(tmp, zipName)), parts: files }];
  }
  await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
  return { rows: total, files };
}

/**
 * A run's limit of bytes a part (REELSTAT_EXPORT_PART_BYTES), learned as the parts are written: a
 * part whose file came out larger is written again in parts of the rows that fit at the bytes a row
 * it measured (90 % of them, so that rows a little larger than the average still fit), and every
 * part after it is cut to as many rows before it is written. A part of one row may pass the limit.
 */
class PartBytes {
  private fit = Infinity;
  constructor(private readonly bytes: number | null) {}

  /** The rows a part of `rows` rows may hold. */
  rows(rows: number): number {
    return Math.max(1, Math.min(rows, this.fit));
  }

  /** Whether a part of `rows` rows that came out at `size` bytes is over the limit (and must be written again in smaller parts). */
  over(size: number, rows: number): boolean {
    if (this.bytes === null || size <= this.bytes || rows <= 1) return false;
    this.fit = Math.max(1, Math.min(rows - 1, Math.floor((rows * this.bytes * 0.9) / size)));
    return true;
  }
}

/** Removes temporary directories left by runs that were interrupted. */
export async function sweepTemp(root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const n of await readdir(root)) if (n.startsWith('.tmp-')) await rm(join(root, n), { recursive: true, force: true });
}
