/**
 * Validation and normalization of one event (spec/events.md "The event"). A rejection is a value
 * naming the field and the reason, never an exception.
 */
import { isIP } from 'node:net';
import { DEVICE_TYPES, EVENT_NAMES, MAX_MEDIA_SECONDS, type ClientEvent, type DeviceType, type EventName } from './types.ts';
import { malformed } from '../http/wellformed.ts';
import { realDateTime } from '../metrics/period.ts';

export type Validated = { ok: true; event: ClientEvent } | { ok: false; field: string; error: string };

export interface ValidateOptions {
  now: number;
  /** Events older than this many days are refused. */
  retentionDays: number;
  /** Whether `ip` and `userAgent` on the event are honoured (API-token requests only). */
  trusted: boolean;
}

const DAY = 86_400_000;
const MAX_DATA_BYTES = 8 * 1024;
// ISO 8601 with an offset, extended or basic format (2026-01-31T12:00:00Z, 20260131T120000Z), T and Z
// in either case (RFC 3339 §5.6, as the stats API), seconds and their fraction optional, the
// fraction after a dot or a comma, the offset Z, ±hh, ±hhmm or ±hh:mm.
const ISO_WITH_OFFSET = /^(\d{4})-?(\d{2})-?(\d{2})[Tt](\d{2}):?(\d{2})(?::?(\d{2})([.,]\d{1,9})?)?([Zz]|[+-]\d{2}(?::?\d{2})?)$/;

/** An ISO 8601 date-time with an offset as RFC 3339 (2026-01-31T12:00:00.5+05:30), or null. */
function rfc3339(v: string): string | null {
  const m = ISO_WITH_OFFSET.exec(v);
  if (!m) return null;
  const [, y, mo, d, h, mi, sec, frac, off] = m;
  const offset = /^[Zz]$/.test(off!) ? 'Z' : `${off!.slice(0, 3)}:${off!.replace(':', '').slice(3) || '00'}`;
  return `${y}-${mo}-${d}T${h}:${mi}:${sec ?? '00'}${frac ? `.${frac.slice(1)}` : ''}${offset}`;
}
const EVENT_SET = new Set<string>(EVENT_NAMES);
const DEVICE_SET = new Set<string>(DEVICE_TYPES);
const SWIPE = new Set(['up', 'down', 'left', 'right']);
/** The fields an event is read from (others are ignored). */
const READ = ['id', 'event', 'contentId', 'sessionId', 'userId', 'email', 'viewerAccountId', 'viewerName', 'deviceType', 'url', 'referrer', 'title', 'ip', 'userAgent', 'data'] as const;

class Reject {
  /** `whole`: `error` names the field itself. */
  constructor(readonly field: string, readonly error: string, readonly whole = false) {}
}

const fail = (field: string, error: string): never => {
  throw new Reject(field, error);
};

function optString(o: Record<string, unknown>, field: string, max: number): string | null {
  const v = o[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') return fail(field, `must be a string of at most ${max} characters`);
  if (v.length > max) return fail(field, `is ${v.length} characters long; at most ${max} are accepted`);
  return v;
}

function reqString(o: Record<string, unknown>, field: string, max: number): string {
  const v = optString(o, field, max);
  if (v === null || v === '') return fail(field, `is required: a non-empty string of at most ${max} characters`);
  return v;
}

/** A number of media seconds (a duration, a position): finite, at most MAX_MEDIA_SECONDS. */
const seconds = (v: unknown, rule: 'gte0' | 'gt0'): v is number =>
  typeof v === 'number' && Number.isFinite(v) && (rule === 'gte0' ? v >= 0 : v > 0) && v <= MAX_MEDIA_SECONDS;
const secondsRule = (rule: 'gte0' | 'gt0') => `must be a number of seconds ${rule === 'gte0' ? '≥ 0' : '> 0'} and at most ${MAX_MEDIA_SECONDS}`;

function optNumber(o: Record<string, unknown>, field: string, rule: 'gte0' | 'gt0'): number | null {
  const v = o[field];
  if (v === undefined || v === null) return null;
  if (!seconds(v, rule)) return fail(field, secondsRule(rule));
  return v;
}

function parseTimestamp(v: unknown, opts: ValidateOptions): number {
  let ms: number;
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) return fail('timestamp', 'epoch milliseconds must be a whole number ≥ 0');
    ms = v;
  } else if (typeof v === 'string') {
    const t = rfc3339(v);
    if (t === null) return fail('timestamp', 'must be ISO 8601 with a time zone offset (2026-01-31T12:00:00Z) or epoch milliseconds');
    ms = Date.parse(t);
    // Date.parse rolls 2026-11-31 over to December 1: the event would be stored on another day.
    if (Number.isNaN(ms) || !realDateTime(t)) return fail('timestamp', 'is not a real date and time');
  } else {
    return fail('timestamp', 'is required: ISO 8601 with a time zone offset (2026-01-31T12:00:00Z) or epoch milliseconds');
  }
  if (ms > opts.now + DAY) return fail('timestamp', 'is more than 24 h in the future');
  if (ms < opts.now - opts.retentionDays * DAY) return fail('timestamp', `is older than the raw-event retention of ${opts.retentionDays} days`);
  return ms;
}

