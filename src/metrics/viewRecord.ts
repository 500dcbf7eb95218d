/**
 * The view record of spec/metrics.md: everything one session did with one content item, computed
 * from that record's events alone (plus the catalog duration). Pure: no storage, no clock.
 * `unique` needs the viewer's other records and is set afterwards by `markUnique`.
 */
import { createHash } from 'node:crypto';
import { MAX_MEDIA_SECONDS, type StoredEvent } from '../events/types.ts';
import { encodeHm, isSegment, secondCounts, totalSeconds, uniqueSeconds, type HmRun, type Segment } from './hm.ts';

/** The event fields a view record reads. Bot events must already be left out by the caller. */
export type RecordEvent = Pick<
  StoredEvent,
  | 'id' | 'event' | 'timestamp' | 'receivedAt' | 'data' | 'duration' | 'userId' | 'sessionId' | 'contentId'
  | 'email' | 'viewerAccountId' | 'viewerName' | 'deviceType' | 'url' | 'referrer' | 'domain' | 'ip'
  | 'userAgent' | 'country' | 'region' | 'city' | 'lat' | 'lon' | 'org' | 'browser' | 'os' | 'platform' | 'title'
>;

/** Fields each taken from the record's earliest event that carries them (non-null). */
export const CARRIED_FIELDS = [
  'userId', 'email', 'viewerAccountId', 'viewerName',
  'deviceType', 'browser', 'os', 'platform', 'userAgent',
  'ip', 'country', 'region', 'city', 'lat', 'lon', 'org',
  'url', 'referrer', 'domain', 'title',
] as const satisfies ReadonlyArray<keyof RecordEvent>;

export type CarriedField = (typeof CARRIED_FIELDS)[number];
export type CarriedFields = { [K in CarriedField]: NonNullable<RecordEvent[K]> | null };

export interface ViewRecord extends CarriedFields {
  /** First 16 hex digits of sha256 of (accountId, sessionId, contentId) — see `viewIdOf`. */
  viewId: string;
  accountId: string;
  contentId: string;
  sessionId: string;
  /** `userId` (from the earliest event carrying one), else the `sessionId`. */
  viewer: string;
  /** Earliest / latest event `timestamp`, epoch ms. */
  startedAt: number;
  lastEventAt: number;
  /** Number of `impression` events. */
  loads: number;
  /** Has a `playStart` or a `watchProgress` (even one whose data is malformed). */
  played: boolean;
  /** Per-second counts of the valid `watchProgress` segments, as canonical runs. */
  runs: HmRun[];
  /** `runs` encoded (Cincopa `hm`); '' when nothing was watched. */
  hm: string;
  uniqueSeconds: number;
  /** Cincopa `prg`. */
  totalSeconds: number;
  /** Whole seconds (round half up, at least 1): catalog duration, else the largest on the events; null when unknown. */
  duration: number | null;
  /** min(1, uniqueSeconds / duration); null when duration is unknown. */
  percentViewed: number | null;
  /** Length in seconds of the longest continuous run (the 5-second rule); 0 when none. */
  longestRun: number;
  /** longestRun ≥ 5: the record is a view. */
  counted: boolean;
  /** null until `markUnique` decides it. */
  unique: boolean | null;
  /** Has a `completion`. */
  completed: boolean;
  rebufferCount: number;
  /** Sum of `data.duration` (seconds) of the `rebuffer` events; invalid values count as 0. */
  rebufferTime: number;
  errorCount: number;
  /** Timestamps of its impressions: a player load counts on the day of its impression. */
  loadTimes: number[];
  /** Distinct UTC minutes (epoch ms / 60000) in which it had a watchProgress, for peak concurrency. */
  progressMinutes: number[];
}

/** A run is a view from this many seconds on. */
export const VIEW_MIN_SECONDS = 5;
/** Next segment's `from` must be within this of the previous `to` (media seconds). */
export const RUN_MAX_MEDIA_GAP = 1;
/** Next segment's wall-clock start must be within this of the previous segment's timestamp (ms). */
export const RUN_MAX_WALL_GAP_MS = 2000;
/** Absorbs binary floating-point error in the rule's comparisons (e.g. 5.3 − 4.3 > 1 in doubles). */
const EPS = 1e-9;

