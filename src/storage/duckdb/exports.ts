/**
 * Export reads in DuckDB: the engine itself writes CSV, JSON Lines, JSON and Parquet (COPY … TO),
 * which is what keeps exports near DuckDB's own speed, and builds XLSX rows as XML. Every read of one
 * export runs in one transaction, or in it and a twin on the same snapshot (Db.txPair: dense CSV
 * and JSON Lines parts are written by both at once, inPieces), so all its parts come from one snapshot.
 *
 * Raw events are exported in arrival order (`seq`), view records in storage order (`rowid`). A part
 * is a range of that key (bounds from a histogram of the key, keyRanges). Where DuckDB's plan keeps
 * storage order, a range is read as stored, without a sort (unsortedCopy); otherwise a slice of it at
 * a time, each slice sorted by the key — DuckDB's parallel scans do not keep storage order by
 * themselves, and a retried run must write the same bytes. Either way an export never sorts more
 * than one slice, and it hands DuckDB's cache back as it reads, so its memory grows with neither the
 * export nor the part. Sessions are aggregates in order of their start, which every view record
 * stores: parts and slices are ranges of (start, session id) cut from a count of sessions a minute;
 * a part's records are gathered span by span into files first, and its slices summed from them
 * (exportsessions.ts).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createGzip } from 'node:zlib';
import { JsonArrayFromLines } from '../../exports/formats/jsonarray.ts';
import { ROW_END, type XlsxColumnType } from '../../exports/formats/xlsx.ts';
import type { CopyFormat, ExportPart, ExportRepo, ExportSnapshot, ExportSource } from '../types.ts';
import type { ConnQuerier, Db, Param } from './db.ts';
import { keyRanges, orderKeptBy, runCopy, slicesOf, slicing, unsortedCopy, xlsxRowsCopy, type SlicePlans } from './exportranges.ts';
import { inPieces, threadsOf } from './exportpieces.ts';
import { catalogIds, copyOptions, fromWhere, query } from './exportsql.ts';
import { fileList, sessionReads } from './exportsessions.ts';
import { sha256File } from '../../util/sha256.ts';
import { tailFile, tailRecords } from '../../util/tail.ts';
import { hashing, streamSink } from '../../util/sink.ts';

/**
 * Runs `copy`, a COPY that writes `path` front to back, and hashes the file as it grows (from the
 * page cache, on this thread while DuckDB's runs the COPY): no second read of the part. A file whose
 * size at the end is not what was hashed (never seen) is hashed again from the start.
 */
async function hashWhileWritten(path: string, copy: () => Promise<number>): Promise<{ rows: number; sha256: string }> {
  await rm(path, { force: true }); // nothing but this COPY's bytes can be read
  const hash = createHash('sha256');
  const written = copy();
  const { whole } = await tailFile(path, written, (chunk) => { hash.update(chunk); });
  return { rows: await written, sha256: whole ? hash.digest('hex') : await sha256File(path) };
}

/**
 * The result of `work` once `alongside` has ended too. Unlike Promise.all, never returns (or throws)
 * while a statement still runs on the export's connection.
 */
async function both<T>(work: Promise<T>, alongside: Promise<void>): Promise<T> {
  const [w, a] = await Promise.allSettled([work, alongside]);
  if (w.status === 'rejected') throw w.reason;
  if (a.status === 'rejected') throw a.reason;
  return w.value;
}

