/**
 * The tracker's segments, events and ids, on a fake <video> and clock. The events it sends are fed
 * to the server's own view-record definition, so "the SDK produces the right numbers" is checked
 * against the metric code itself.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildViewRecord, type RecordEvent } from '../../src/metrics/viewRecord.ts';
import { FakeEnv, FakeVideo, sentEvents as sent } from './fake.ts';
import { SESSION_IDLE_MS } from './ids.ts';
import { collectUrl, track } from './track.ts';
import type { TrackOptions } from './tracker.ts';

const OPTS: TrackOptions = { writeKey: 'wk_test', endpoint: 'https://stats.example', contentId: 'intro', title: 'Intro', flushInterval: 1000 };

function setup(over: Partial<TrackOptions> = {}) {
  const env = new FakeEnv();
  const video = new FakeVideo(env);
  const t = track(video as unknown as HTMLVideoElement, { ...OPTS, ...over }, env);
  return { env, video, t };
}

/** The server's view record of these events (one session, one content). */
function recordOf(events: Array<Record<string, any>>) {
  const rows = events.map((e) => ({
    ip: null, userAgent: null, country: null, region: null, city: null, lat: null, lon: null, org: null,
    browser: null, os: null, platform: null, domain: null, deviceType: null,
    email: null, viewerAccountId: null, viewerName: null, title: null, duration: null, data: null,
    ...e, receivedAt: e.timestamp,
  })) as unknown as RecordEvent[];
  return buildViewRecord('acc', rows, null);
}

const names = (evs: Array<Record<string, any>>) => evs.map((e) => e.event);
const progress = (evs: Array<Record<string, any>>) => evs.filter((e) => e.event === 'watchProgress').map((e) => [e.data.from, e.data.to]);

test('impression on attach with the page, the options and persistent ids', async () => {
  const { env, video } = setup({ email: 'a@b.c', viewerName: 'Ann' });
  // Later players in the same browser: same viewer; same session within 30 idle minutes, then a new one.
  const again = () => track(video as unknown as HTMLVideoElement, { ...OPTS, contentId: 'other' }, env);
  env.advance(SESSION_IDLE_MS - 1);
  again();
  env.advance(SESSION_IDLE_MS);
  again();
  const evs = await sent(env);
  const imp = evs[0]!;
  assert.equal(imp.event, 'impression');
  assert.match(imp.id, /^[0-9a-f]{32}$/);
  assert.equal(typeof imp.timestamp, 'number');
  assert.deepEqual(
    [imp.contentId, imp.title, imp.email, imp.viewerName, imp.url, imp.referrer],
    ['intro', 'Intro', 'a@b.c', 'Ann', 'https://shop.example/watch', 'https://www.google.com/'],
  );
  assert.equal(env.requests[0]!.url, 'https://stats.example/api/v1/collect');
  assert.equal(env.requests[0]!.body.writeKey, 'wk_test');
  assert.equal(evs.length, 3);
  assert.equal(new Set(evs.map((e) => e.id)).size, 3);
  assert.equal(new Set(evs.map((e) => e.userId)).size, 1);
  assert.equal(evs[1]!.sessionId, imp.sessionId);
  assert.notEqual(evs[2]!.sessionId, imp.sessionId);
  // The site's own user id replaces the anonymous one; values are cut to what the collector accepts.
  const own = setup({ userId: 42 as unknown as string, title: 't'.repeat(2000), viewerName: 'n'.repeat(300) });
  const [e] = await sent(own.env);
  assert.deepEqual([e!.userId, e!.title.length, e!.viewerName.length], ['42', 1024, 256]);
});

test('play, pause, seek back and end: the record has the hm, the view and the completion that happened', async () => {
  const { env, video } = setup();
  video.loadMetadata(30);
  video.play();
  video.run(7000);
  video.pause();
  env.advance(3000);
  video.seekTo(2);
  video.play();
  video.run(40_000);
  const evs = await sent(env);
  assert.deepEqual(names(evs), ['impression', 'playStart', 'watchProgress', 'pause', 'seek', 'watchProgress', 'watchProgress', 'watchProgress', 'completion']);
  assert.deepEqual(progress(evs), [[0, 7], [2, 12], [12, 22], [22, 30]]);
  assert.deepEqual(evs[4]!.data, { from: 7, to: 2 });
  assert.ok(evs.slice(1).every((e) => e.duration === 30));
  const r = recordOf(evs);
  assert.equal(r.hm, '0-1,2-6:2,7-29');
  assert.equal(r.counted, true);
  assert.equal(r.longestRun, 28, 'the 10-second splits of one play stay one continuous run');
  assert.equal(r.completed, true);
  assert.equal(r.uniqueSeconds, 30);
});

