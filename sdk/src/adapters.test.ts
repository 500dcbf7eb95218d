/**
 * The hls.js and video.js adapters against stand-ins with those libraries' event APIs (the SDK
 * bundles neither; test/sdk-players.test.ts runs the real ones in Chromium): levels become
 * qualityChange, player errors become error, and the element's own quality and error reports are
 * turned off so nothing is counted twice.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trackHls, trackVideojs } from './adapters.ts';
import { FakeEnv, FakeVideo, sentEvents } from './fake.ts';

const OPTS = { writeKey: 'wk_test', endpoint: 'https://stats.example', contentId: 'hls-1', flushInterval: 0 };

class Emitter {
  handlers: Record<string, Array<(...a: any[]) => void>> = {};
  on(e: string, fn: (...a: any[]) => void) {
    (this.handlers[e] ??= []).push(fn);
  }
  off(e: string, fn: (...a: any[]) => void) {
    this.handlers[e] = (this.handlers[e] ?? []).filter((f) => f !== fn);
  }
  emit(e: string, ...args: any[]) {
    for (const f of [...(this.handlers[e] ?? [])]) f(...args);
  }
}

async function played(env: FakeEnv) {
  return (await sentEvents(env)).filter((e) => e.event !== 'impression');
}

test('hls.js: level switches, fatal errors, non-fatal errors once per kind, stalls left to rebuffer', async () => {
  const env = new FakeEnv();
  const video = new FakeVideo(env);
  const hls = Object.assign(new Emitter(), {
    media: video as unknown as HTMLVideoElement,
    levels: [{ height: 360, bitrate: 800_000 }, { height: 720, bitrate: 2_500_000 }, { bitrate: 5_000_000, name: 'hi' }],
  });
  const t = trackHls(hls, null, OPTS, env);
  hls.emit('hlsLevelSwitched', 'hlsLevelSwitched', { level: 0 });
  hls.emit('hlsLevelSwitched', 'hlsLevelSwitched', { level: 1 });
  hls.emit('hlsLevelSwitched', 'hlsLevelSwitched', { level: 2 });
  hls.emit('hlsError', 'hlsError', { type: 'mediaError', details: 'bufferStalledError', fatal: false });
  hls.emit('hlsError', 'hlsError', { type: 'networkError', details: 'fragLoadError', fatal: false });
  hls.emit('hlsError', 'hlsError', { type: 'networkError', details: 'fragLoadError', fatal: false });
  hls.emit('hlsError', 'hlsError', { type: 'networkError', details: 'manifestLoadError', fatal: true, reason: 'HTTP 404' });
  video.loadMetadata(10, 360);
  video.setHeight(720);
  video.fail(2, 'network');
  assert.deepEqual((await played(env)).map((e) => [e.event, e.data]), [
    ['qualityChange', { from: '360p', to: '720p', bitrate: 2_500_000 }],
    ['qualityChange', { from: '720p', to: 'hi', bitrate: 5_000_000 }],
    ['error', { code: 'fragLoadError', message: 'networkError', fatal: false }],
    ['error', { code: 'manifestLoadError', message: 'HTTP 404', fatal: true }],
  ]);
  hls.emit('hlsDestroying', 'hlsDestroying');
  assert.deepEqual(hls.handlers.hlsLevelSwitched, []);
  assert.deepEqual(hls.handlers.hlsError, []);
  assert.equal(typeof t.flush, 'function');
  // The event names come from the Hls class when it has them.
  class Hls extends Emitter {
    static Events = { LEVEL_SWITCHED: 'levelSwitched', ERROR: 'err', DESTROYING: 'bye' };
  }
  const h2 = Object.assign(new Hls(), { levels: [] });
  trackHls(h2, new FakeVideo(env) as unknown as HTMLVideoElement, OPTS, env);
  assert.equal(h2.handlers.levelSwitched?.length, 1);
  assert.throws(() => trackHls(new Emitter(), null, OPTS, env), /pass the <video> element/);
});

test('video.js: the tech <video>, quality levels, player errors, dispose', async () => {
  const env = new FakeEnv();
  const video = new FakeVideo(env);
  const levels = Object.assign(new Emitter(), { selectedIndex: -1, 0: { height: 480, bitrate: 1e6 }, 1: { height: 1080, bitrate: 6e6, label: 'HD' } });
  let err: { code: number; message: string } | null = null;
  const player = Object.assign(new Emitter(), {
    el: () => ({ tagName: 'DIV', querySelector: (s: string) => (s === 'video' ? video : null) }) as unknown as Element,
    error: () => err,
    qualityLevels: () => levels,
  });
  trackVideojs(player, { ...OPTS, contentId: 'vjs-1' }, env);
  levels.selectedIndex = 0;
  levels.emit('change');
  levels.selectedIndex = 1;
  levels.emit('change');
  video.loadMetadata(30, 480);
  video.setHeight(1080);
  err = { code: 4, message: 'No compatible source was found for this media.' };
  player.emit('error');
  video.fail(4, 'x');
  video.play();
  video.run(2000);
  player.emit('dispose');
  video.run(2000);
  const evs = await played(env);
  assert.deepEqual(evs.map((e) => [e.event, e.data]), [
    ['qualityChange', { from: '480p', to: '1080p', bitrate: 6e6 }],
    ['error', { code: 'MEDIA_ERR_SRC_NOT_SUPPORTED', message: 'No compatible source was found for this media.', fatal: true }],
    ['playStart', undefined],
    ['watchProgress', { from: 0, to: 2 }],
  ]);
  assert.deepEqual(player.handlers.error, []);
  assert.deepEqual(levels.handlers.change, []);
  assert.throws(() => trackVideojs({ ...player, on: player.on, off: player.off, el: () => ({ tagName: 'DIV', querySelector: () => null }) as unknown as Element }, OPTS, env), /no <video> element/);
});