function num(d: Record<string, unknown>, key: string, required: boolean): number | undefined {
  const v = d[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return fail(`data.${key}`, 'must be a number ≥ 0');
  return v;
}

/** num() for media seconds (positions, durations). */
function secs(d: Record<string, unknown>, key: string): number {
  const v = d[key];
  if (!seconds(v, 'gte0')) return fail(`data.${key}`, secondsRule('gte0'));
  return v;
}

function str(d: Record<string, unknown>, key: string, required: boolean): void {
  const v = d[key];
  if (v === undefined && !required) return;
  if (typeof v !== 'string' || v.length > 1024) fail(`data.${key}`, 'must be a string of at most 1024 characters');
}

function checkData(event: EventName, raw: unknown): Record<string, unknown> | null {
  const needed = event === 'watchProgress' || event === 'seek' || event === 'swipe' || event === 'rebuffer' || event.startsWith('ad');
  if (raw === undefined || raw === null) {
    if (needed) fail('data', `is required for ${event}`);
    return null;
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) return fail('data', 'must be an object');
  const d = raw as Record<string, unknown>;
  const size = Buffer.byteLength(JSON.stringify(d));
  if (size > MAX_DATA_BYTES) fail('data', `is ${size} bytes as JSON; at most 8 KiB is accepted`);
  switch (event) {
    case 'watchProgress':
    case 'seek': {
      const from = secs(d, 'from');
      const to = secs(d, 'to');
      if (event === 'watchProgress' && from > to) fail('data', 'watchProgress needs 0 ≤ from ≤ to');
      break;
    }
    case 'swipe':
      if (!SWIPE.has(d.direction as string)) fail('data.direction', 'must be one of up, down, left, right');
      break;
    case 'rebuffer':
      secs(d, 'duration');
      break;
    case 'qualityChange':
      str(d, 'from', false);
      str(d, 'to', false);
      num(d, 'bitrate', false);
      break;
    case 'error':
      str(d, 'code', false);
      str(d, 'message', false);
      if (d.fatal !== undefined && typeof d.fatal !== 'boolean') fail('data.fatal', 'must be true or false');
      break;
    case 'adImpression':
    case 'adCompletion':
    case 'adClick':
      str(d, 'adId', true);
      break;
  }
  return d;
}

export function validateEvent(raw: unknown, opts: ValidateOptions): Validated {
  try {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, field: '(event)', error: 'each event must be a JSON object' };
    const o = raw as Record<string, unknown>;
    // Text well-formed (a lone UTF-16 surrogate would be stored as U+FFFD: two content ids could
    // become one) and data nested at most 32 deep, as in every other body (http/wellformed.ts).
    for (const k of READ) {
      const bad = malformed(o[k], k);
      if (bad) throw new Reject(k, bad, true);
    }
    if (typeof o.event !== 'string' || !EVENT_SET.has(o.event)) {
      fail('event', `must be one of ${EVENT_NAMES.join(', ')}`);
    }
    const event = o.event as EventName;
    const id = optString(o, 'id', 64);
    if (id === '') fail('id', 'must not be empty');
    const deviceType = o.deviceType ?? null;
    if (deviceType !== null && !DEVICE_SET.has(deviceType as string)) fail('deviceType', `must be one of ${DEVICE_TYPES.join(', ')}`);
    let ip: string | null = null;
    let userAgent: string | null = null;
    if (opts.trusted) {
      ip = optString(o, 'ip', 64);
      if (ip !== null && !isIP(ip)) fail('ip', 'must be an IPv4 or IPv6 address');
      userAgent = optString(o, 'userAgent', 2048);
    }
    const ev: ClientEvent = {
      id,
      event,
      timestamp: parseTimestamp(o.timestamp, opts),
      contentId: reqString(o, 'contentId', 128),
      sessionId: reqString(o, 'sessionId', 128),
      userId: optString(o, 'userId', 128) || null,
      email: optString(o, 'email', 320),
      viewerAccountId: optString(o, 'viewerAccountId', 256),
      viewerName: optString(o, 'viewerName', 256),
      deviceType: deviceType as DeviceType | null,
      currentTime: optNumber(o, 'currentTime', 'gte0'),
      url: optString(o, 'url', 2048),
      referrer: optString(o, 'referrer', 2048),
      title: optString(o, 'title', 1024),
      duration: optNumber(o, 'duration', 'gt0'),
      data: checkData(event, o.data),
      ip,
      userAgent,
    };
    return { ok: true, event: ev };
  } catch (err) {
    if (err instanceof Reject) return { ok: false, field: err.field, error: err.whole ? err.error : `${err.field}: ${err.error}` };
    throw err;
  }
}
