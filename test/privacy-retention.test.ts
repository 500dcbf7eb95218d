/**
 * Retention (R25) with injected wall and monotonic clocks, against the real server and sweeper:
 * export files kept exactly their configured days (files gone from disk, links 410); raw events at
 * 89 days kept and at 91 gone; aggregates of those days unchanged afterwards (rollup and record
 * paths, Kinescope), even after a late event for a session whose raw events expired; a wall clock
 * that jumps forward deletes nothing early, while running or across a restart; aggregates gone
 * after two years; the settings API with its validation and audit.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { apiClient, exportDone, type Api } from './helpers/api.ts';
import { collect, readAllEvents, startTestServer, type TestServer } from './helpers/server.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.now();
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** Noon (UTC) two days before T0's day: the "old" events. */
const TS_OLD = Math.floor(T0 / DAY) * DAY - 2 * DAY + 12 * HOUR;
const D_OLD = dayOf(TS_OLD);

let wall = T0;
let mono = 1_000;
let s: TestServer;
let api: Api;
let token = '';
let writeKey = '';
const to = (at: number) => {
  mono += at - wall;
  wall = at;
};
const sweep = async () => {
  const r = await s.server.sweeper.loop.kick();
  assert.ok(r, 'the sweep ran');
  return r;
};
const ids = async () => new Set((await readAllEvents(s.url, token)).map((e) => e.id as string));
const get = async (url: string) => (await fetch(url)).status;

async function aggregates() {
  return {
    rollup: (await api('GET', `/api/v1/stats?from=${D_OLD}&to=${D_OLD}`)).json.data[0],
    records: (await api('GET', `/api/v1/stats?from=${D_OLD}&to=${D_OLD}&platform=desktop`)).json.data[0],
    kinescope: (await api('GET', `/v1/analytics/overview?from=${D_OLD}&to=${D_OLD}`)).json.data,
  };
}

describe('retention sweeps with an injected clock', () => {
  let before_: Awaited<ReturnType<typeof aggregates>>;
  let exportA: any;

  before(async () => {
    s = await startTestServer({}, { now: () => wall, mono: () => mono });
    ({ token, writeKey } = s);
    api = apiClient(s.url, s.token);
    const r = await collect(s.url, { writeKey: s.writeKey, events: [
      { id: 'o-1', event: 'impression', timestamp: TS_OLD, contentId: 'vid', sessionId: 'old' },
      { id: 'o-2', event: 'playStart', timestamp: TS_OLD + 1000, contentId: 'vid', sessionId: 'old' },
      { id: 'o-3', event: 'watchProgress', timestamp: TS_OLD + 11_000, contentId: 'vid', sessionId: 'old', data: { from: 0, to: 10 } },
      { id: 'n-1', event: 'impression', timestamp: T0 - HOUR, contentId: 'vid', sessionId: 'new' },
    ] });
    assert.equal(r.json.accepted, 4, r.text);
    before_ = await aggregates();
    assert.equal(before_.rollup.views, 1);
    assert.equal(before_.rollup.total_watch_time, 10);
    exportA = await exportDone(api, '/api/v1/exports', { startDate: D_OLD, endDate: dayOf(T0), scope: 'events', format: 'csv' });
  });
  after(() => s.stop());

  it('keeps export files 7 days, then deletes them and their links answer 410', async () => {
    const dir = join(s.dataDir, 'exports', exportA.files[0].url.split('/downloads/')[1].split('/')[0]);
    to(T0 + 6 * DAY);
    await sweep();
    assert.equal(await get(exportA.files[0].url), 200);
    to(T0 + 7 * DAY + HOUR);
    await sweep();
    assert.equal(existsSync(dir), false);
    assert.equal(await get(exportA.files[0].url), 410);
    const e = await api('GET', `/api/v1/exports/${exportA.id}`);
    assert.equal(e.json.status, 'expired');
    assert.match(e.json.filesRemoved, /kept 7 days/);
  });

  it('reads and changes the settings; a shorter file retention applies to files and links', async () => {
    assert.deepEqual((await api('GET', '/api/v1/retention')).json, { rawDays: 90, aggregateDays: 730, exportFileDays: 7 });
    for (const bad of [{ aggregateDays: 30 }, { rawDays: 0 }, { rawDays: 'x' }, { exportFileDays: 1.5 }, { other: 3 }]) {
      const r = await api('PUT', '/api/v1/retention', bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.match(r.json.error.message, /Days|other/);
    }
    const r = await api('PUT', '/api/v1/retention', { exportFileDays: 2 });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { rawDays: 90, aggregateDays: 730, exportFileDays: 2 });
    const log = (await api('GET', '/api/v1/audit-log')).json.data;
    assert.equal(log[0].action, 'retention.update');
    assert.deepEqual(log[0].details.after, r.json);
    const b = await exportDone(api, '/api/v1/exports', { startDate: dayOf(wall - DAY), endDate: dayOf(wall), scope: 'events', format: 'jsonl' });
    assert.equal(Date.parse(b.files[0].expiresAt) - wall <= 2 * DAY, true);
    to(wall + DAY);
    await sweep();
    assert.equal(await get(b.files[0].url), 200);
    to(wall + 1.5 * DAY);
    await sweep();
    assert.equal(await get(b.files[0].url), 410);
    assert.equal((await api('GET', `/api/v1/exports/${b.id}`)).json.status, 'expired');
  });

  it('keeps raw events at 89 days and removes them at 91; aggregates of their day stay equal', async () => {
    to(TS_OLD + 89 * DAY);
    await sweep();
    assert.ok((await ids()).has('o-1'));
    to(TS_OLD + 91 * DAY);
    const r = await sweep();
    assert.equal(r.accounts[0].rawEvents, 3);
    const left = await ids();
    assert.deepEqual([...left].sort(), ['n-1']);
    assert.deepEqual(await aggregates(), before_);
  });

  it('a late event for an expired session stays raw and does not change the final record', async () => {
    const r = await collect(s.url, { writeKey: s.writeKey, events: [
      { id: 'late', event: 'watchProgress', timestamp: wall - HOUR, contentId: 'vid', sessionId: 'old', data: { from: 10, to: 20 } },
    ] });
    assert.equal(r.json.accepted, 1, r.text);
    assert.ok((await ids()).has('late'));
    assert.deepEqual(await aggregates(), before_);
  });

  it('a wall clock jumping forward while running deletes nothing early', async () => {
    const saved = wall;
    wall += 800 * DAY; // the monotonic clock did not move
    await sweep();
    assert.ok((await ids()).has('late'));
    assert.deepEqual(await aggregates(), before_);
    wall = saved;
  });

  it('removes aggregates after two years', async () => {
    to(TS_OLD + 731 * DAY);
    const r = await sweep();
    assert.equal(r.accounts[0].viewRecords, 1);
    const now_ = await aggregates();
    assert.equal(now_.rollup.views, 0);
    assert.equal(now_.records.views, 0);
    assert.equal(now_.kinescope.player_loads, 0);
  });

  it('a purge an erasure could not do is done by the next sweep, and the store works on', async () => {
    const before = await ids();
    await s.server.store.privacy.setPurgePending(true);
    const r = await sweep();
    assert.equal(r.purged, true);
    assert.equal(await s.server.store.privacy.purgePending(), false);
    assert.deepEqual(await ids(), before);
    const more = await collect(s.url, { writeKey, events: [{ id: 'after-purge', event: 'impression', timestamp: wall - HOUR, contentId: 'vid', sessionId: 'p' }] });
    assert.equal(more.json.accepted, 1);
    assert.ok((await ids()).has('after-purge'));
  });
});

