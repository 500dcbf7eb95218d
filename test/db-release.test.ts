// Db.releaseCache hands DuckDB's cached blocks back between an export's statements. It must never
// disturb the caller: DuckDB refuses a memory limit below what is pinned, and a refused statement in
// the caller's transaction would abort it ("Current transaction is aborted").
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
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
