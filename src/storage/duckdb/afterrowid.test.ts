// afterRowid (and afterRowidEquals, for a column that may hold nulls): a test of a column that
// DuckDB's scan evaluates only after a rowid range, so a narrow range reads none of that column's
// blocks outside it. DuckDB 1.5 prunes no row group by rowid and reorders a scan's filters at
// random; a plain filter on a column read the whole column.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Db, Param } from './db.ts';
import { scratchDb } from '../../../test/helpers/scratchdb.ts';
import { afterRowid, afterRowidEquals } from './recordsql.ts';

const ROWS = 2_000_000; // ~16 row groups
let db: Db;
scratchDb('afterrowid', '512MB', async (opened) => {
  db = opened;
  // Times in random order over 2026, so that no zone map settles a test of half the year.
  // `c`: text that may be null (a country, say), of many values.
  await db.run(`CREATE TABLE t (acc VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, x BIGINT NOT NULL, c VARCHAR)`);
  await db.run(`INSERT INTO t SELECT 'acc', TIMESTAMP '2026-01-01' + to_microseconds((hash(i) % 31536000000000)::BIGINT), i,
    CASE WHEN i % 7 = 0 THEN NULL ELSE 'c' || (hash(i + 1) % 5000)::VARCHAR END FROM range(${ROWS}) r(i)`);
  await db.run('CHECKPOINT');
});

const PERIOD: Param[] = ['acc', new Date('2026-01-01'), new Date('2026-07-01')];
const tableMb = async () => Number((await db.one<{ b: number }>("SELECT memory_usage_bytes AS b FROM duckdb_memory() WHERE tag = 'BASE_TABLE'"))!.b) / 1e6;

/**
 * The most MB of table blocks one of `runs` counts of 2,048 rowids read, each from an empty cache
 * (`params` before the range's; `some`: the least rows a count may find).
 */
async function mostRead(where: string, params: Param[] = PERIOD, some = 500, runs = 12): Promise<number> {
  let most = 0;
  for (let i = 0; i < runs; i++) {
    assert.ok(await db.releaseCache(), 'the cache is handed back');
    const before = await tableMb();
    const lo = 1_000_000 + i * 4096;
    const n = await db.one<{ n: number }>(`SELECT count(*) AS n FROM t WHERE ${where} AND rowid > ? AND rowid <= ?`, [...params, lo, lo + 2048]);
    assert.ok(n!.n >= some && n!.n < 2048);
    most = Math.max(most, (await tableMb()) - before);
  }
  return most;
}

it('a range of 2,048 rowids tested with afterRowid reads no column whole', async () => {
  const guarded = await mostRead(`${afterRowid('acc', 'acc = ?')} AND ${afterRowid('ts', 'ts >= ? AND ts < ?')}`);
  const plain = await mostRead('acc = ? AND ts >= ? AND ts < ?');
  // The timestamps are ~9 MB stored: the plain filters read them whole (the test can tell), the
  // guarded ones the blocks of the range (~0.5 MB).
  assert.ok(plain > 5, `the plain filters read ${plain.toFixed(1)} MB`);
  assert.ok(guarded < 2, `afterRowid read ${guarded.toFixed(1)} MB`);
});

it('afterRowid keeps the test: the same rows as the plain filter', async () => {
  const count = async (where: string) => (await db.one<{ n: number }>(`SELECT count(*) AS n FROM t WHERE ${where}`, ['acc', new Date('2026-03-01'), new Date('2026-06-01')]))!.n;
  const want = await count('acc = ? AND ts >= ? AND ts < ?');
  assert.ok(want > 0 && want < ROWS);
  assert.equal(await count(`${afterRowid('acc', 'acc = ?')} AND ${afterRowid('ts', 'ts >= ? AND ts < ?')}`), want);
});

it('afterRowidEquals: a column that may hold nulls, read in the range alone, the same rows as `=`', async () => {
  const value = (await db.one<{ c: string }>('SELECT c FROM t WHERE rowid = 1000001'))!.c;
  const guarded = await mostRead(afterRowidEquals('c'), [value, value], 0);
  const plain = await mostRead('c = ?', [value], 0);
  assert.ok(plain > 2, `the plain filter read ${plain.toFixed(1)} MB`);
  assert.ok(guarded < 1, `afterRowidEquals read ${guarded.toFixed(1)} MB`);
  const count = async (where: string, p: Param[]) => (await db.one<{ n: number }>(`SELECT count(*) AS n FROM t WHERE ${where}`, p))!.n;
  const want = await count('c = ?', [value]);
  assert.ok(want > 0);
  assert.equal(await count(afterRowidEquals('c'), [value, value]), want);
  assert.equal(await count(`NOT (${afterRowidEquals('c')})`, [value, value]), await count('c <> ?', [value]), 'nulls are neither');
});
