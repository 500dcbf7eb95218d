/** `track`: the entry point for any <video>; finds the collector, shares one transport per endpoint and key. */
import { browserEnv, type Env } from './env.ts';
import { createTracker, type TrackOptions, type Tracking } from './tracker.ts';
import { Transport } from './transport.ts';


declare const __REELSTAT_VERSION__: string;
export const version: string = typeof __REELSTAT_VERSION__ === 'string' ? __REELSTAT_VERSION__ : 'dev';

let defaultEndpoint: string | null = null;

/** The collector of the server the SDK file was loaded from (set by the entry points). */
export function setDefaultEndpoint(scriptUrl: string): void {
  try {
    defaultEndpoint = new URL('/api/v1/collect', scriptUrl).href;
  } catch {
    /* not a URL: options.endpoint is needed */
  }
}

/** `endpoint` as given when it names the collect route, else the server's base URL + /api/v1/collect. */
export function collectUrl(endpoint: string): string {
  return /\/collect\/?(\?|$)/.test(endpoint) ? endpoint : endpoint.replace(/\/+$/, '') + '/api/v1/collect';
}

const envs: Record<string, Env> = {};
const transports = new WeakMap<Env, Record<string, Transport>>();

function fail(what: string): never {
  throw new TypeError('Reelstat.track: ' + what);
}

/**
 * Starts tracking a <video> (or <audio>) element: sends `impression` now and the playback events
 * as they happen. Trackers with the same endpoint and write key share one batch queue (its
 * flushInterval and maxBatch are those of the first).
 */
export function track(video: HTMLVideoElement, options: TrackOptions, env?: Env): Tracking {
  const o = options || ({} as TrackOptions);
  if (!video || typeof video.addEventListener !== 'function' || !('currentTime' in video)) fail('the first argument must be a <video> or <audio> element');
  if (typeof o.writeKey !== 'string' || !o.writeKey) fail('options.writeKey is required (the write key wk_… of your account)');
  if (typeof o.contentId !== 'string' || !o.contentId || o.contentId.length > 128) fail('options.contentId is required: a string of 1 to 128 characters naming the video');
  const endpoint = o.endpoint || defaultEndpoint || fail('options.endpoint is required (the Reelstat server URL) when the SDK is not loaded from the server');
  const persist = o.persist !== false;
  const e = env || envs[String(persist)] || (envs[String(persist)] = browserEnv(persist));
  let mine = transports.get(e);
  if (!mine) transports.set(e, (mine = {}));
  const url = collectUrl(endpoint);
  const key = url + ' ' + o.writeKey;
  const t = mine[key] || (mine[key] = new Transport(e, url, o.writeKey, {
    flushMs: o.flushInterval! >= 0 ? o.flushInterval! : 3000,
    maxBatch: Math.min(1000, Math.max(1, o.maxBatch || 50)),
  }));
  return createTracker(video, o, e, t);
}
