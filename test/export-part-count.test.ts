/**
 * A part is written with as many rows as the snapshot counted for it, or the run fails saying so.
 * Here the stored session starts disagree with themselves (never so by the store's own writes: a
 * record of a session keeps its own start instead of the session's), so a sessions part counted
 * as one session holds two rows; under a byte limit the run wrote it again and again, for ever.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { seedSyntheticFile } from '../bench/exportdata.ts';
import { resolveFields } from '../src/exports/fields.ts';
import { writeRun } from '../src/exports/run.ts';
import { openDuckDbStore } from '../src/storage/duckdb/index.ts';
import { refreshSessionStarts } from '../src/storage/duckdb/sessionstarts.ts';
import type { ExportSource } from '../src/storage/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'rs-part-count-'));
const now = Date.UTC(2026, 10, 1);
after(() => rmSync(dir, { recursive: true, force: true }));

it('a part that holds another number of rows than counted fails the run, whatever the byte limit', { timeout: 60_000 }, async () => {
  const dbPath = join(dir, 'db.duckdb');
  const db = await seedSyntheticFile(dbPath, 'acc', { events: 10, views: 10 }, now, { threads: 1 });
  const base = now - 86_400_000;
  for (const [view, session, offset] of [['x1', 's1', 0], ['x2', 's1', 5000], ['x3', 's2', 1000], ['x4', 's3', 2000]] as const) {
    await db.run(`INSERT INTO view_records SELECT * REPLACE ('odd' AS account_id, ? AS view_id, ? AS session_id, make_timestamp(?::BIGINT * 1000) AS started_at,
      make_timestamp((?::BIGINT + 1000) * 1000) AS last_event_at, 'FR' AS country) FROM view_records WHERE account_id = 'acc' LIMIT 1`, [view, session, base + offset, base + offset]);
  }
  await refreshSessionStarts(db, 'odd', 'SELECT session_id FROM view_records WHERE account_id = ?', ['odd']);
  // s1's second record keeps its own start: s1 is counted at 0 s, and its second record read at 5 s too.
  await db.run("UPDATE view_records SET session_started_at = started_at WHERE account_id = 'odd' AND view_id = 'x2'");
  await db.close();
  const store = await openDuckDbStore(dbPath, { threads: 1 });
  try {
    const fields = resolveFields('sessions', [{ fieldName: 'sessionId' }]).map((f) => ({ name: f.def.name, as: f.as }));
    const source: ExportSource = { scope: 'sessions', accountId: 'odd', fromMs: base, toMs: base + 60_000, filters: { country: 'FR' }, neutralize: false, fields };
    for (const partBytes of [undefined, 20]) {
      const runId = `odd-${partBytes ?? 'rows'}`;
      await assert.rejects(writeRun(store, dir, { runId, format: 'csv', gzip: false, zip: false, partRows: 1, partBytes, period: { from: '', to: '' }, source }),
        /export part \d+: 2 rows written where 1 were counted/);
      assert.equal(existsSync(join(dir, runId)), false, 'no run directory');
      assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.tmp-')), [], 'no temporary files left');
    }
  } finally {
    await store.close();
  }
});
