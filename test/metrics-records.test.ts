/**
 * Metrics of a set of view records taken from the records alone.
 *
 * A catalog entry nobody set a duration on takes the one its events report (events.md: "they fill the
 * catalog entry when it has none"), and that is the catalog duration of every record of the content
 * (metrics.md: "`duration` | the catalog duration, else the largest `duration` seen on its events"),
 * in every surface: a record whose own events carry no duration is not left out of watch depth.
 *
 * A record belongs to the day of its start (metrics.md), its peak concurrency too: a session that
 * starts before midnight and plays on after it counts on its start's day, with all its minutes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collect, startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
const DAY = 86_400_000;
const T = Math.floor(Date.now() / DAY) * DAY - 2 * DAY + 9 * 3_600_000; // two days ago, 09:00 UTC
const day = new Date(T).toISOString().slice(0, 10);
const at = (sec: number) => new Date(T + sec * 1000).toISOString();
const iso = (ms: number) => new Date(ms).toISOString();
const MIDNIGHT = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
const bearer = () => ({ authorization: `Bearer ${s.token}` });
const basic = () => ({ authorization: `Basic ${Buffer.from(`${s.email}:${s.password}`).toString('base64')}` });
const json = async (path: string, headers: Record<string, string>) => {
  const r = await fetch(`${s.url}${path}`, { headers });
  assert.equal(r.status, 200, path);
  return r.json() as Promise<any>;
};

before(async () => {
  s = await startTestServer();
  const events = [
    // s1 reports the duration (it fills the catalog entry); s2, later, does not.
    { id: 'd1-1', event: 'impression', timestamp: at(0), contentId: 'durv', sessionId: 's1', duration: 60 },
    { id: 'd1-2', event: 'watchProgress', timestamp: at(6), contentId: 'durv', sessionId: 's1', data: { from: 0, to: 6 } },
    { id: 'd1-3', event: 'impression', timestamp: at(100), contentId: 'durv', sessionId: 's2' },
    { id: 'd1-4', event: 'watchProgress', timestamp: at(130), contentId: 'durv', sessionId: 's2', data: { from: 0, to: 30 } },
    // Starts 10 s before midnight UTC three days ago, plays 30 s after it.
    { id: 'pk-1', event: 'impression', timestamp: iso(MIDNIGHT - 10_000), contentId: 'pkv', sessionId: 'pk', duration: 60 },
    { id: 'pk-2', event: 'playStart', timestamp: iso(MIDNIGHT - 9_000), contentId: 'pkv', sessionId: 'pk' },
    { id: 'pk-3', event: 'watchProgress', timestamp: iso(MIDNIGHT + 30_000), contentId: 'pkv', sessionId: 'pk', data: { from: 0, to: 30 } },
  ];
  assert.equal((await collect(s.url, events, { 'x-reelstat-key': s.writeKey })).json.accepted, events.length);
});
after(() => s.stop());

describe('a duration filled into the catalog by events', () => {
  it('is the catalog entry\'s duration', async () => {
    assert.equal((await json('/api/v1/videos/durv', bearer())).duration, 60);
  });

  it('counts in watch depth for every record, by whole days (the rollup) and in a zone (the records)', async () => {
    for (const q of [`from=${day}&to=${day}`, `from=${day}&to=${day}&tz=Asia/Kolkata`]) {
      const r = await json(`/api/v1/stats?${q}&video_id=durv&metrics=views,total_watch_time,watch_depth`, bearer());
      assert.deepEqual(r.data, [{ views: 2, total_watch_time: 36, watch_depth: 36 / (2 * 60) }], q);
    }
    const k = await json(`/v1/analytics/overview?video_id=durv&from=${day}&to=${day}`, bearer());
    assert.equal(k.data.watch_depth, 0.3, 'Kinescope');
  });

  it('is the duration of a record whose events carry none (Wistia percent_viewed)', async () => {
    const rows = await json('/stats/medias/durv/events.json', basic());
    const byWatched = rows.map((r: any) => [r.percent_viewed]).sort();
    assert.deepEqual(byWatched, [[0.1], [0.5]], 'unique seconds over 60 for both records');
  });
});

describe('peak concurrency of the records of a day', () => {
  it('counts a session on its start\'s day, its minutes after midnight too, with the same records as views', async () => {
    const [d0, d1] = [iso(MIDNIGHT - DAY).slice(0, 10), iso(MIDNIGHT).slice(0, 10)];
    for (const tz of ['UTC', 'Europe/London']) {
      const r = await json(`/api/v1/stats?from=${d0}&to=${d1}&tz=${tz}&video_id=pkv&dimensions=date&metrics=views,total_watch_time,peak_concurrent_viewers`, bearer());
      assert.deepEqual(r.data.map((x: any) => [x.date, x.views, x.total_watch_time, x.peak_concurrent_viewers]), [[d0, 1, 30, 1], [d1, 0, 0, 0]], tz);
    }
    const total = await json(`/api/v1/stats?from=${d1}&to=${d1}&video_id=pkv&metrics=views,peak_concurrent_viewers`, bearer());
    assert.deepEqual(total.data, [{ views: 0, peak_concurrent_viewers: 0 }], 'the day after has none of the record');
  });
});
