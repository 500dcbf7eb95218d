/**
 * Write-write conflicts between transactions (Db.tx): DuckDB ends the later of two transactions
 * that change one row with "Conflict on update"; tx rolls it back and runs it again, so both
 * changes land (a schedule deleted while the scheduler wrote its runs answered 500 before).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { Db, isConflict } from '../src/storage/duckdb/db.ts';

const dir = mkdtempSync(join(tmpdir(), 'rs-conflict-'));
let db: Db;
before(async () => {
  db = await Db.open(join(dir, 'db.duckdb'), 4, { threads: 1 });
  await db.run('CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
  await db.run('INSERT INTO counter VALUES (1, 0)');
});
after(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Adds 1 to the counter in a transaction that reads it, waits for `gate`, then writes it. */
const increment = (gate: Promise<void>, opts?: { retry: boolean }) => db.tx(async (q) => {
  const n = Number((await q.one<{ n: number }>('SELECT n FROM counter WHERE id = 1'))!.n);
  await gate;
  await q.run('UPDATE counter SET n = ? WHERE id = 1', [n + 1]);
}, opts);

it('two transactions changing one row at once: the one that conflicts runs again, both land', async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const both = Promise.all([increment(gate), increment(gate)]);
  setTimeout(open, 50); // both have read 0 by then
  await both;
  assert.equal(Number((await db.one<{ n: number }>('SELECT n FROM counter'))!.n), 2, 'each increment once');
});

it('without retry the conflict reaches the caller, and nothing of it stays', async () => {
  const start = Number((await db.one<{ n: number }>('SELECT n FROM counter'))!.n);
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const results = Promise.allSettled([increment(gate, { retry: false }), increment(gate, { retry: false })]);
  setTimeout(open, 50);
  const [a, b] = await results;
  const failed = [a, b].filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  assert.equal(failed.length, 1, 'one of the two conflicts');
  assert.ok(isConflict(failed[0]!.reason), String(failed[0]!.reason));
  assert.equal(Number((await db.one<{ n: number }>('SELECT n FROM counter'))!.n), start + 1);
});
