// The SDK in a real browser: Debian's Chromium (headless, through playwright-core) plays a 20 s VP9
// clip made here with ffmpeg, on a page of another origin that loads /sdk/reelstat.js from the real
// server. The test plays, pauses, seeks back and lets it end; the server's view record then has the
// hm, the view and the completion of exactly that. A second page leaves while events still wait:
// they arrive by sendBeacon.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { encodeHm, secondCounts } from '../src/metrics/hm.ts';
import { readAllEvents, runExport, type TestServer } from './helpers/server.ts';
import { mediaBed, type MediaBed } from './helpers/media.ts';
import type { StaticServer } from './helpers/static.ts';
import { download } from './helpers/files.ts';

const CLIP_SECONDS = 20;
let s: TestServer;
let site: StaticServer;
let context: BrowserContext;

/** A page of the site with the clip and the SDK; `opts` are extra Reelstat.track options. */
function page(contentId: string, opts: Record<string, unknown>): () => string {
  const options = JSON.stringify({ writeKey: s.writeKey, contentId, title: `Clip ${contentId}`, ...opts });
  return () => `<!doctype html><meta charset="utf-8"><title>SDK test</title>
<video id="v" muted playsinline preload="auto" src="/clip.webm"></video>
<script src="${s.url}/sdk/reelstat.js"></script>
<script>
window.tracking = Reelstat.track(document.getElementById('v'), ${options});
const v = document.getElementById('v');
// Helpers for the test (functions written in the test file would be rewritten by its TypeScript loader).
window.untilTime = (t) => new Promise((resolve) => {
  const check = () => { if (v.currentTime >= t) { v.removeEventListener('timeupdate', check); resolve(); } };
  v.addEventListener('timeupdate', check);
});
window.next = (name) => new Promise((resolve) => v.addEventListener(name, resolve, { once: true }));
</script>`;
}

let bed: MediaBed;
before(async () => {
  bed = await mediaBed((d) => {
    execFileSync('/usr/bin/ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=duration=${CLIP_SECONDS}:size=320x240:rate=10`,
      '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k', join(d, 'clip.webm'),
    ]);
  }, (server) => {
    s = server;
    return {
      '/watch': page('browser-clip', { flushInterval: 500 }),
      '/leave': page('beacon-clip', { flushInterval: 600_000 }),
    };
  });
  ({ site, context } = bed);
});

after(() => bed?.close());

const authed = { headers: { authorization: '' } };
async function api(path: string): Promise<any> {
  authed.headers.authorization = `Bearer ${s.token}`;
  const r = await fetch(`${s.url}${path}`, authed);
  assert.equal(r.status, 200, `${path}: ${r.status}`);
  return r.json();
}

