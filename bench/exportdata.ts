/**
 * Bulk synthetic rows for the export bench, generated inside DuckDB from `range(n)`: raw events and
 * view records with realistic widths (ids, URLs, user agents, JSON data, hm strings), so that the
 * 10M tier of both scopes can be seeded in a minute instead of replaying ~80M events through the
 * materializer. The export reads these tables exactly as it reads collected ones.
 */
import { Db, type StoreLimits } from '../src/storage/duckdb/db.ts';
import { openDuckDbStore } from '../src/storage/duckdb/index.ts';

const COUNTRIES = "['US','GB','DE','FR','IN','BR','JP','CA','AU','ES','IT','NL','SE','PL','MX','KR','RU','TR','ZA','AR']";
const PLATFORMS = "['desktop','desktop','smartphone','smartphone','tablet','tv']";
const OSES = "['Windows','Mac OS','iOS','Android','iOS','Tizen']";
const BROWSERS = "['Chrome','Safari','Mobile Safari','Chrome','Mobile Safari','Samsung Browser']";
const NAMES = "['impression','playStart','watchProgress','watchProgress','watchProgress','pause','seek','completion']";
const UA = "'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'";

/** `n` events of `accountId`, spread evenly over the 30 days before `nowMs`, seq after `seq0`, in time order. */
export async function seedSyntheticEvents(db: Db, accountId: string, n: number, nowMs: number, seq0: number): Promise<void> {
  const span = 30 * 86_400_000;
  await db.run(`INSERT INTO events
    SELECT ${seq0} + i + 1, ?, 'sev' || i, (hash(i) >> 11)::BIGINT, (${NAMES})[1 + i % 8],
      make_timestamp(((? - ${span})::BIGINT + (i * ${span} // ${n}))::BIGINT * 1000),
      make_timestamp(((? - ${span})::BIGINT + (i * ${span} // ${n}) + 150)::BIGINT * 1000),
      'video-' || (hash(i // 20) % 200), 's' || (i // 20), CASE WHEN i % 5 < 3 THEN 'u' || (hash(i // 40) % 200000) END, NULL, NULL, NULL,
      'web', CASE WHEN i % 8 BETWEEN 2 AND 4 THEN (i % 600) / 1.0 END,
      'https://site' || (i // 20 % 10) || '.example/page/' || (i // 20 % 50), CASE WHEN i % 3 = 0 THEN 'https://www.google.com/' END,
      'site' || (i // 20 % 10) || '.example', NULL, 60 + (hash(i // 20) % 20) * 30,
      CASE WHEN i % 8 BETWEEN 2 AND 4 THEN '{"from":' || (i % 600) || ',"to":' || (i % 600 + 10) || '}' END,
      '203.0.' || (i // 20 % 256) || '.' || (i // 5120 % 256), ${UA}, (${COUNTRIES})[1 + (hash(i // 20) % 20)::BIGINT], NULL, NULL, NULL, NULL, NULL,
      (${BROWSERS})[1 + (hash(i // 20 + 1) % 6)::BIGINT], (${OSES})[1 + (hash(i // 20 + 1) % 6)::BIGINT], (${PLATFORMS})[1 + (hash(i // 20 + 1) % 6)::BIGINT], false
    FROM range(${n}) t(i)`, [accountId, nowMs, nowMs]);
}

/**
 * `n` view records of `accountId`, started evenly over the 30 days before `nowMs` (stored in an
 * unrelated order, as the materializer leaves them), each a session of its own (its start its own).
 */
export async function seedSyntheticViews(db: Db, accountId: string, n: number, nowMs: number): Promise<void> {
  const span = 30 * 86_400_000;
  await db.run(`INSERT INTO view_records
    SELECT ?, 'svw' || i, 'video-' || (hash(i) % 200), 'sv' || i, 'u' || (hash(i + 7) % 200000),
      make_timestamp(((? - ${span})::BIGINT + (hash(i + 3) % ${span})::BIGINT)::BIGINT * 1000),
      make_timestamp(((? - ${span})::BIGINT + (hash(i + 3) % ${span})::BIGINT + 240000)::BIGINT * 1000),
      1, [0], [0], i % 5 <> 0, i % 5 < 3, i % 7 = 0, i % 4 = 0,
      '0-' || (i % 240) || ':1,' || (i % 240 + 1) || '-' || (i % 240 + 30) || ':2', 30 + i % 240, 40 + i % 300, 60 + (hash(i) % 20) * 30, 30 + i % 240,
      i % 3, (i % 3) * 1.5, 0,
      CASE WHEN i % 5 < 3 THEN 'u' || (hash(i + 7) % 200000) END, NULL, NULL, NULL,
      'web', (${BROWSERS})[1 + (hash(i + 1) % 6)::BIGINT], (${OSES})[1 + (hash(i + 1) % 6)::BIGINT], (${PLATFORMS})[1 + (hash(i + 1) % 6)::BIGINT], ${UA},
      '203.0.' || (i % 256) || '.' || (i // 256 % 256), (${COUNTRIES})[1 + (hash(i) % 20)::BIGINT], NULL, NULL, NULL, NULL, NULL,
      'https://site' || (i % 10) || '.example/page/' || (i % 50), CASE WHEN i % 3 = 0 THEN 'https://www.google.com/' END, 'site' || (i % 10) || '.example', NULL,
      make_timestamp(((? - ${span})::BIGINT + (hash(i + 3) % ${span})::BIGINT)::BIGINT * 1000), true
    FROM range(${n}) t(i)`, [accountId, nowMs, nowMs, nowMs]);
}

/** The 200 catalog entries the synthetic rows point at, in 10 projects and nested folders. */
export async function seedSyntheticCatalog(db: Db, accountId: string, nowMs: number): Promise<void> {
  await db.run(`INSERT INTO videos (account_id, content_id, title, duration, kind, project_id, folder, created_at, updated_at)
    SELECT ?, 'video-' || i, 'Video ' || i, 60 + (i % 20) * 30, 'video', 'p' || (i % 10), 'f' || (i % 5) || '/sub' || (i % 3), make_timestamp(? * 1000), make_timestamp(? * 1000)
    FROM range(200) t(i)`, [accountId, nowMs, nowMs]);
}

/**
 * A new database file at `path` (migrated) holding the synthetic catalog, `events` raw events and
 * `views` view records of `accountId`, checkpointed; answers it open with `limits` (the tests' seed).
 */
export async function seedSyntheticFile(path: string, accountId: string, rows: { events: number; views: number }, nowMs: number, limits: StoreLimits): Promise<Db> {
  const store = await openDuckDbStore(path);
  await store.migrate();
  await store.close();
  const db = await Db.open(path, 1, limits);
  await seedSyntheticCatalog(db, accountId, nowMs);
  await seedSyntheticEvents(db, accountId, rows.events, nowMs, 0);
  await seedSyntheticViews(db, accountId, rows.views, nowMs);
  await db.run('CHECKPOINT');
  return db;
}
