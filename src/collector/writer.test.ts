/**
 * Group commit against a real DuckDB file: a request whose events the store refuses fails alone,
 * the requests that shared its commit are still committed (before, one value the store could not
 * hold answered 503 to every request of every account in the same commit).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import type { StoredEvent } from '../events/types.ts';
import { createLogger } from '../logger.ts';
import { openDuckDbStore } from '../storage/duckdb/index.ts';
import { EventWriter } from './writer.ts';

const dir = mkdtempSync(join(tmpdir(), 'rs-writer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function event(accountId: string, over: Partial<StoredEvent> = {}): StoredEvent {
  n++;
  return {
    accountId, id: `w-${n}`, clientId: false, fp: 0, receivedAt: Date.now(), event: 'impression', timestamp: Date.now() - 1000,
    contentId: 'v1', sessionId: `s-${n}`, userId: null, email: null, viewerAccountId: null, viewerName: null, deviceType: 'web',
    currentTime: null, url: null, referrer: null, title: null, duration: null, data: null, ip: null, userAgent: null,
    country: null, region: null, city: null, lat: null, lon: null, org: null, browser: null, os: null, platform: 'desktop', isBot: false, domain: null,
    ...over,
  };
}

it('a request the store refuses fails alone; the others of its commit are stored', async () => {
  const store = await openDuckDbStore(join(dir, 'reelstat.duckdb'), { memoryLimit: '256MB', threads: 1 });
  try {
    await store.migrate();
    const writer = new EventWriter(store, { maxQueuedEvents: 10_000, maxCommitEvents: 1_000 }, createLogger('silent'));
    await writer.start();
    // Submitted in one tick: one commit. The middle request holds a duration the store cannot hold
    // (the collector refuses it since; a store's refusal of anything else goes the same way).
    const results = await Promise.allSettled([
      writer.submit([event('acc_a'), event('acc_a')]),
      writer.submit([event('acc_b', { duration: 1e300 })]),
      writer.submit([event('acc_c')]),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value.accepted : (r.reason as { code?: string }).code)), [2, 'storage_unavailable', 1]);
    assert.equal(await store.events.maxSeq(), 3, 'the three events of the other requests, numbered in a row');
    assert.equal(writer.healthy, true, 'the store took the others: it is not down (/healthz)');
    assert.deepEqual((await writer.submit([event('acc_a')])).accepted, 1);
  } finally {
    await store.close();
  }
});
