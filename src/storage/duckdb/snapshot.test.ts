// Store.readSnapshot: every read inside sees one snapshot, while writes on other connections go on.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { openDuckDbStore } from './index.ts';

it('reads inside readSnapshot do not see writes committed after it began', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-snap-'));
  const store = await openDuckDbStore(join(dir, 'db.duckdb'), { memoryLimit: '256MB', threads: 1 });
  try {
    await store.migrate();
    const now = Date.now();
    await store.catalog.upsertVideo('acc', 'v1', { title: 'One', folder: 'f' }, now);
    const seen = await store.readSnapshot(async (snap) => {
      const before = (await snap.reports.items('acc', {})).map((i) => i.contentId);
      // Committed by another connection while the snapshot is open.
      await store.catalog.upsertVideo('acc', 'v2', { title: 'Two', folder: 'f' }, now);
      assert.deepEqual((await store.reports.items('acc', {})).map((i) => i.contentId).sort(), ['v1', 'v2'], 'the write is committed');
      const after = (await snap.reports.items('acc', {})).map((i) => i.contentId);
      // Concurrent reads on the one pinned connection take turns instead of failing.
      const both = await Promise.all([snap.reports.items('acc', {}), snap.catalog.getVideo('acc', 'v2')]);
      return { before, after, parallel: both[0].length, v2: both[1] };
    });
    assert.deepEqual(seen.before, ['v1']);
    assert.deepEqual(seen.after, ['v1'], 'the snapshot does not see v2');
    assert.equal(seen.parallel, 1);
    assert.equal(seen.v2 ?? null, null);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