/** The stable id of the record of (accountId, sessionId, contentId). */
export function viewIdOf(accountId: string, sessionId: string, contentId: string): string {
  return createHash('sha256').update(JSON.stringify([accountId, sessionId, contentId])).digest('hex').slice(0, 16);
}

/** A `watchProgress` with its timestamp, as the continuous-run rule reads it. */
export interface TimedSegment extends Segment {
  /** Epoch ms at which the segment was reported, i.e. when its `to` was reached. */
  timestamp: number;
}

/**
 * The 5-second rule: segments ordered by timestamp (ties: from, to); a segment continues the run
 * when |from − previous to| ≤ 1 s and |(timestamp − (to − from) s) − previous timestamp| ≤ 2 s; a
 * run's length is the sum of its segments' to − from. Returns the longest run's length (0 if none).
 */
export function longestContinuousRun(segments: readonly TimedSegment[]): number {
  const sorted = [...segments].sort((a, b) => a.timestamp - b.timestamp || a.from - b.from || a.to - b.to);
  let best = 0;
  let run = 0;
  let prev: TimedSegment | undefined;
  for (const s of sorted) {
    const len = s.to - s.from;
    const wallStart = s.timestamp - len * 1000;
    const continues =
      prev !== undefined &&
      Math.abs(s.from - prev.to) <= RUN_MAX_MEDIA_GAP + EPS &&
      Math.abs(wallStart - prev.timestamp) <= RUN_MAX_WALL_GAP_MS + EPS * 1000;
    run = continues ? run + len : len;
    if (run > best) best = run;
    prev = s;
  }
  return best;
}

/**
 * Whole seconds of a duration: round half up, at least 1; null when absent, not a positive number or
 * more than MAX_MEDIA_SECONDS (refused at collect; stored before that was checked).
 */
export function wholeDuration(d: number | null | undefined): number | null {
  if (typeof d !== 'number' || !Number.isFinite(d) || d <= 0 || d > MAX_MEDIA_SECONDS) return null;
  return Math.max(1, Math.round(d));
}

