// Db.txPair: an export's transaction and a twin on a second connection that sees the same snapshot,
// so that two statements of one export can run at once (exportpieces.ts, inPieces). Two transactions
// see the same data only when nothing commits between their starts: txPair holds new borrowers back
// until those in use are done, and goes without a twin when they are not back in time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, it } from 'node:test';
import { Db } from '../src/storage/duckdb/db.ts';

const dir = mkdtempSync(join(tmpdir(), 'rs-txpair-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('the twin reads the snapshot of the transaction while writers commit all along', async () => {
  const db = await Db.open(join(dir, 'pair.duckdb'), 4, { threads: 1 });
  try {
    await db.run('CREATE TABLE t (i BIGINT, x BIGINT)');
    let stop = false;
    let n = 0;
    // Two writers, one through the pool and one through the event writer's connection: inserts,
    // and updates of rows already there, committed back to back.
    const pool = (async () => {
      while (!stop) await db.run('INSERT INTO t VALUES (?, 0)', [n++]);
    })();
    const writer = (async () => {
      while (!stop) await db.withWriter((c) => c.run('UPDATE t SET x = x + 1 WHERE i % 3 = 0'));
    })();
    const sum = 'SELECT count(*)::BIGINT AS n, coalesce(sum(x), 0)::BIGINT AS x FROM t';
    try {
      for (let i = 0; i < 25; i++) {
        await db.txPair(async (q, twin) => {
          assert.ok(twin, 'a twin: the writers give their connections back between statements');
          const mine = await q.one(sum);
          await sleep(3); // more commits
          assert.deepEqual(await twin.one(sum), mine, `pair ${i}: the same snapshot`);
          assert.deepEqual(await q.one(sum), mine);
        });
      }
    } finally {
      stop = true;
      await Promise.all([pool, writer]);
    }
    assert.ok(n > 25, `the writers committed meanwhile (${n} inserts)`);
  } finally {
    await db.close();
  }
});

it('no twin when a connection stays in use past the wait, or the pool has none to spare; the pool is whole afterwards', async () => {
  const db = await Db.open(join(dir, 'busy.duckdb'), 3, { threads: 1 });
  try {
    await db.run('CREATE TABLE t (i BIGINT)');
    const busy = db.with(() => sleep(400));
    await sleep(5);
    const t0 = Date.now();
    await db.txPair(async (q, twin) => {
      assert.equal(twin, null);
      await q.run('INSERT INTO t VALUES (1)'); // the transaction itself works, and commits
    }, 50);
    assert.ok(Date.now() - t0 < 350, 'it did not wait for the busy connection');
    await busy;
    assert.equal(Number((await db.one<{ n: number }>('SELECT count(*) AS n FROM t'))?.n), 1);
    // Every connection is back: three borrowers at once, and a pair again.
    await Promise.all([db.with(() => sleep(20)), db.with(() => sleep(20)), db.with(() => sleep(20))]);
    await db.txPair(async (_q, twin) => assert.ok(twin));
    // A failure in fn rolls back, and gives the twin back.
    await assert.rejects(db.txPair(async (q) => {
      await q.run('INSERT INTO t VALUES (2)');
      throw new Error('boom');
    }), /boom/);
    assert.equal(Number((await db.one<{ n: number }>('SELECT count(*) AS n FROM t'))?.n), 1);
    await Promise.all([db.with(() => sleep(20)), db.with(() => sleep(20)), db.with(() => sleep(20))]);
  } finally {
    await db.close();
  }
  const small = await Db.open(join(dir, 'small.duckdb'), 2, { threads: 1 });
  try {
    await small.txPair(async (_q, twin) => assert.equal(twin, null, 'a pool of two keeps its other connection for everybody else'));
  } finally {
    await small.close();
  }
});
