/**
 * A dense CSV or JSON Lines part of an export written by two DuckDB connections at once (inPieces),
 * the export's and its twin on the same snapshot (Db.txPair). Used by src/storage/duckdb/exports.ts.
 */
import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import type { CopyFormat, ExportPart, ExportSource } from '../types.ts';
import type { ConnQuerier } from './db.ts';
import { cut, runCopy, slicing, unsortedCopy, type OrderedCopy, type SlicePlans } from './exportranges.ts';
import { sha256File } from '../../util/sha256.ts';
import { tailFile } from '../../util/tail.ts';

/**
 * A dense part of CSV or JSON Lines read as stored in pieces (slicing.pieces keys each), written by the
 * export's connection and its twin (Db.txPair: the same snapshot) at once, each its pieces in
 * turn: DuckDB runs a statement on the thread that calls it, so with one DuckDB thread a part
 * otherwise uses one core (two threads in one order-keeping COPY buffer batches, and were slower).
 * The first piece is written to the part's file and hashed as it grows; each other one into a file
 * of its own, appended to the part's in order and hashed on the way, as it is written (tailFile):
 * the part is whole soon after the last piece is. Null (one statement) without a twin, with
 * several DuckDB threads, for gzip (appended gzip members are a multi-member file, which some
 * readers stop after the first of), JSON and Parquet (neither can be appended to), a part of
 * fewer than two pieces, and where a piece's plan would not keep order.
 */
export async function inPieces(q: ConnQuerier, twin: ConnQuerier | null, releaseCache: (running: boolean) => Promise<unknown>,
  src: ExportSource, part: ExportPart, ids: string[] | undefined, to: { format: CopyFormat; path: string; gzip: boolean }): Promise<{ rows: number; sha256: string } | null> {
  const r = part.range;
  if (!twin || to.gzip || (to.format !== 'csv' && to.format !== 'jsonl') || !('after' in r) || part.rows < 2 * slicing.pieces) return null;
  if ((await threadsOf(q)) !== 1) return null;
  const pieces = cut(r.after, r.through, slicing.pieces);
  const files = pieces.map((_, i) => (i === 0 ? to.path : `${to.path}.${String(i).padStart(4, '0')}.piece`));
  const seen: SlicePlans = {};
  const copies: OrderedCopy[] = [];
  for (const [i, piece] of pieces.entries()) {
    const copy = await unsortedCopy(q, src, piece, ids, { format: to.format, path: files[i]!, gzip: false, noHeader: i > 0 }, seen);
    if (!copy) return null;
    copies.push(copy);
  }
  for (const f of files) await rm(f, { force: true }); // nothing but these COPYs' bytes can be read
  // Piece i is written by connection i % 2, each connection's pieces one after another.
  // A failure on either side stops both: no piece is begun after it.
  const written = copies.map(() => deferred<number>());
  let failed: { err: unknown } | null = null;
  // The blocks read so far go back as each piece ends, the other connection's statement running
  // meanwhile (as in handingBack): without it, 10M view records as JSON Lines peaked at 266 MB,
  // with it at 211 (a million of them, one statement: 187). A piece is not begun while a release
  // is under way. A release that fails leaves the cache for the next one.
  let releasing: Promise<unknown> = Promise.resolve();
  const writers = [q, twin].map(async (conn, c) => {
    for (let i = c; i < copies.length; i += 2) {
      try {
        for (let r = releasing; ; r = releasing) {
          await r;
          if (r === releasing) break; // none begun meanwhile
        }
        if (failed) throw failed.err;
        written[i]!.resolve(await runCopy(conn, copies[i]!));
        releasing = releasing.then(() => releaseCache(true)).catch(() => false);
        await releasing;
      } catch (err) {
        failed ??= { err };
        for (let j = i; j < copies.length; j += 2) written[j]!.reject(err);
        return;
      }
    }
  });
  for (const w of written) w.promise.catch(() => {}); // each is awaited in turn below, or by allSettled
  const hash = createHash('sha256');
  let whole = true;
  let rows = 0;
  try {
    whole = (await tailFile(to.path, written[0]!.promise, (chunk) => { hash.update(chunk); })).whole;
    rows += await written[0]!.promise;
    if (copies.length > 1) {
      const out = await open(to.path, 'a');
      try {
        for (let i = 1; i < copies.length; i++) {
          const appended = await tailFile(files[i]!, written[i]!.promise, async (chunk) => {
            hash.update(chunk);
            for (let at = 0; at < chunk.length;) at += (await out.write(chunk, at)).bytesWritten;
          });
          // A piece whose file changed after it was read would leave the part short: no checksum vouches for that.
          if (!appended.whole) throw new Error(`${files[i]}: changed while it was appended`);
          rows += await written[i]!.promise;
          await rm(files[i]!, { force: true });
        }
      } finally {
        await out.close();
      }
    }
    return { rows, sha256: whole ? hash.digest('hex') : await sha256File(to.path) };
  } catch (err) {
    failed ??= { err };
    throw err;
  } finally {
    await Promise.allSettled(writers); // never return while a statement runs on either connection
    for (const f of files.slice(1)) await rm(f, { force: true });
  }
}

/** DuckDB's threads setting. */
export async function threadsOf(q: ConnQuerier): Promise<number> {
  return Number((await q.one<{ t: number }>("SELECT current_setting('threads')::BIGINT AS t"))?.t);
}
/** A promise with its resolve and reject at hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}
