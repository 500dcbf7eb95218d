// The SDK's player adapters with the real players, not stand-ins: hls.js and video.js (its VHS
// engine) from npm play an HLS stream of two renditions (240p, 480p; H.264 made here with ffmpeg) in
// Debian's Chromium. A switch of rendition is a qualityChange, a stream that cannot load an error,
// and the view record is complete, as the HTML5 tracker alone would make it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { readAllEvents, runExport, type TestServer } from './helpers/server.ts';
import { mediaBed, type MediaBed } from './helpers/media.ts';
import type { StaticServer } from './helpers/static.ts';
import { download } from './helpers/files.ts';

const SECONDS = 8;
let s: TestServer;
let site: StaticServer;
let context: BrowserContext;

/** A page with the player's script, the SDK, a <video> and `script` (which sets window.tracking, and window.fail to make the player fail). */
const page = (lib: string, script: string) => () => `<!doctype html><meta charset="utf-8"><title>players</title>
<video id="v" class="video-js" muted playsinline></video>
<script src="/${lib}"></script>
<script src="${s.url}/sdk/reelstat.js"></script>
<script>
const opts = (contentId) => ({ writeKey: ${JSON.stringify(s.writeKey)}, contentId, title: contentId, flushInterval: 500 });
const v = document.getElementById('v');
const endedAt = new Promise((resolve) => v.addEventListener('ended', resolve, { once: true })); // made at load: never missed
window.ended = () => endedAt;
${script}
</script>`;

let bed: MediaBed;
before(async () => {
  bed = await mediaBed((d) => {
    mkdirSync(join(d, 'hls'));
    // Two renditions with keyframes every second, so a switch lands at once; a master playlist names them.
    execFileSync('/usr/bin/ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=duration=${SECONDS}:size=640x480:rate=10`,
      '-filter_complex', '[0:v]split=2[a][b];[a]scale=320:240[lo];[b]null[hi]', '-map', '[lo]', '-map', '[hi]',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '10', '-keyint_min', '10', '-sc_threshold', '0',
      '-b:v:0', '200k', '-b:v:1', '600k', '-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', '-master_pl_name', 'master.m3u8',
      '-hls_segment_filename', join(d, 'hls', 'seg_%v_%03d.ts'), '-var_stream_map', 'v:0 v:1', join(d, 'hls', 'index_%v.m3u8'),
    ]);
    const req = createRequire(import.meta.url);
    copyFileSync(join(dirname(req.resolve('hls.js/package.json')), 'dist', 'hls.min.js'), join(d, 'hls.js'));
    copyFileSync(join(dirname(req.resolve('video.js/package.json')), 'dist', 'video.min.js'), join(d, 'video.js'));
  }, (server) => {
    s = server;
    return {
      // hls.js: the low rendition first (by hand: no ABR), the high one from the third second.
      '/hls': page('hls.js', `
  const hls = window.player = new Hls({ startLevel: 0 });
  window.tracking = Reelstat.trackHls(hls, v, opts('hls-clip'));
  hls.on(Hls.Events.MANIFEST_PARSED, () => { hls.currentLevel = 0; v.play(); });
  const up = () => { if (v.currentTime >= 3) { v.removeEventListener('timeupdate', up); hls.currentLevel = 1; } };
  v.addEventListener('timeupdate', up);
  hls.loadSource('/hls/master.m3u8');
  hls.attachMedia(v);
  window.fail = () => new Promise((resolve) => { hls.on(Hls.Events.ERROR, (_e, d) => d.fatal && resolve(d.details)); hls.loadSource('/hls/missing.m3u8'); });`),
      // video.js with its own HLS engine (VHS) and quality levels; the first rendition it picks is turned
      // off, so VHS moves to the other one.
      '/videojs': page('video.js', `
  const player = window.player = videojs(v, { muted: true, autoplay: false, sources: [{ src: '/hls/master.m3u8', type: 'application/x-mpegURL' }] });
  window.tracking = Reelstat.trackVideojs(player, opts('vjs-clip'));
  const levels = player.qualityLevels();
  let switched = false;
  // The first rendition chosen is turned off at once (the whole clip would be buffered in it otherwise).
  levels.on('change', () => {
    if (switched || levels.selectedIndex < 0) return;
    switched = true;
    levels[levels.selectedIndex].enabled = false;
  });
  player.ready(() => player.play());
  window.fail = () => new Promise((resolve) => { player.one('error', () => resolve(player.error().code)); player.src({ src: '/nothing.webm', type: 'video/webm' }); });`),
    };
  });
  ({ site, context } = bed);
});

