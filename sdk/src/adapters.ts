/**
 * Player adapters on top of the HTML5 tracker: they take the player's own instance (never bundled
 * here) and report its quality levels and errors, which the <video> element cannot tell.
 */
import type { Env } from './env.ts';
import { track } from './track.ts';
import { mediaErrorCode, type TrackOptions, type Tracking } from './tracker.ts';

type Handler = (...args: any[]) => void;
interface Level { height?: number; bitrate?: number; name?: string; label?: string }

function label(l: Level | undefined, i: number): string {
  return !l ? String(i) : l.height ? l.height + 'p' : l.name || l.label || (l.bitrate ? Math.round(l.bitrate / 1000) + 'kbps' : String(i));
}

/** Stall-related hls.js errors: the tracker already reports the stall as a `rebuffer`. */
const STALLS = /^buffer(Stalled|NudgeOnStall|SeekOverHole)/;

export interface HlsLike {
  media?: HTMLVideoElement | null;
  levels?: Level[];
  on(event: string, fn: Handler): void;
  off(event: string, fn: Handler): void;
}
type HlsEvents = { LEVEL_SWITCHED?: string; ERROR?: string; DESTROYING?: string };

/**
 * hls.js: `trackHls(hls, video, options)` (video defaults to `hls.media`). Level switches become
 * `qualityChange` {from, to: "720p", bitrate}; fatal errors become `error` {code: details, message:
 * type, fatal: true}, non-fatal ones once per kind (stalls are `rebuffer`s).
 */
export function trackHls(hls: HlsLike, video: HTMLVideoElement | null | undefined, options: TrackOptions, env?: Env): Tracking {
  const media = video || (hls && hls.media);
  if (!hls || typeof hls.on !== 'function') throw new TypeError('Reelstat.trackHls: the first argument must be an Hls instance');
  if (!media) throw new TypeError('Reelstat.trackHls: pass the <video> element (or call hls.attachMedia first)');
  // The names from the Hls class when it has them (hls.Events), else hls.js's own strings.
  const ev: HlsEvents = ((hls.constructor as { Events?: HlsEvents }) || {}).Events || {};
  const SWITCHED = ev.LEVEL_SWITCHED || 'hlsLevelSwitched';
  const ERROR = ev.ERROR || 'hlsError';
  const DESTROYING = ev.DESTROYING || 'hlsDestroying';
  const t = track(media, Object.assign({}, options, { nativeQuality: false, nativeErrors: false }), env);
  const seen: Record<string, 1> = {};
  const onSwitch: Handler = (_e, d: { level: number }) => {
    const l = hls.levels && hls.levels[d.level];
    t.qualityChange(label(l, d.level), l && l.bitrate);
  };
  const onError: Handler = (_e, d: { type?: string; details?: string; fatal?: boolean; reason?: string }) => {
    const code = String(d.details || d.type || 'hlsError');
    if (!d.fatal && (STALLS.test(code) || seen[code])) return;
    seen[code] = 1;
    t.error(code, String(d.reason || d.type || ''), !!d.fatal);
  };
  hls.on(SWITCHED, onSwitch);
  hls.on(ERROR, onError);
  hls.on(DESTROYING, () => destroy());
  const destroy = () => {
    hls.off(SWITCHED, onSwitch);
    hls.off(ERROR, onError);
    t.destroy();
  };
  return Object.assign({}, t, { destroy });
}

export interface VideojsLike {
  el(): Element;
  on(event: string, fn: Handler): void;
  off(event: string, fn: Handler): void;
  error(): { code?: number; message?: string } | null;
  qualityLevels?: () => QualityLevelsLike;
}
interface QualityLevelsLike {
  selectedIndex: number;
  on(event: string, fn: Handler): void;
  off(event: string, fn: Handler): void;
}

/**
 * video.js: `trackVideojs(player, options)` tracks the player's <video>; player errors become
 * `error` {code: MEDIA_ERR_…, message, fatal: true}; with the quality-levels API (video.js 8 / VHS)
 * level changes become `qualityChange`, else the picture height is watched.
 */
export function trackVideojs(player: VideojsLike, options: TrackOptions, env?: Env): Tracking {
  if (!player || typeof player.el !== 'function') throw new TypeError('Reelstat.trackVideojs: the first argument must be a video.js player');
  const el = player.el();
  const video = (el && el.tagName === 'VIDEO' ? el : el && el.querySelector('video')) as HTMLVideoElement | null;
  if (!video) throw new TypeError('Reelstat.trackVideojs: the player has no <video> element (only the HTML5 tech is supported)');
  const ql = typeof player.qualityLevels === 'function' ? player.qualityLevels() : null;
  const t = track(video, Object.assign({}, options, { nativeQuality: !ql, nativeErrors: false }), env);
  const onError = () => {
    const e = player.error();
    t.error(mediaErrorCode(e ? e.code : undefined), e && e.message ? e.message : '', true);
  };
  const onLevel = () => {
    const i = ql!.selectedIndex;
    const l = (ql as unknown as Level[])[i];
    if (i >= 0 && l) t.qualityChange(label(l, i), l.bitrate);
  };
  const destroy = () => {
    player.off('error', onError);
    player.off('dispose', destroy);
    if (ql) ql.off('change', onLevel);
    t.destroy();
  };
  player.on('error', onError);
  player.on('dispose', destroy);
  if (ql) ql.on('change', onLevel);
  return Object.assign({}, t, { destroy });
}
