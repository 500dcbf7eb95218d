/**
 * The HTML5 tracker: turns a <video>'s media events into the collector's events (spec/events.md) so
 * that the server's view record (spec/metrics.md) comes out right:
 * - a `watchProgress` {from, to} is a stretch played without interruption, stamped when `to` was
 *   reached; it is closed on pause, seek, rebuffer, end, every 10 s and when the page is hidden, and
 *   the next one starts where it ended, so the 5-second rule sees one continuous run;
 * - `impression` on attach, `playStart` on the first frame played (again after an end), `pause`,
 *   `seek` {from, to}, `completion` on end, `rebuffer` {duration} when a stall ends, `qualityChange`
 *   when the picture height changes, `error` with the MediaError.
 */
import type { Env } from './env.ts';
import { randomId, sessionId, viewerId } from './ids.ts';
import type { TrackedEvent, Transport } from './transport.ts';

export interface TrackOptions {
  /** The account's write key (wk_…). */
  writeKey: string;
  /** The collector: the server's base URL or its full /api/v1/collect URL; default: where the SDK was loaded from. */
  endpoint?: string;
  /** The video, stream or broadcast (at most 128 characters). */
  contentId: string;
  title?: string;
  /** Seconds; default: the media's own once known. */
  duration?: number;
  /** Your own user id; default: a persistent anonymous id. */
  userId?: string;
  email?: string;
  viewerAccountId?: string;
  viewerName?: string;
  /** Overrides the tab session (default: sessionStorage, renewed after 30 minutes without events). */
  sessionId?: string;
  /** false: keep nothing in localStorage, sessionStorage or cookies (ids live as long as the page). */
  persist?: boolean;
  /** Milliseconds a batch waits for more events (default 3000). */
  flushInterval?: number;
  /** Events a request at most (default 50, at most 1000). */
  maxBatch?: number;
  /** Milliseconds of playback after which a watchProgress segment is closed (default 10000). */
  progressInterval?: number;
  /** Report `qualityChange` from the video's height (default true; the hls.js and video.js adapters report levels instead). */
  nativeQuality?: boolean;
  /** Report the <video> element's MediaError (default true; the adapters report the player's errors instead). */
  nativeErrors?: boolean;
}

export interface Tracking {
  /** Sends what waits now; resolves true once the collector has confirmed everything. */
  flush(): Promise<boolean>;
  /** Closes the open segment, sends what waits and stops listening. */
  destroy(): void;
  /** Reports a quality switch (adapters call this); `from` defaults to the last one reported; the first one only sets it. */
  qualityChange(to: string, bitrate?: number, from?: string): void;
  /** Reports a player error (adapters call this). */
  error(code: string, message?: string, fatal?: boolean): void;
}

const MEDIA_ERRORS = ['', 'MEDIA_ERR_ABORTED', 'MEDIA_ERR_NETWORK', 'MEDIA_ERR_DECODE', 'MEDIA_ERR_SRC_NOT_SUPPORTED', 'MEDIA_ERR_ENCRYPTED'];
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const cut = (s: string | undefined, n: number) => (s == null ? undefined : String(s).slice(0, n));

export function mediaErrorCode(code: number | undefined): string {
  return (code && MEDIA_ERRORS[code]) || String(code == null ? 'unknown' : code);
}