test('a seek while playing closes the segment where the playhead was; buffering after a seek is not a rebuffer', async () => {
  const { env, video } = setup();
  video.loadMetadata(60);
  video.play();
  video.run(4100);
  video.seekTo(30, 800);
  video.run(3000);
  video.stall();
  env.advance(2500);
  video.resume();
  video.run(1000);
  video.pause();
  const evs = await sent(env);
  assert.deepEqual(names(evs), ['impression', 'playStart', 'watchProgress', 'seek', 'watchProgress', 'rebuffer', 'watchProgress', 'pause']);
  assert.deepEqual(progress(evs), [[0, 4.1], [30, 33], [33, 34]]);
  assert.deepEqual(evs[3]!.data, { from: 4.1, to: 30 });
  assert.deepEqual(evs[5]!.data, { duration: 2.5 });
  const r = recordOf(evs);
  assert.equal(r.hm, '0-3,30-33');
  assert.equal(r.counted, false, 'no 5 s without interruption');
});

test('a looping video reports a completion when it starts over', async () => {
  const { env, video } = setup();
  video.loop = true;
  video.loadMetadata(10);
  video.play();
  video.run(9900);
  video.seekTo(0);
  video.pause();
  const evs = await sent(env);
  assert.deepEqual(names(evs).slice(-4), ['watchProgress', 'seek', 'completion', 'pause']);
});

test('quality from the picture height and errors from the element, unless an adapter reports them', async () => {
  const { env, video } = setup();
  video.loadMetadata(30, 720);
  video.setHeight(1080);
  video.setHeight(1080);
  video.fail(3, 'PIPELINE_ERROR_DECODE');
  const evs = (await sent(env)).slice(1);
  assert.deepEqual(evs.map((e) => [e.event, e.data]), [
    ['qualityChange', { from: '720p', to: '1080p' }],
    ['error', { code: 'MEDIA_ERR_DECODE', message: 'PIPELINE_ERROR_DECODE', fatal: true }],
  ]);
  const off = setup({ nativeErrors: false, nativeQuality: false });
  off.video.loadMetadata(30, 720);
  off.video.setHeight(1080);
  off.video.fail(2, 'x');
  assert.deepEqual(names(await sent(off.env)), ['impression']);
});

test('page hide closes the segment at the playhead and beacons everything unconfirmed, in-flight events too', async () => {
  const { env, video } = setup({ flushInterval: 0 });
  video.loadMetadata(120);
  video.play();
  env.advance(0);
  assert.equal(env.requests.length, 1, 'impression and playStart went out');
  video.run(6000);
  env.hide();
  assert.equal(env.beacons.length, 1);
  const b = env.beacons[0]!;
  assert.equal(b.url, 'https://stats.example/api/v1/collect');
  assert.equal(b.body.writeKey, 'wk_test');
  assert.deepEqual(names(b.body.events), ['impression', 'playStart', 'watchProgress']);
  assert.deepEqual(b.body.events[2]!.data, { from: 0, to: 6 });
  // The video plays on in the background: the next segment starts where the beaconed one ended.
  video.run(10_000);
  video.pause();
  await env.requests[0]!.answer({ status: 202, retryAfter: null });
  const later = await sent(env);
  const all = [...b.body.events, ...later];
  assert.deepEqual(progress(all), [[0, 6], [6, 16]]);
  assert.deepEqual(names(later).slice(-1), ['pause']);
  assert.equal(new Set(all.map((e) => e.id)).size, all.length - 2, 'the in-flight pair was beaconed with the same ids');
  assert.equal(recordOf(all.filter((e, i) => all.findIndex((x) => x.id === e.id) === i)).longestRun, 16);
});

