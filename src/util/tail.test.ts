import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tailFile, tailRecords } from './tail.ts';

const dir = mkdtempSync(join(tmpdir(), 'rs-tail-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `parts` to `path` one after another with pauses, creating it after a pause; answers the bytes. */
async function slowWriter(path: string, parts: Buffer[]): Promise<number> {
  await sleep(20); // the reader starts before the file exists
  writeFileSync(path, '');
  for (const p of parts) {
    appendFileSync(path, p);
    await sleep(3);
  }
  return parts.reduce((n, p) => n + p.length, 0);
}

describe('tailFile', () => {
  test('reads every byte in order while the writer appends, including a file that did not exist yet', async () => {
    const path = join(dir, 'a.bin');
    // 2.5 MB in uneven pieces: chunks of a quarter megabyte (fresh) go out before the writer ends, the rest after.
    const parts = Array.from({ length: 40 }, (_, i) => randomBytes(40_000 + i * 1_500));
    const all = Buffer.concat(parts);
    const got: Buffer[] = [];
    let beforeEnd = 0;
    let ended = false;
    const writing = slowWriter(path, parts).finally(() => { ended = true; });
    const r = await tailFile(path, writing, (chunk) => {
      got.push(chunk);
      if (!ended) beforeEnd++;
    }, true);
    assert.deepEqual(r, { bytes: all.length, whole: true });
    assert.ok(Buffer.concat(got).equals(all), 'the same bytes in the same order');
    assert.ok(beforeEnd >= 1, 'chunks were taken while the file was still being written');
    assert.ok(got.slice(0, -1).every((c) => c.length === 1 << 18), 'whole quarter megabytes until the end');
    assert.equal(new Set(got.map((c) => c.buffer)).size, got.length, 'fresh: every chunk its own buffer');
  });

  test('rejects with the writer\'s error, and waits for the writer first', async () => {
    const path = join(dir, 'b.bin');
    let settled = false;
    const writing = (async () => {
      await slowWriter(path, [Buffer.from('abc')]);
      await sleep(20);
      settled = true;
      throw new Error('disk on fire');
    })();
    await assert.rejects(tailFile(path, writing, () => {}), /disk on fire/);
    assert.ok(settled);
  });

  test('a consumer that fails stops the reading with its error, once the writer has ended', async () => {
    const path = join(dir, 'd.bin');
    let ended = false;
    const writing = slowWriter(path, Array.from({ length: 30 }, () => randomBytes(100_000))).finally(() => { ended = true; });
    let calls = 0;
    await assert.rejects(tailFile(path, writing, () => {
      calls++;
      throw new Error('no room');
    }, true), /no room/);
    assert.equal(calls, 1);
    assert.ok(ended, 'the writer is waited for');
  });

  test('a writer that fails after chunks went out: the error, not a short file', async () => {
    const path = join(dir, 'e.bin');
    const writing = (async () => {
      await slowWriter(path, Array.from({ length: 25 }, () => randomBytes(100_000)));
      throw new Error('COPY aborted');
    })();
    let bytes = 0;
    await assert.rejects(tailFile(path, writing, (c) => { bytes += c.length; }), /COPY aborted/);
    assert.ok(bytes >= 1 << 20, `${bytes} bytes went out before the failure`);
  });

  test('without fresh, one buffer is reused (a consumer must not keep it)', async () => {
    const path = join(dir, 'f.bin');
    writeFileSync(path, randomBytes(3 << 20));
    const seen = new Set<ArrayBufferLike>();
    const r = await tailFile(path, Promise.resolve(), (c) => { seen.add(c.buffer); });
    assert.deepEqual(r, { bytes: 3 << 20, whole: true });
    assert.equal(seen.size, 1);
  });

  test('a writer that ends without writing the file is an error (the file is missing)', async () => {
    await assert.rejects(tailFile(join(dir, 'never.bin'), Promise.resolve(0), () => {}), { code: 'ENOENT' });
  });

  test('an empty file is read as empty', async () => {
    const path = join(dir, 'c.bin');
    writeFileSync(path, '');
    const chunks: Buffer[] = [];
    assert.deepEqual(await tailFile(path, Promise.resolve(), (c) => { chunks.push(c); }), { bytes: 0, whole: true });
    assert.equal(chunks.length, 0);
  });
});

describe('tailRecords', () => {
  const END = Buffer.from('\x03\n');
  const CHUNK = 1 << 18; // tailFile's fresh chunk
  /** Records of `sizes` bytes each (end included), each filled with its own letter. */
  const records = (sizes: number[]) => sizes.map((n, i) => Buffer.concat([Buffer.alloc(n - END.length, 97 + (i % 26)), END]));
  /** Checks that every visit is whole records and that together they are `want`, in order. */
  async function check(path: string, writing: Promise<unknown>, want: Buffer[]): Promise<number> {
    const got: Buffer[] = [];
    let visits = 0;
    await tailRecords(path, writing, END, async (buf) => {
      visits++;
      assert.ok(buf.length > 0 && buf.subarray(-END.length).equals(END), 'a visit ends with a record end');
      let at = 0;
      for (let e = buf.indexOf(END); e >= 0; e = buf.indexOf(END, at)) {
        got.push(Buffer.from(buf.subarray(at, e + END.length)));
        at = e + END.length;
      }
      assert.equal(at, buf.length, 'nothing after the last record end');
    });
    assert.equal(got.length, want.length);
    assert.ok(Buffer.concat(got).equals(Buffer.concat(want)), 'the same records in the same order');
    return visits;
  }

  test('records that cross chunks, an end split between two chunks, an end on a chunk\'s edge, a record of several chunks', async () => {
    const path = join(dir, 'r1.bin');
    // Chunk 1 ends between \x03 and \n; chunk 2 ends right after a record; then a record of ~2.3
    // chunks, a record whose end begins on the last byte of a chunk, and small ones.
    const sizes = [100_000, CHUNK - 100_000 + 1, CHUNK - 1, 600_000];
    const upTo = sizes.reduce((a, b) => a + b, 0);
    const nextEdge = Math.ceil(upTo / CHUNK) * CHUNK;
    sizes.push(nextEdge - upTo + 1, 7, 3, 50_000);
    const want = records(sizes);
    const all = Buffer.concat(want);
    assert.equal(all[CHUNK - 1], 3);
    assert.equal(all[CHUNK], 10);
    assert.equal(all[2 * CHUNK - 1], 10);
    assert.equal(all[nextEdge - 1], 3);
    writeFileSync(path, all);
    assert.ok((await check(path, Promise.resolve(), want)) >= 6);
  });

  test('records read while they are written, in pieces of any size', async () => {
    const path = join(dir, 'r2.bin');
    const want = records(Array.from({ length: 3_000 }, (_, i) => 2 + ((i * 7919) % 1_500)));
    const all = Buffer.concat(want);
    const pieces: Buffer[] = [];
    for (let at = 0, i = 0; at < all.length; i++) at += (pieces[pieces.length] = all.subarray(at, at + 1 + ((i * 104_729) % 90_000))).length;
    await check(path, slowWriter(path, pieces), want);
  });

  test('a file that ends inside a record is an error', async () => {
    const path = join(dir, 'r3.bin');
    writeFileSync(path, Buffer.concat([...records([10, 20]), Buffer.from('half a record\x03')]));
    await assert.rejects(tailRecords(path, Promise.resolve(), END, async () => {}), /ended inside a record/);
  });
});