function snapshotOn(q: ConnQuerier, db: Db, twin: ConnQuerier | null): ExportSnapshot {
  // Hands DuckDB's cache back (Db.releaseCache): this export holds its connection and its twin's.
  const releaseCache = (running = false) => db.releaseCache({ running, held: twin ? 2 : 1 });
  // A part hands back the blocks it read (Db.releaseCache) when it ends: DuckDB would keep them up to
  // its memory limit.
  const released = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } finally {
      await releaseCache();
    }
  };
  const sessions = sessionReads(q, releaseCache);
  /**
   * `run` (a COPY that reads as stored, on the export's connection), with DuckDB's cache handed back
   * every RELEASE_EVERY_MS while it runs (Db.releaseCache, running): one statement over a part of view
   * records scattered over the table reads nearly every block of it, and kept them all (~470 MB for
   * a million of 10M records at a 1GB limit; ~185 MB so). Only with one DuckDB thread: the headroom
   * left (64MB) was measured so, and several threads pin blocks (and buffer batches) each. A release
   * still under way when the statement ends is waited for: the export's next statements (a sort, a
   * commit) never run under the lowered limit, and the release as the part ends is not skipped.
   */
  async function handingBack<T>(run: () => Promise<T>): Promise<T> {
    if ((await threadsOf(q)) !== 1) return run();
    let pending: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      pending = pending.then(() => releaseCache(true)).catch(() => {});
    }, RELEASE_EVERY_MS);
    try {
      return await run();
    } finally {
      clearInterval(timer);
      await pending;
    }
  }
  return {
    parts: (src, partRows) => released(() => partsOf(src, partRows)),
    split: (src, part, rows) => released(() => splitPart(src, part, rows)),
    copy: (src, part, opts) => released(() => copyPart(src, part, opts)),
    xlsxRows: (src, part, types, visit, scratch) => released(() => xlsxPart(src, part, types, visit, scratch)),
  };

  async function partsOf(src: ExportSource, partRows: number): Promise<ExportPart[]> {
    if (src.scope === 'sessions') return sessions.parts(src, partRows);
    const parts = await rangesOf(src, -1, null, partRows);
    return parts.length ? parts : [{ rows: 0, range: { after: -1, through: -1 } }];
  }

  /** Key ranges of at most `size` rows of the source in keys (after, through]. */
  async function rangesOf(src: ExportSource, after: number, through: number | null, size: number): Promise<ExportPart[]> {
    const params: Param[] = [];
    const { from, where, key, counted } = fromWhere(src, params, await catalogIds(q, src));
    if (!key) throw new Error(`scope ${src.scope} has no key ranges`);
    return keyRanges(q, { ...(counted ?? { from, where, params }), key }, after, through, size);
  }

  async function splitPart(src: ExportSource, part: ExportPart, rows: number): Promise<ExportPart[]> {
    const size = Math.max(1, Math.trunc(rows));
    const r = part.range;
    if (part.rows <= size) return [part];
    return 'after' in r ? rangesOf(src, r.after, r.through, size) : sessions.split(src, part, size);
  }

  async function copyPart(src: ExportSource, part: ExportPart, { format, path, gzip }: { format: CopyFormat; path: string; gzip: boolean }): Promise<{ rows: number; sha256?: string }> {
    if (/'/.test(path)) throw new Error('export paths never hold quotes');
    const ids = await catalogIds(q, src);
    const r = part.range;
    // A range read as stored is one statement. A sparse one (view records of a period lie scattered
    // over the table, raw events under a selective filter) has its filters pushed into the scan,
    // which then fetches the other columns of the rows they pass alone (a million of 10M view records
    // as CSV took 4.2–4.7 s so, 5.3 s in slices whose filters run above the scan: whereSql, inRowidRanges), and
    // hands the cache back as it runs. Ranges that need a sort, and sessions, go in slices; a sparse
    // range's slices read as stored where the part would with the slices' own filters.
    const sparse = 'after' in r && part.rows * 2 < r.through - r.after;
    const unsorted = await unsortedCopy(q, src, part, ids, { format, path, gzip, pushed: sparse });
    if (unsorted) return (!sparse && await inPieces(q, twin, releaseCache, src, part, ids, { format, path, gzip }))
      || hashWhileWritten(path, () => (sparse ? handingBack(() => runCopy(q, unsorted)) : runCopy(q, unsorted)));
    const asStored = sparse && !!(await unsortedCopy(q, src, part, ids, { format, path, gzip }));
    try {
      if (src.scope === 'sessions') part = await sessions.gathered(src, part, path);
      const slices = 'from' in part.range ? await sessions.slices(src, part) : await slicesOf(q, src, part, ids);
      return format === 'parquet' ? await parquetInSlices(src, slices, ids, asStored, path) : await textInSlices(src, slices, ids, asStored, format, path, gzip);
    } finally {
      await sessions.removeGathered();
    }
  }

  /**
   * The COPY of one slice to `file`: read as stored where its plan keeps order (`asStored`: the
   * part's does), else sorted.
   */
  async function sliceCopy(src: ExportSource, slice: ExportPart, ids: string[] | undefined, asStored: boolean, seen: SlicePlans,
    to: { format: CopyFormat; path: string; first: boolean } | { format: 'xlsx'; path: string; types: readonly XlsxColumnType[] }): Promise<{ sql: string; params: Param[]; noCaching?: boolean }> {
    const stored = asStored && (await unsortedCopy(q, src, slice, ids, to.format === 'xlsx' ? to : { format: to.format, path: to.path, gzip: false, noHeader: !to.first }, seen));
    if (stored) return stored;
    const params: Param[] = [];
    const rows = query(src, to.format, slice, params, ids);
    return { sql: to.format === 'xlsx' ? xlsxRowsCopy(rows, to.types, to.path) : `COPY (${rows}) TO '${to.path}' (${copyOptions(to.format, !to.first)})`, params };
  }

  /**
   * Slices written one after another by `write` into two files in turn, each read by `take` in
   * order as it is written: DuckDB writes a slice while this thread takes it (and the last one's
   * rest), waiting only for the file it writes next to be taken. Answers the rows written.
   */
  async function pipeSlices(count: number, files: readonly [string, string], write: (i: number, file: string) => Promise<number>, take: (file: string, written: Promise<number>) => Promise<void>): Promise<number> {
    let taken: Promise<void> = Promise.resolve();
    let rows = 0;
    try {
      for (let i = 0; i < count; i++) {
        const file = files[i % 2]!;
        await rm(file, { force: true }); // taken already (the last turn waited for it): only this slice's bytes are read
        const written = write(i, file);
        const before = taken;
        taken = before.then(() => take(file, written));
        taken.catch(() => {}); // seen by both() or the finally below; not unhandled while DuckDB still writes
        rows += await both(written, before);
        await releaseCache(); // between statements: the blocks the slice read
      }
      await taken;
      return rows;
    } finally {
      await taken.catch(() => {});
      for (const f of files) await rm(f, { force: true });
    }
  }

  /**
   * CSV and JSON Lines slices appended in order to one file, hashed on the way (no second read of the
   * file for its checksum). JSON slices are written as JSON Lines and joined into DuckDB's array.
   */
  async function textInSlices(src: ExportSource, slices: ExportPart[], ids: string[] | undefined, asStored: boolean, format: Exclude<CopyFormat, 'parquet'>, path: string, gzip: boolean): Promise<{ rows: number; sha256: string }> {
    const hash = createHash('sha256');
    // The checksum is of the file's bytes: after the gzip, if any.
    const sink = streamSink(...(gzip ? [createGzip()] : []), hashing(hash), createWriteStream(path));
    const write = async (chunks: Buffer[]) => {
      for (const chunk of chunks) await sink.write(chunk);
    };
    const array = format === 'json' ? new JsonArrayFromLines() : null;
    const seen: SlicePlans = {};
    try {
      const rows = await pipeSlices(slices.length, [`${path}.0.slice`, `${path}.1.slice`],
        async (i, file) => runCopy(q, await sliceCopy(src, slices[i]!, ids, asStored, seen, { format: array ? 'jsonl' : format, path: file, first: i === 0 })),
        async (file, written) => {
          const { whole } = await tailFile(file, written, (chunk) => write(array ? array.push(chunk) : [chunk]), true);
          if (!whole) throw new Error(`${file}: changed while it was read`);
        });
      if (array) await write(array.end());
      await sink.end();
      return { rows, sha256: hash.digest('hex') };
    } catch (err) {
      await sink.destroy();
      throw err;
    }
  }

  /**
   * Parquet (one footer) cannot be appended to: each slice is a file of its own, and one COPY reads
   * them back in the order listed into the part's file — that COPY holds a row group, not the part.
   */
  async function parquetInSlices(src: ExportSource, slices: ExportPart[], ids: string[] | undefined, asStored: boolean, path: string): Promise<{ rows: number }> {
    const files = slices.map((_, i) => `${path}.${String(i).padStart(6, '0')}.slice`);
    let rows = 0;
    try {
      const seen: SlicePlans = {};
      for (const [i, slice] of slices.entries()) {
        rows += await runCopy(q, await sliceCopy(src, slice, ids, asStored, seen, { format: 'parquet', path: files[i]!, first: i === 0 }));
        await releaseCache(); // between statements: the blocks the slice read
      }
      const list = fileList(files);
      const merge = `COPY (SELECT * FROM read_parquet(${list})) TO '${path}' (${copyOptions('parquet')})`;
      const inOrder = (await orderKeptBy(q, merge, []))?.source === 'read_parquet';
      await q.run(inOrder ? merge : `COPY (SELECT * EXCLUDE (filename, file_row_number) FROM read_parquet(${list}, filename = true, file_row_number = true) ORDER BY filename, file_row_number) TO '${path}' (${copyOptions('parquet')})`);
      return { rows }; // the cache is handed back as the part ends (released)
    } finally {
      for (const f of files) await rm(f, { force: true });
    }
  }

  async function xlsxPart(src: ExportSource, part: ExportPart, types: readonly XlsxColumnType[], visit: (rows: Buffer) => Promise<void>, scratch: string): Promise<void> {
    if (/'/.test(scratch)) throw new Error('export paths never hold quotes');
    const ids = await catalogIds(q, src);
    // Slice by slice through two files in turn (pipeSlices): DuckDB builds a slice's rows (read as
    // stored where the plan keeps order, else sorted) while this thread hands the bytes it has
    // written so far to the writer (whose deflating runs in the thread pool). A streamed result of a
    // range read as stored would not keep its order, and sorted slices streamed held ~880 MB for a
    // million view records.
    const seen: SlicePlans = {};
    try {
      if (src.scope === 'sessions') part = await sessions.gathered(src, part, scratch);
      const slices = 'from' in part.range ? await sessions.slices(src, part) : await slicesOf(q, src, part, ids, slicing.xlsxSpan);
      await pipeSlices(slices.length, [`${scratch}.0`, `${scratch}.1`],
        async (i, file) => runCopy(q, await sliceCopy(src, slices[i]!, ids, true, seen, { format: 'xlsx', path: file, types })),
        (file, written) => tailRecords(file, written, ROW_END, visit));
    } finally {
      await sessions.removeGathered();
    }
  }
}

/** How often a statement that reads a sparse part hands back DuckDB's cache (handingBack): at 250 ms a million scattered view records peaked ~15 MB higher. */
const RELEASE_EVERY_MS = 100;
const PARQUET_TYPE = { string: 'VARCHAR', number: 'DOUBLE', integer: 'BIGINT', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP', object: 'JSON' } as const;
const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * `connections`: 2 lets an export's dense CSV and JSON Lines parts be written by two connections at
 * once (inPieces), a snapshot that says it writes such parts (`parallel`) taking a twin.
 */
export function exportRepo(db: Db, connections = 2): ExportRepo {
  // Snapshots open: while another export runs (REELSTAT_EXPORT_WORKERS), a twin is not sought — its
  // connections would not come back within txPair's wait, which holds every new borrower meanwhile.
  let open = 0;
  const within = async <T>(fn: (q: ConnQuerier, twin: ConnQuerier | null) => Promise<T>, parallel: boolean): Promise<T> => {
    const paired = connections > 1 && parallel && open === 0;
    open++;
    try {
      return await (paired ? db.txPair(fn) : db.tx((q) => fn(q, null), { retry: false })); // reads only, and writes files
    } finally {
      open--;
    }
  };
  return {
    snapshot: (fn, opts) => within((q, twin) => fn(snapshotOn(q, db, twin)), opts?.parallel === true),
    async parquetFromJsonl(jsonl, columns, out) {
      if (/'/.test(jsonl + out)) throw new Error('export paths never hold quotes');
      const cols = `{${columns.map((c) => `${sqlString(c.name)}: '${PARQUET_TYPE[c.type]}'`).join(', ')}}`;
      await db.run(`COPY (SELECT * FROM read_json('${jsonl}', format = 'newline_delimited', columns = ${cols})) TO '${out}' (FORMAT PARQUET, COMPRESSION zstd)`);
    },
  };
}