after(() => bed?.close());

/** Opens `path`, waits for the end, makes the player fail, flushes; answers the failure and the page's log. */
async function playThrough(path: string): Promise<{ failure: unknown; logs: string[] }> {
  const p: Page = await context.newPage();
  const logs: string[] = [];
  p.on('console', (m) => logs.push(m.text()));
  p.on('pageerror', (e) => logs.push(String(e)));
  await p.goto(`${site.url}${path}`);
  const until = (what: string, ms: number) => new Promise((_, reject) => setTimeout(() => reject(new Error(`${path}: no ${what} within ${ms} ms: ${logs.join(' | ')}`)), ms).unref());
  await Promise.race([p.evaluate(() => (window as any).ended()), until('end', 60_000)]);
  const failure = await Promise.race([p.evaluate(() => (window as any).fail()), until('failure', 30_000)]);
  assert.equal(await p.evaluate(() => (window as any).tracking.flush()), true, `events confirmed (${logs.join(' | ')})`);
  await p.close();
  return { failure, logs };
}

/** The events and the one view record of a video. */
async function stored(contentId: string) {
  const events = (await readAllEvents(s.url, s.token)).filter((e) => e.contentId === contentId);
  const today = new Date().toISOString().slice(0, 10);
  const e = await runExport(s.url, s.token, { startDate: today, endDate: today, scope: 'views', format: 'jsonl', filters: { contentId } });
  assert.equal(e.status, 'completed', JSON.stringify(e));
  const records: any[] = [];
  for (const f of e.files) records.push(...(await download(f.url)).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
  return { events, records };
}

describe('the player adapters with the real players in Chromium', () => {
  it('hls.js: a rendition switch is a qualityChange, a fatal error an error, and the view is whole', async () => {
    const { failure, logs } = await playThrough('/hls');
    assert.equal(failure, 'manifestLoadError', logs.join(' | '));
    const { events, records } = await stored('hls-clip');
    const quality = events.filter((e) => e.event === 'qualityChange');
    assert.equal(quality.length, 1, JSON.stringify(quality));
    assert.equal(quality[0].data.from, '240p');
    assert.equal(quality[0].data.to, '480p');
    assert.ok(quality[0].data.bitrate > 200_000, JSON.stringify(quality[0].data));
    const errors = events.filter((e) => e.event === 'error');
    assert.deepEqual(errors.map((e) => [e.data.code, e.data.fatal]), [['manifestLoadError', true]]);
    assert.equal(events.filter((e) => e.event === 'completion').length, 1);
    assert.equal(records.length, 1);
    assert.deepEqual([records[0].played, records[0].counted, records[0].completed, records[0].duration], [true, true, true, SECONDS]);
  });

  it('video.js (VHS): quality levels give the qualityChange, a player error its MEDIA_ERR code, and the view is whole', async () => {
    const { failure, logs } = await playThrough('/videojs');
    assert.equal(failure, 4, logs.join(' | '));
    const { events, records } = await stored('vjs-clip');
    const quality = events.filter((e) => e.event === 'qualityChange');
    assert.equal(quality.length, 1, JSON.stringify(quality) + logs.join(' | '));
    assert.notEqual(quality[0].data.from, quality[0].data.to);
    assert.ok(['240p', '480p'].includes(quality[0].data.to), JSON.stringify(quality[0].data));
    const errors = events.filter((e) => e.event === 'error');
    assert.deepEqual(errors.map((e) => [e.data.code, e.data.fatal]), [['MEDIA_ERR_SRC_NOT_SUPPORTED', true]]);
    assert.equal(events.filter((e) => e.event === 'completion').length, 1);
    assert.equal(records.length, 1);
    assert.deepEqual([records[0].played, records[0].counted, records[0].completed, records[0].duration], [true, true, true, SECONDS]);
  });
});
