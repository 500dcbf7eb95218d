// A DuckDB file of its own for a test file, opened before its tests (then `setup`) and removed after them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Db } from '../../src/storage/duckdb/db.ts';

export function scratchDb(name: string, memoryLimit: string, setup: (db: Db) => Promise<void>): void {
  let dir = '';
  let db: Db | null = null;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), `rs-${name}-`));
    db = await Db.open(join(dir, 'db.duckdb'), 1, { memoryLimit, threads: 1 });
    await setup(db);
  });
  after(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });
}