/** Earliest first: timestamp, then receivedAt, then id. */
function byTime(a: RecordEvent, b: RecordEvent): number {
  return a.timestamp - b.timestamp || a.receivedAt - b.receivedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function segmentOf(e: RecordEvent): TimedSegment | null {
  const d = e.data;
  if (d === null || typeof d !== 'object') return null;
  const seg = { from: d.from, to: d.to };
  return isSegment(seg) ? { from: seg.from, to: seg.to, timestamp: e.timestamp } : null;
}

/**
 * Builds the record of one (account, sessionId, contentId) from all its (non-bot) events, in any
 * order. `catalogDuration` is the catalog entry's set duration (null when none). Throws when
 * `events` is empty or mixes sessions or contents. `unique` is left null (see `markUnique`).
 */
export function buildViewRecord(accountId: string, events: readonly RecordEvent[], catalogDuration: number | null): ViewRecord {
  if (events.length === 0) throw new RangeError('a view record needs at least one event');
  const sorted = [...events].sort(byTime);
  const first = sorted[0]!;
  const { sessionId, contentId } = first;
  let loads = 0, rebufferCount = 0, rebufferTime = 0, errorCount = 0;
  let played = false, completed = false;
  let eventDuration: number | null = null;
  const segments: TimedSegment[] = [];
  const loadTimes: number[] = [];
  const minutes = new Set<number>();
  for (const e of sorted) {
    if (e.sessionId !== sessionId || e.contentId !== contentId) {
      throw new RangeError(`events of several records: (${sessionId}, ${contentId}) and (${e.sessionId}, ${e.contentId})`);
    }
    if (wholeDuration(e.duration) !== null && (eventDuration === null || e.duration! > eventDuration)) {
      eventDuration = e.duration;
    }
    switch (e.event) {
      case 'impression': loads++; loadTimes.push(e.timestamp); break;
      case 'playStart': played = true; break;
      case 'completion': completed = true; break;
      case 'error': errorCount++; break;
      case 'watchProgress': {
        played = true;
        minutes.add(Math.floor(e.timestamp / 60_000));
        const seg = segmentOf(e);
        if (seg !== null) segments.push(seg);
        break;
      }
      case 'rebuffer': {
        rebufferCount++;
        const d = e.data?.duration;
        if (typeof d === 'number' && Number.isFinite(d) && d > 0) rebufferTime += d;
        break;
      }
    }
  }
  const runs = secondCounts(segments);
  const unique = uniqueSeconds(runs);
  const duration = wholeDuration(catalogDuration) ?? wholeDuration(eventDuration);
  const longestRun = longestContinuousRun(segments);
  const carried = {} as Record<CarriedField, unknown>;
  for (const f of CARRIED_FIELDS) carried[f] = sorted.find((e) => e[f] !== null && e[f] !== undefined)?.[f] ?? null;
  const fields = carried as CarriedFields;
  return {
    ...fields,
    viewId: viewIdOf(accountId, sessionId, contentId),
    accountId,
    contentId,
    sessionId,
    viewer: fields.userId ?? sessionId,
    startedAt: first.timestamp,
    lastEventAt: sorted[sorted.length - 1]!.timestamp,
    loads,
    played,
    runs,
    hm: encodeHm(runs),
    uniqueSeconds: unique,
    totalSeconds: totalSeconds(runs),
    duration,
    percentViewed: duration === null ? null : Math.min(1, unique / duration),
    longestRun,
    counted: longestRun >= VIEW_MIN_SECONDS - EPS,
    unique: null,
    completed,
    rebufferCount,
    rebufferTime,
    errorCount,
    loadTimes,
    progressMinutes: [...minutes].sort((a, b) => a - b),
  };
}

/**
 * Groups events (of one account, any order) into their records and builds each; `durationOf` gives
 * a content item's catalog duration. Records come back ordered by startedAt, then viewId; `unique`
 * is left null.
 */
export function buildViewRecords(
  accountId: string,
  events: Iterable<RecordEvent>,
  durationOf: (contentId: string) => number | null,
): ViewRecord[] {
  const groups = new Map<string, RecordEvent[]>();
  for (const e of events) {
    const key = JSON.stringify([e.sessionId, e.contentId]);
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [e]);
    else g.push(e);
  }
  const out = [...groups.values()].map((g) => buildViewRecord(accountId, g, durationOf(g[0]!.contentId)));
  return out.sort(byStart);
}

/** What `markUnique` reads of a record. */
export type UniqueInput = Pick<ViewRecord, 'viewId' | 'accountId' | 'contentId' | 'viewer' | 'played' | 'startedAt'>;

function byStart(a: UniqueInput, b: UniqueInput): number {
  return a.startedAt - b.startedAt || (a.viewId < b.viewId ? -1 : a.viewId > b.viewId ? 1 : 0);
}

/**
 * Decides `unique`: a record is unique when it is played and no earlier played record (by
 * startedAt, then viewId) has the same (accountId, viewer, contentId). The caller must pass every
 * record of each (viewer, content) pair it wants decided — from the beginning of the data, not only
 * a period — or a later record may wrongly come out unique. Returns copies with `unique` set, in
 * the input's order; exactly one record per pair with any played record is unique.
 */
export function markUnique<T extends UniqueInput>(records: readonly T[]): Array<T & { unique: boolean }> {
  const winners = new Map<string, T>();
  for (const r of records) {
    if (!r.played) continue;
    const key = JSON.stringify([r.accountId, r.viewer, r.contentId]);
    const w = winners.get(key);
    if (w === undefined || byStart(r, w) < 0) winners.set(key, r);
  }
  return records.map((r) => ({ ...r, unique: winners.get(JSON.stringify([r.accountId, r.viewer, r.contentId])) === r }));
}
