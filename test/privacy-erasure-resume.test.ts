/**
 * An erasure that fails half-way, after the viewer's events are deleted but before the export files
 * holding them are: sent again, it still finds and deletes those files (where it found the viewer's
 * data was kept), says it resumed, and records one audit entry for the erasure.
 *
 * One that fails in its last step, the compaction that purges the deleted rows' bytes from the
 * database file (a kill -9 there): the purge stays owed, and the next sweep does it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { apiClient, exportDone, type Api } from './helpers/api.ts';
import { collect, readAllEvents, startTestServer, type TestServer } from './helpers/server.ts';

const VIEWER = 'resume-viewer';
const T = Date.now() - 7_200_000; // two hours ago
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

let s: TestServer;
let api: Api;
before(async () => {
  s = await startTestServer();
  api = apiClient(s.url, s.token);
  const events = [];
  for (let i = 0; i < 3; i++) {
    const base = { contentId: 'vid-r', sessionId: `sr${i}`, userId: VIEWER };
    events.push(
      { ...base, id: `r${i}-1`, event: 'playStart', timestamp: T + i * 60_000 },
      { ...base, id: `r${i}-2`, event: 'watchProgress', timestamp: T + i * 60_000 + 6000, data: { from: 0, to: 5 } },
    );
  }
  events.push({ contentId: 'vid-r', sessionId: 'other', id: 'o-1', event: 'playStart', timestamp: T, userId: 'someone-else' });
  const r = await collect(s.url, { writeKey: s.writeKey, events });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.json.accepted, 7, r.text);
});
after(() => s.stop());

/** DELETE /api/v1/users/{viewer} with one step of the store's privacy repository failing (then put back). */
async function eraseFailingAt(viewer: string, step: 'removeRunFiles' | 'purge', error: string) {
  const privacy = s.server.store.privacy;
  const real = privacy[step];
  privacy[step] = async () => { throw new Error(error); };
  try {
    return await api('DELETE', `/api/v1/users/${viewer}`);
  } finally {
    privacy[step] = real as never;
  }
}

it('a retry after a failure half-way finds the files holding events the first attempt deleted', async () => {
  const stored = await exportDone(api, '/api/v1/exports', { startDate: day(Date.now() - 86_400_000), endDate: day(Date.now()), scope: 'events', format: 'csv' });
  const link = stored.files[0].url as string;
  assert.match(await (await fetch(link)).text(), new RegExp(VIEWER));

  // The first attempt fails once the events are deleted, before the files are.
  const failed = await eraseFailingAt(VIEWER, 'removeRunFiles', 'disk went away');
  assert.equal(failed.status, 500, failed.text);
  const left = (await readAllEvents(s.url, s.token)).filter((e) => e.userId === VIEWER);
  assert.equal(left.length, 0, 'the events were deleted before the failure');
  assert.equal((await fetch(link)).status, 200, 'the file holding them is still there');

  const retry = await api('DELETE', `/api/v1/users/${VIEWER}`);
  assert.equal(retry.status, 200, retry.text);
  assert.equal(retry.json.resumed, true);
  assert.equal(retry.json.removed.events, 0, 'nothing left to delete in the store');
  assert.deepEqual(retry.json.removed.exportFiles.map((f: { exportId: string }) => f.exportId), [stored.id], 'the file is found all the same');
  assert.equal((await fetch(link)).status, 410);

  const audit = (await api('GET', '/api/v1/audit-log')).json.data.filter((e: { action: string }) => e.action === 'viewer.erase');
  assert.equal(audit.length, 1, JSON.stringify(audit));
  assert.equal(audit[0].details.resumed, true);

  // Ended: a third request is a plain repeat, with nothing kept from before.
  const again = await api('DELETE', `/api/v1/users/${VIEWER}`);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.resumed, undefined);
  assert.deepEqual(again.json.removed.exportFiles, []);
  assert.equal(await s.server.store.privacy.pendingErasure(s.server.firstAccount!.id, retry.json.subject), null);
});

it('a failure during the compaction leaves the purge owed: the next sweep purges the file', async () => {
  const MARK = 'crash-compaction-marker-7Q';
  const viewer = 'compaction-viewer';
  const events = Array.from({ length: 5 }, (_, i) => ({ id: `cc-${i}`, event: 'playStart', timestamp: T + i * 1000, contentId: 'vid-c', sessionId: 'sc', userId: viewer, url: `https://${MARK}.test/${i}` }));
  assert.equal((await collect(s.url, { writeKey: s.writeKey, events })).json.accepted, 5);
  const dbHits = () => ['reelstat.duckdb', 'reelstat.duckdb.wal'].map((f) => join(s.dataDir, f)).filter(existsSync)
    .reduce((n, f) => n + readFileSync(f).toString('latin1').split(MARK).length - 1, 0);
  const privacy = s.server.store.privacy;
  const failed = await eraseFailingAt(viewer, 'purge', 'killed during the compaction');
  assert.equal(failed.status, 500, failed.text);
  assert.equal(await privacy.purgePending(), true, 'the purge is still owed');
  assert.ok(dbHits() > 0, 'the deleted rows\' bytes are still in the file (the check below can fail)');

  const sweep = await s.server.sweeper.loop.kick();
  assert.equal(sweep?.purged, true);
  assert.equal(await privacy.purgePending(), false);
  assert.equal(dbHits(), 0, 'the file holds nothing of the viewer');
  // A repeat now finds nothing and owes nothing: no compaction.
  const again = await api('DELETE', `/api/v1/users/${viewer}`);
  assert.deepEqual([again.status, again.json.purged, again.json.removed.events], [200, true, 0]);
});

it('an answer\'s suppressed says whether the viewer is refused now, not what the request asked', async () => {
  const viewer = 'suppressed-viewer';
  const answer = async (q = '') => (await api('DELETE', `/api/v1/users/${viewer}${q}`)).json.suppressed;
  assert.equal(await answer('?suppress=true'), true);
  assert.equal(await answer(), true, 'a repeat without ?suppress=true: still refused (it said false)');
  assert.equal((await api('DELETE', `/api/v1/users/${viewer}/suppression`)).status, 204);
  assert.equal(await answer(), false);
});

it('an export filtered to a video the viewer never played is kept; one of a video they played is deleted', async () => {
  const viewer = 'content-viewer';
  const events = [
    { id: 'k-1', event: 'playStart', timestamp: T, contentId: 'vid-k', sessionId: 'sk', userId: viewer },
    { id: 'k-2', event: 'playStart', timestamp: T, contentId: 'vid-none', sessionId: 'sn', userId: 'someone-else-k' },
  ];
  assert.equal((await collect(s.url, { writeKey: s.writeKey, events })).json.accepted, 2);
  const period = { startDate: day(Date.now() - 86_400_000), endDate: day(Date.now()), scope: 'events', format: 'csv' };
  const played = await exportDone(api, '/api/v1/exports', { ...period, filters: { contentId: 'vid-k' } });
  const other = await exportDone(api, '/api/v1/exports', { ...period, filters: { contentId: 'vid-none' } });
  const erased = await api('DELETE', `/api/v1/users/${viewer}`);
  assert.equal(erased.status, 200, erased.text);
  const ids = erased.json.removed.exportFiles.map((f: { exportId: string }) => f.exportId);
  assert.ok(ids.includes(played.id), 'the export of the video they played');
  assert.ok(!ids.includes(other.id), 'not the export of a video they never played');
  assert.equal((await fetch(played.files[0].url)).status, 410);
  assert.equal((await fetch(other.files[0].url)).status, 200);
});
