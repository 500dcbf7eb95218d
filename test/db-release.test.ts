// Db.releaseCache hands DuckDB's cached blocks back between an export's statements. It must never
// disturb the caller: DuckDB refuses a memory limit below what is pinned, and a refused statement in
// the caller's transaction would abort it ("Current transaction is aborted").
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { Db } from '../src/storage/duckdb/db.ts';

const dir = mkdtempSync(join(tmpdir(), 'rs-release-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A database whose table `t` has a primary key: its index stays pinned in memory, beyond a 1MB limit. */
async function withIndexedTable(name: string): Promise<Db> {
  const db = await Db.open(join(dir, name), 2, { memoryLimit: '256MB', threads: 1 });
  await db.run('CREATE TABLE t (i BIGINT PRIMARY KEY, s VARCHAR)');
  await db.run('INSERT INTO t SELECT i, md5(i::VARCHAR) || md5((i + 1)::VARCHAR) FROM range(300000) r(i)');
  await db.run('CHECKPOINT');
  await db.run("INSERT INTO t VALUES (1, 'x') ON CONFLICT DO NOTHING"); // loads the index, as the event writer's inserts do
  return db;
}

/** A database whose table `t` holds 4M rows of ~200 MB of blocks, on disk (a 512MB limit, one thread). */
async function withWideTable(name: string, pool: number): Promise<Db> {
  const db = await Db.open(join(dir, name), pool, { memoryLimit: '512MB', threads: 1 });
  await db.run('CREATE TABLE t (i BIGINT, s VARCHAR)');
  await db.run('INSERT INTO t SELECT i, md5(i::VARCHAR) || md5((i + 7)::VARCHAR) || md5((i + 9)::VARCHAR) FROM range(4000000) r(i)');
  await db.run('CHECKPOINT');
  return db;
}

it('the premise: a limit below what is pinned is refused, and the refusal aborts the transaction it ran in', async () => {
  const db = await withIndexedTable('premise.duckdb');
  try {
    const failed = await db.tx(async (q) => {
      await q.run("INSERT INTO t SELECT i, 'new' FROM range(300000, 600000) r(i)"); // index and new rows: pinned
      await assert.rejects(q.run("SET memory_limit = '1MB'"), /memory limit/i);
      return q.one('SELECT count(*) FROM t');
    }).then(() => null, (err: Error) => err.message);
    assert.match(failed ?? '', /transaction is aborted/i);
  } finally {
    await db.close();
  }
});

it('releaseCache inside a transaction, with an index pinned: the cache goes, the transaction goes on, the limit comes back', async () => {
  const db = await withIndexedTable('release.duckdb');
  try {
    const n = await db.tx(async (q) => {
      const cached = async () => Number((await q.one<{ b: number }>("SELECT coalesce(sum(memory_usage_bytes), 0) AS b FROM duckdb_memory() WHERE tag = 'BASE_TABLE'"))!.b);
      await q.run("INSERT INTO t SELECT i, 'new' FROM range(300000, 300100) r(i)");
      await q.one('SELECT max(s) FROM t');
      const before = await cached();
      assert.ok(before > 4e6, `a scan caches table blocks (${before} bytes)`);
      assert.equal(await db.releaseCache(), true);
      assert.ok((await cached()) < before / 2, `cached table blocks ${before} → ${await cached()} bytes`);
      return Number((await q.one<{ n: number }>('SELECT count(*) AS n FROM t'))!.n);
    });
    assert.equal(n, 300100);
    assert.equal(Number((await db.one<{ n: number }>('SELECT count(*) AS n FROM t'))!.n), 300100, 'committed');
    assert.match(String((await db.one<{ l: string }>("SELECT current_setting('memory_limit') AS l"))!.l), /^2(44|56)/);
  } finally {
    await db.close();
  }
});

it('releaseCache does nothing while another connection is in use', async () => {
  const db = await Db.open(join(dir, 'b.duckdb'), 2, { memoryLimit: '256MB', threads: 1 });
  try {
    let released: boolean | null = null;
    await db.with(async () => {
      await db.with(async () => {
        released = await db.releaseCache();
      });
    });
    assert.equal(released, false);
    assert.equal(await db.releaseCache(), true);
  } finally {
    await db.close();
  }
});

it('releaseCache while the caller\'s statement runs: the statement is never failed, its file is the same, the cache stays small', { timeout: 120_000 }, async () => {
  // An export reads a whole part in one statement and hands the cache back every 100 ms meanwhile
  // (exports.ts, handingBack). Here every 2 ms, through a scan of ~200 MB of table blocks.
  const db = await withWideTable('running.duckdb', 2);
  try {
    const copyOnce = async (pulse: boolean) => {
      const out = join(dir, `running-${pulse}.csv`);
      await db.releaseCache();
      let released = 0;
      const cached = await db.tx(async (q) => {
        const running = q.run(`COPY (SELECT * FROM t WHERE i % 3 = 0) TO '${out}' (FORMAT CSV)`);
        let done = false;
        void running.finally(() => (done = true)).catch(() => {});
        while (pulse && !done) {
          if (await db.releaseCache({ running: true })) released++;
          await new Promise((r) => setTimeout(r, 2));
        }
        assert.equal(await running, 1333334);
        return Number((await q.one<{ b: number }>("SELECT coalesce(sum(memory_usage_bytes), 0) AS b FROM duckdb_memory() WHERE tag = 'BASE_TABLE'"))!.b);
      });
      return { cached, released, sha: createHash('sha256').update(readFileSync(out)).digest('hex') };
    };
    const plain = await copyOnce(false);
    const pulsed = await copyOnce(true);
    assert.ok(plain.cached > 150e6, `the scan alone keeps its blocks (${plain.cached} bytes)`);
    assert.ok(pulsed.released > 10, `${pulsed.released} releases while it ran`);
    assert.ok(pulsed.cached < plain.cached / 2, `cached after the statement: ${plain.cached} → ${pulsed.cached} bytes`);
    assert.equal(pulsed.sha, plain.sha);
    assert.match(String((await db.one<{ l: string }>("SELECT current_setting('memory_limit') AS l"))!.l), /^(488|512)/);
  } finally {
    await db.close();
  }
});

it('releaseCache while two connections of one export run statement after statement (pieces, exportpieces.ts): none fails, the files are the same', { timeout: 180_000 }, async () => {
  // An export's dense part is written in pieces by its connection and a twin (Db.txPair), each
  // handing the cache back as a piece ends while the other's statement runs, or starts. Here a
  // release every 2 ms besides, through 16 pieces of a ~200 MB table.
  const db = await withWideTable('pieces.duckdb', 4);
  try {
    // A small joined table, as view records join the catalog: each piece builds its hash table, under a lowered limit or not.
    await db.run('CREATE TABLE c AS SELECT k, md5(k::VARCHAR) AS name FROM range(1000) r(k)');
    const PIECES = 16;
    const writeAll = (pulse: boolean) => db.txPair(async (q, twin) => {
      assert.ok(twin, 'a twin');
      let released = 0;
      let writing = 2;
      const files: string[] = [];
      const writers = [q, twin].map(async (c, k) => {
        for (let i = k; i < PIECES; i += 2) {
          files[i] = join(dir, `piece-${pulse}-${i}.csv`);
          const step = 4_000_000 / PIECES;
          await c.run(`COPY (SELECT t.*, c.name FROM t LEFT JOIN c ON c.k = t.i % 1000 WHERE i >= ${i * step} AND i < ${(i + 1) * step} AND i % 3 = 0 ORDER BY i) TO '${files[i]}' (FORMAT CSV)`);
          if (pulse && (await db.releaseCache({ running: true, held: 2 }))) released++;
        }
        writing--;
      });
      while (pulse && writing > 0) {
        if (await db.releaseCache({ running: true, held: 2 })) released++;
        await new Promise((r) => setTimeout(r, 2));
      }
      await Promise.all(writers);
      const hash = createHash('sha256');
      for (const f of files) hash.update(readFileSync(f));
      return { released, sha: hash.digest('hex') };
    });
    const plain = await writeAll(false);
    const pulsed = await writeAll(true);
    assert.ok(pulsed.released > 20, `${pulsed.released} releases while they ran`);
    assert.equal(pulsed.sha, plain.sha);
    assert.match(String((await db.one<{ l: string }>("SELECT current_setting('memory_limit') AS l"))!.l), /^(488|512)/);
  } finally {
    await db.close();
  }
});