/** The account's view records of one video, through an on-demand export (JSON Lines). */
async function viewRecords(contentId: string): Promise<any[]> {
  const today = new Date().toISOString().slice(0, 10);
  const e = await runExport(s.url, s.token, {
    startDate: today, endDate: today, scope: 'views', format: 'jsonl', filters: { contentId },
    fields: ['viewId', 'sessionId', 'viewer', 'loads', 'played', 'counted', 'completed', 'hm', 'uniqueSeconds', 'duration', 'title', 'browser', 'url'],
  });
  assert.equal(e.status, 'completed', JSON.stringify(e));
  const rows: any[] = [];
  for (const f of e.files) rows.push(...(await download(f.url)).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
  return rows;
}

describe('the SDK in Chromium', () => {
  it('play, pause, seek back, end: the record has that hm, one view and the completion', async () => {
    const p = await context.newPage();
    const logs: string[] = [];
    p.on('console', (m) => logs.push(m.text()));
    p.on('pageerror', (e) => logs.push(String(e)));
    await p.goto(`${site.url}/watch`);
    const pausedAt = await p.evaluate(async () => {
      const v = document.getElementById('v') as HTMLVideoElement;
      await v.play();
      await (window as any).untilTime(7);
      v.pause();
      return v.currentTime;
    });
    await p.waitForTimeout(1500);
    const { duration, endedAt } = await p.evaluate(async () => {
      const v = document.getElementById('v') as HTMLVideoElement;
      const seeked = (window as any).next('seeked');
      v.currentTime = 2;
      await seeked;
      const ended = (window as any).next('ended');
      await v.play();
      await ended;
      return { duration: v.duration, endedAt: v.currentTime };
    });
    assert.equal(duration, CLIP_SECONDS);
    assert.equal(endedAt, CLIP_SECONDS);
    assert.equal(await p.evaluate(() => (window as any).tracking.flush()), true, `events confirmed (${logs.join(' | ')})`);
    // The ES module loads across origins too.
    assert.equal(await p.evaluate(async (u) => typeof (await import(u)).track, `${s.url}/sdk/reelstat.mjs`), 'function');
    await p.close();

    const want = encodeHm(secondCounts([{ from: 0, to: pausedAt }, { from: 2, to: CLIP_SECONDS }]));
    const [r, ...more] = await viewRecords('browser-clip');
    assert.equal(more.length, 0, 'one session, one record');
    assert.equal(r.hm, want, `paused at ${pausedAt}`);
    assert.deepEqual([r.loads, r.played, r.counted, r.completed, r.uniqueSeconds, r.duration], [1, true, true, true, CLIP_SECONDS, CLIP_SECONDS]);
    assert.deepEqual([r.title, r.browser, r.url], ['Clip browser-clip', 'Chrome', `${site.url}/watch`]);

    const stats = await api('/api/v1/stats?video_id=browser-clip&metrics=views,player_loads,unique_views,completion_rate,total_watch_time');
    assert.deepEqual(stats.data, [{ views: 1, player_loads: 1, unique_views: 1, completion_rate: 1, total_watch_time: CLIP_SECONDS }]);

    const events = (await readAllEvents(s.url, s.token)).filter((e) => e.contentId === 'browser-clip');
    const names = events.map((e) => e.event);
    for (const n of ['impression', 'playStart', 'pause', 'seek', 'completion']) assert.equal(names.filter((x) => x === n).length, 1, `one ${n} in ${names}`);
    const seek = events.find((e) => e.event === 'seek');
    assert.deepEqual(seek.data, { from: Math.round(pausedAt * 1000) / 1000, to: 2 });
    assert.equal(new Set(events.map((e) => e.id)).size, events.length);
  });

  it('a page left while events wait sends them by sendBeacon; the viewer id persists across pages', async () => {
    const p = await context.newPage();
    await p.goto(`${site.url}/leave`);
    const at = await p.evaluate(async () => {
      const v = document.getElementById('v') as HTMLVideoElement;
      await v.play();
      await (window as any).untilTime(6);
      return v.currentTime;
    });
    // Nothing has gone yet (the batch waits ten minutes); leaving the page hides it: beacon.
    assert.equal((await readAllEvents(s.url, s.token)).filter((e) => e.contentId === 'beacon-clip').length, 0);
    await p.goto('about:blank');
    let rows: any[] = [];
    for (let i = 0; i < 100 && !(rows[0]?.hm); i++) {
      await new Promise((r) => setTimeout(r, 100));
      rows = await viewRecords('beacon-clip');
    }
    assert.equal(rows.length, 1);
    assert.equal(rows[0].browser, 'Chrome');
    const m = /^0-(\d+)$/.exec(rows[0].hm);
    assert.ok(m && Number(m[1]) >= Math.round(at) - 1 && Number(m[1]) <= Math.round(at) + 1, `hm ${rows[0].hm} after playing to ${at}`);
    assert.equal(rows[0].counted, true);
    const [first] = await viewRecords('browser-clip');
    assert.equal(rows[0].viewer, first.viewer, 'the same anonymous viewer on both pages (localStorage)');
    assert.notEqual(rows[0].sessionId, first.sessionId, 'a new tab is a new session');
    await p.close();
  });
});
