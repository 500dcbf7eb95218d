import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const CHUNK = 1 << 20;
// A fresh buffer a chunk lives on with its consumer (XLSX rows through the deflater) until the GC
// collects it, and tens of them wait for it: quarter-megabyte ones held ~12 MB less at the peak of
// an XLSX export of a million events than 1 MB ones (bench/README.md).
const FRESH_CHUNK = 1 << 18;

/**
 * Reads `path` front to back while another writer appends to it, until `writing` settles: each
 * megabyte (and what is left at the end) goes to `each`, awaited, as soon as the file holds it. The
 * file need not exist yet. Answers the bytes read and whether they are the whole file (its size at
 * the end); rejects with the writer's error. `fresh`: every chunk (of a quarter megabyte) is a
 * buffer of its own, for a consumer that keeps it; otherwise one buffer is reused.
 */
export async function tailFile(path: string, writing: Promise<unknown>, each: (chunk: Buffer) => void | Promise<void>, fresh = false): Promise<{ bytes: number; whole: boolean }> {
  const state: { ended: boolean; err?: unknown } = { ended: false };
  const settled = writing.then(() => {}, (err: unknown) => { state.err = err ?? new Error('the writer failed'); }).finally(() => { state.ended = true; });
  const size = fresh ? FRESH_CHUNK : CHUNK;
  let buf = Buffer.allocUnsafe(size);
  let pos = 0;
  let fh: FileHandle | null = null;
  try {
    for (;;) {
      const ended = state.ended; // taken before the size: a size taken after the end is the final one
      if (state.err) throw state.err;
      fh ??= await open(path, 'r').catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT' && !ended) return null; throw err; });
      let ready = fh ? (await fh.stat()).size - pos : 0;
      if (ready >= size || (ended && ready > 0)) {
        // Everything the size showed, a chunk at a time, before the next stat (a stat a chunk
        // was ~0.6 s of the main thread for 1.24 GB of XLSX rows).
        while (ready >= size || (ended && ready > 0)) {
          const { bytesRead } = await fh!.read(buf, 0, Math.min(size, ready), pos);
          if (bytesRead === 0) throw new Error(`${path}: shorter than its size`);
          pos += bytesRead;
          ready -= bytesRead;
          const chunk = buf.subarray(0, bytesRead);
          if (fresh) buf = Buffer.allocUnsafe(size);
          await each(chunk);
        }
      } else if (ended) break;
      else await sleep(5); // (not a race with `settled`: each poll would add a reaction to it)
    }
    return { bytes: pos, whole: (await fh!.stat()).size === pos };
  } finally {
    await settled;
    await fh?.close();
  }
}

/**
 * tailFile for a file of records each ended by `end` (two bytes or more): `visit` gets whole records
 * only, a run of them at a time, as soon as the file holds them — never a copy of a chunk: a record
 * begun in one chunk and ended in the next goes alone, joined, the rest as subarrays of the chunk
 * it was read into (a buffer of its own: tailFile's `fresh`). Rejects when the file ends inside a
 * record or changed while it was read.
 */
export async function tailRecords(path: string, writing: Promise<unknown>, end: Buffer, visit: (records: Buffer) => Promise<void>): Promise<void> {
  let rest: Buffer | null = null; // a record begun, not ended yet
  const { whole } = await tailFile(path, writing, async (chunk) => {
    let from = 0;
    if (rest) {
      // Where the record begun ends: its end may itself straddle the two chunks.
      const joined = Buffer.concat([rest.subarray(Math.max(0, rest.length - end.length + 1)), chunk.subarray(0, end.length - 1)]);
      const across = joined.indexOf(end);
      const at = across >= 0 ? across + end.length - Math.min(rest.length, end.length - 1) : chunk.indexOf(end);
      if (at < 0) {
        rest = Buffer.concat([rest, chunk]);
        return;
      }
      from = across >= 0 ? at : at + end.length;
      const record = Buffer.concat([rest, chunk.subarray(0, from)]);
      rest = null;
      await visit(record);
    }
    const last = chunk.lastIndexOf(end);
    const cut = last >= from ? last + end.length : from;
    if (cut > from) await visit(chunk.subarray(from, cut));
    if (cut < chunk.length) rest = chunk.subarray(cut);
  }, true);
  if (rest || !whole) throw new Error(`${path}: the file ended inside a record, or changed while it was read`);
}