describe('retention across a restart with a wrong clock', () => {
  it('deletes nothing early until new arrivals confirm the time; collect follows a shorter raw retention at once', async () => {
    wall = T0;
    mono = 5_000;
    s = await startTestServer({}, { now: () => wall, mono: () => mono });
    ({ token, writeKey } = s);
    api = apiClient(s.url, s.token);
    const r = await collect(s.url, { writeKey: s.writeKey, events: [{ id: 'a', event: 'impression', timestamp: T0 - HOUR, contentId: 'v', sessionId: 's' }] });
    assert.equal(r.json.accepted, 1);
    const dataDir = s.dataDir;
    await s.stop({ keepData: true });
    // Restarted 100 days "later" by a wrong wall clock; the monotonic clock starts afresh.
    wall = T0 + 100 * DAY;
    mono = 0;
    s = await startTestServer({}, { now: () => wall, mono: () => mono, dataDir });
    api = apiClient(s.url, token);
    try {
      await sweep();
      assert.ok((await ids()).has('a'), 'kept: nothing stored confirms that 100 days passed');
      const late = await collect(s.url, { writeKey, events: [{ id: 'b', event: 'impression', timestamp: wall - HOUR, contentId: 'v', sessionId: 't' }] });
      assert.equal(late.json.accepted, 1);
      await sweep();
      assert.deepEqual([...(await ids())], ['b'], 'a new arrival confirms the time');
      assert.equal((await api('PUT', '/api/v1/retention', { rawDays: 1 })).status, 200);
      const old = await collect(s.url, { writeKey, events: [{ event: 'impression', timestamp: wall - 2 * DAY, contentId: 'v', sessionId: 'u' }] });
      assert.equal(old.json.accepted, 0);
      assert.match(old.json.rejected[0].error, /retention of 1 days/);
    } finally {
      await s.stop();
    }
  });
});


describe('export files whose links expire before the retention', () => {
  it('are deleted by the next sweep after their links expire (REELSTAT_LINK_TTL shorter than the file retention)', async () => {
    wall = T0;
    mono = 9_000;
    s = await startTestServer({ REELSTAT_LINK_TTL: '3600' }, { now: () => wall, mono: () => mono });
    api = apiClient(s.url, s.token);
    try {
      const r = await collect(s.url, { writeKey: s.writeKey, events: [{ id: 'l', event: 'impression', timestamp: T0 - HOUR, contentId: 'v', sessionId: 's' }] });
      assert.equal(r.json.accepted, 1);
      const e = await exportDone(api, '/api/v1/exports', { startDate: dayOf(T0 - HOUR), endDate: dayOf(T0), scope: 'events', format: 'csv' });
      const dir = join(s.dataDir, 'exports', e.files[0].url.split('/downloads/')[1].split('/')[0]);
      to(T0 + 30 * 60_000);
      await sweep();
      assert.equal(existsSync(dir), true, 'kept while its links work');
      assert.equal(await get(e.files[0].url), 200);
      to(T0 + HOUR + 60_000);
      await sweep();
      assert.equal(existsSync(dir), false, 'gone once they expired, 7 days before the retention would take it');
      assert.equal(await get(e.files[0].url), 410);
      const after_ = await api('GET', `/api/v1/exports/${e.id}`);
      assert.equal(after_.json.status, 'expired');
      assert.equal(after_.json.filesRemoved, 'the download links expired');
    } finally {
      await s.stop();
    }
  });
});
