/** Numbered migrations: NNN_name.sql files applied in order, each once, each in its own transaction. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../paths.ts';
import type { Db } from './db.ts';

const DIR = join(ROOT, 'src', 'storage', 'duckdb', 'migrations');

export function listMigrations(): Array<{ version: number; name: string; sql: string }> {
  return readdirSync(DIR)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f, sql: readFileSync(join(DIR, f), 'utf8') }));
}

/** Applies what is missing; returns the schema version reached. */
export async function migrate(db: Db): Promise<number> {
  await db.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)');
  const done = new Set((await db.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
  let version = done.size ? Math.max(...done) : 0;
  for (const m of listMigrations()) {
    if (done.has(m.version)) continue;
    await db.tx(async (q) => {
      for (const stmt of m.sql.split(/;\s*(?:\n|$)/).map((s) => s.trim()).filter((s) => s && !/^(--[^\n]*\n?)+$/.test(s))) {
        await q.run(stmt);
      }
      await q.run('INSERT INTO schema_migrations VALUES (?, ?, ?)', [m.version, m.name, new Date()]);
    });
    version = m.version;
  }
  return version;
}