export function createTracker(video: HTMLVideoElement, o: TrackOptions, env: Env, transport: Transport): Tracking {
  const progressMs = o.progressInterval || 10000;
  const page = env.page();
  // Cut to the collector's limits: an event with a field too long would be refused whole.
  const userId = cut(o.userId, 128) || viewerId(env, env.ids);
  const who = { email: cut(o.email, 320), viewerAccountId: cut(o.viewerAccountId, 256), viewerName: cut(o.viewerName, 256), title: cut(o.title, 1024) };
  let open = false;
  let segFrom = 0;
  let segWall = 0;
  let tick: unknown = null;
  let lastPos = video.currentTime || 0;
  let lastPosAt = env.now();
  let started = false;
  let stallAt: number | null = null;
  /** A seek is under way: its buffering is not a rebuffer. */
  let seekingNow = false;
  let quality: string | undefined;
  let height = 0;
  let done = false;

  function send(event: string, data?: Record<string, unknown>): void {
    const d = o.duration || video.duration;
    const e: TrackedEvent = {
      id: randomId(env),
      event,
      timestamp: env.now(),
      contentId: o.contentId,
      sessionId: cut(o.sessionId, 128) || sessionId(env, env.tab),
      userId,
      email: who.email,
      viewerAccountId: who.viewerAccountId,
      viewerName: who.viewerName,
      title: who.title,
      duration: d > 0 && d < Infinity ? r3(d) : undefined,
      currentTime: r3(video.currentTime || 0),
      url: page.url,
      referrer: page.referrer,
      data,
    };
    transport.push(e);
  }

  function openSegment(): void {
    if (open || done) return;
    open = true;
    segFrom = lastPos = video.currentTime;
    segWall = lastPosAt = env.now();
    tick = env.setTimeout(() => {
      close(video.currentTime);
      if (!video.paused && !video.ended) openSegment();
    }, progressMs);
  }

  /** Ends the segment at media time `to`, reporting it when it has any length. */
  function close(to: number): void {
    if (!open) return;
    open = false;
    env.clearTimeout(tick);
    if (to - segFrom >= 0.01) send('watchProgress', { from: r3(segFrom), to: r3(to) });
    lastPos = to;
    lastPosAt = env.now();
  }

  /** Where playback was just before a seek moved currentTime (timeupdate comes every ~250 ms). */
  function positionBeforeSeek(): number {
    if (!open) return lastPos;
    const ran = (Math.min(env.now() - lastPosAt, 1000) / 1000) * (video.playbackRate || 1);
    const d = video.duration;
    return Math.max(segFrom, Math.min(lastPos + ran, d > 0 && d < Infinity ? d : Infinity));
  }

  function endStall(): void {
    if (stallAt === null) return;
    send('rebuffer', { duration: r3((env.now() - stallAt) / 1000) });
    stallAt = null;
  }

  const on: Record<string, () => void> = {
    playing() {
      endStall();
      seekingNow = false;
      if (!started) {
        started = true;
        send('playStart');
      }
      openSegment();
    },
    pause() {
      close(video.currentTime);
      endStall();
      if (!video.ended && !video.seeking) send('pause');
    },
    seeking() {
      const from = positionBeforeSeek();
      close(from);
      endStall();
      seekingNow = true;
      const to = video.currentTime;
      send('seek', { from: r3(from), to: r3(to) });
      lastPos = to;
      lastPosAt = env.now();
      // A looping video starts over by seeking to 0: that is a completion too.
      if (video.loop && to < 1 && from >= video.duration - 1) send('completion');
    },
    seeked() {
      if (!video.paused && started) openSegment();
    },
    waiting() {
      if (!started || video.paused) return;
      close(video.currentTime);
      if (!seekingNow && !video.seeking && stallAt === null) stallAt = env.now();
    },
    timeupdate() {
      if (open) {
        lastPos = video.currentTime;
        lastPosAt = env.now();
      }
    },
    ended() {
      close(video.currentTime);
      endStall();
      send('completion');
      started = false;
    },
    error() {
      if (o.nativeErrors === false) return;
      const err = video.error;
      api.error(mediaErrorCode(err ? err.code : undefined), err ? err.message : '', true);
    },
    resize() {
      const h = video.videoHeight;
      if (o.nativeQuality !== false && h && height && h !== height) api.qualityChange(h + 'p', undefined, height + 'p');
      if (h) height = h;
    },
  };

  function hide(): void {
    if (open) {
      close(video.currentTime);
      if (!video.paused && !video.ended) openSegment();
    }
    transport.hide();
  }

  const api: Tracking = {
    flush: () => transport.flush(),
    destroy() {
      if (done) return;
      close(video.currentTime);
      endStall();
      done = true;
      for (const k in on) video.removeEventListener(k, on[k]!);
      offHide();
      transport.flush();
    },
    qualityChange(to, bitrate, from) {
      if (done) return;
      const prev = from || quality;
      quality = to;
      // The first level known is where playback started, not a change.
      if (prev && prev !== to) send('qualityChange', { from: cut(prev, 64), to: cut(to, 64), bitrate: bitrate! > 0 ? Math.round(bitrate!) : undefined });
    },
    error(code, message, fatal) {
      if (!done) send('error', { code: cut(code, 200), message: cut(message, 1000), fatal: fatal !== false });
    },
  };

  for (const k in on) video.addEventListener(k, on[k]!);
  const offHide = env.onHide(hide);
  height = video.videoHeight || 0;
  send('impression');
  // Attached to a player that already plays.
  if (!video.paused && !video.ended && video.readyState > 2) on.playing!();
  return api;
}