test('batches: events wait for flushInterval, a full batch goes at once, one request at a time', async () => {
  const { env, video, t } = setup({ maxBatch: 3, flushInterval: 5000 });
  video.loadMetadata(30, 720);
  env.advance(4999);
  assert.equal(env.requests.length, 0);
  env.advance(1);
  assert.equal(env.requests.length, 1);
  assert.deepEqual(names(env.requests[0]!.body.events), ['impression']);
  for (const h of [480, 360, 240, 144]) video.setHeight(h);
  assert.equal(env.requests.length, 1, 'a full batch waits for the request in flight');
  await env.requests[0]!.answer({ status: 202, retryAfter: null });
  assert.equal(env.requests.length, 2);
  assert.equal(env.requests[1]!.body.events.length, 3);
  const done = t.flush();
  await env.requests[1]!.answer({ status: 202, retryAfter: null });
  assert.equal(env.requests.length, 3, 'flush sends the rest without waiting');
  await env.requests[2]!.answer({ status: 202, retryAfter: null });
  assert.equal(await done, true);
});

test('retries: 5xx, 429 and network failures resend the same ids after a backoff; 4xx answers are final', async () => {
  const { env, video } = setup({ flushInterval: 0 });
  env.advance(0);
  const first = env.requests[0]!;
  await first.answer({ status: 503, retryAfter: null });
  env.advance(700);
  assert.equal(env.requests.length, 1, 'no resend before the backoff (1 s ± 25 %)');
  env.advance(700);
  assert.equal(env.requests.length, 2);
  assert.deepEqual(env.requests[1]!.body.events.map((e) => e.id), first.body.events.map((e) => e.id));
  await env.requests[1]!.answer({ status: 429, retryAfter: 7 });
  env.advance(6999);
  assert.equal(env.requests.length, 2, 'Retry-After is honoured');
  env.advance(1);
  await env.requests[2]!.answer('network');
  env.advance(2999);
  assert.equal(env.requests.length, 3, 'the third failure waits 4 s ± 25 %');
  env.advance(2001);
  assert.equal(env.requests.length, 4);
  await env.requests[3]!.answer({ status: 202, retryAfter: null });
  assert.deepEqual(new Set(env.requests.map((r) => r.body.events[0]!.id)).size, 1);
  video.loadMetadata(30, 720);
  video.setHeight(1080);
  env.advance(0);
  await env.requests[4]!.answer({ status: 400, retryAfter: null });
  env.advance(120_000);
  assert.equal(env.requests.length, 5, 'a 400 is not retried');
});

test('what the browser would not beacon waits in the outbox and goes with the next page', async () => {
  const { env, video } = setup({ flushInterval: 60_000 });
  video.loadMetadata(30);
  video.play();
  video.run(3000);
  env.beaconWorks = false;
  env.hide();
  assert.equal(env.requests.length, 0);
  // The next page in the same browser: a fresh transport over the same storage.
  const next = new FakeEnv();
  next.outbox = env.outbox;
  next.ids = env.ids;
  track(new FakeVideo(next) as unknown as HTMLVideoElement, { ...OPTS, contentId: 'next' }, next);
  next.advance(0);
  assert.deepEqual(names(next.requests[0]!.body.events), ['impression', 'playStart', 'watchProgress', 'impression']);
  await next.requests[0]!.answer({ status: 202, retryAfter: null });
  assert.equal(env.outbox.get('reelstat_q https://stats.example/api/v1/collect wk_test'), null, 'confirmed events leave the outbox');
});

test('destroy closes the open segment, sends it and stops listening', async () => {
  const { env, video, t } = setup();
  video.loadMetadata(30);
  video.play();
  video.run(5000);
  t.destroy();
  video.run(5000);
  video.pause();
  assert.deepEqual(progress(await sent(env)), [[0, 5]]);
});

test('options are checked with a clear message; endpoint is a base URL or the collect URL', () => {
  const env = new FakeEnv();
  const v = new FakeVideo(env) as unknown as HTMLVideoElement;
  assert.throws(() => track(v, { ...OPTS, writeKey: '' }, env), /writeKey is required/);
  assert.throws(() => track(v, { ...OPTS, contentId: 'x'.repeat(129) }, env), /contentId is required: a string of 1 to 128/);
  assert.throws(() => track({} as HTMLVideoElement, OPTS, env), /<video> or <audio> element/);
  assert.throws(() => track(v, { ...OPTS, endpoint: undefined }, env), /endpoint is required/);
  assert.equal(collectUrl('https://s.example/'), 'https://s.example/api/v1/collect');
  assert.equal(collectUrl('https://s.example/stats/api/v1/collect'), 'https://s.example/stats/api/v1/collect');
});
