import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const CHUNK = 1 << 20;

/**
 * Reads `path` front to back while another writer appends to it, until `writing` settles: each
 * megabyte (and what is left at the end) goes to `each`, awaited, as soon as the file holds it. The
 * file need not exist yet. Answers the bytes read and whether they are the whole file (its size at
 * the end); rejects with the writer's error. `fresh`: every chunk is a buffer of its own, for a consumer that keeps it; otherwise one
 * buffer is reused.
 */
export async function tailFile(path: string, writing: Promise<unknown>, each: (chunk: Buffer) => void | Promise<void>, fresh = false): Promise<{ bytes: number; whole: boolean }> {
  const state: { ended: boolean; err?: unknown } = { ended: false };
  const settled = writing.then(() => {}, (err: unknown) => { state.err = err ?? new Error('the writer failed'); }).finally(() => { state.ended = true; });
  let buf = Buffer.allocUnsafe(CHUNK);
  let pos = 0;
  let fh: FileHandle | null = null;
  try {
    for (;;) {
      const ended = state.ended; // taken before the size: a size taken after the end is the final one
      if (state.err) throw state.err;
      fh ??= await open(path, 'r').catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT' && !ended) return null; throw err; });
      const ready = fh ? (await fh.stat()).size - pos : 0;
      if (ready >= CHUNK || (ended && ready > 0)) {
        const { bytesRead } = await fh!.read(buf, 0, Math.min(CHUNK, ready), pos);
        if (bytesRead === 0) throw new Error(`${path}: shorter than its size`);
        pos += bytesRead;
        const chunk = buf.subarray(0, bytesRead);
        if (fresh) buf = Buffer.allocUnsafe(CHUNK);
        await each(chunk);
      } else if (ended) break;
      else await sleep(5); // (not a race with `settled`: each poll would add a reaction to it)
    }
    return { bytes: pos, whole: (await fh!.stat()).size === pos };
  } finally {
    await settled;
    await fh?.close();
  }
}
