/**
 * A month of viewing, as the SDK would have reported it: sessions spread over the days (a growing
 * trend, quieter weekends, evenings and lunch breaks in the viewer's time zone, a launch that spikes),
 * each a few player loads; a load is played or not; a play runs in 10-second watchProgress segments
 * with pauses, rebuffers, quality switches, seeks back (rewatching) and forward (skipping), until the
 * viewer drops off — early for most, at the end for some — with a completion when the end is reached.
 */
import { LAUNCH, VIDEOS, type DemoVideo } from './catalog.ts';
import { pickReferrer, type Viewer } from './audience.ts';
import type { Random } from './random.ts';

export interface DemoEvent {
  id: string;
  event: string;
  timestamp: number;
  contentId: string;
  sessionId: string;
  userId: string;
  email?: string;
  viewerAccountId?: string;
  viewerName?: string;
  title: string;
  duration: number;
  currentTime: number;
  url: string;
  referrer?: string;
  data?: Record<string, unknown>;
  /** Only an API token may set these: where and on what the viewer watched. */
  ip: string;
  userAgent: string;
}

export interface TrafficPlan {
  random: Random;
  viewers: Viewer[];
  sessions: number;
  /** The window: sessions start in [from, to); nothing is stamped after `to` (now). */
  from: number;
  to: number;
  runId: string;
}

const DAY = 86_400_000;
/** Relative activity by local hour: quiet nights, a lunch bump, busy evenings. */
const HOURS = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.2, 3, 3.4, 3.6, 4, 4.4, 4, 3.6, 3.5, 3.6, 4, 4.6, 5.4, 5.8, 5.2, 3.6, 2];
const LEVELS = [[360, 700_000], [480, 1_200_000], [720, 2_800_000], [1080, 5_500_000]] as const;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

class Recorder {
  events: DemoEvent[] = [];
  private n = 0;

  constructor(private readonly p: TrafficPlan) {}

  add(base: Omit<DemoEvent, 'id' | 'event' | 'timestamp' | 'currentTime' | 'data'>, event: string, at: number, pos: number, data?: Record<string, unknown>): void {
    if (at >= this.p.to) return; // still to come: the viewer is watching right now
    this.events.push({ ...base, id: `demo-${this.p.runId}-${(this.n++).toString(36)}`, event, timestamp: Math.round(at), currentTime: r3(pos), data });
  }
}

/** The start of a session: a day (trend, weekday), then a local hour turned into UTC. */
function sessionStart(p: TrafficPlan, viewer: Viewer): number {
  const { random } = p;
  const days = Math.max(1, Math.ceil((p.to - p.from) / DAY));
  for (;;) {
    const d = random.int(0, days - 1);
    const dayStart = p.to - (days - d) * DAY;
    const weekday = new Date(dayStart).getUTCDay();
    const w = (0.75 + (0.5 * d) / days) * (weekday === 0 || weekday === 6 ? 0.7 : 1);
    if (!random.chance(w / 1.25)) continue;
    const hour = random.weighted(HOURS.map((h, i) => [i, h] as const));
    const localMidnight = Math.floor(dayStart / DAY) * DAY - viewer.utcOffset * 3_600_000;
    const at = localMidnight + hour * 3_600_000 + random.between(0, 3_600_000);
    if (at >= p.from && at < p.to) return at;
  }
}

/** The first video of a session: by popularity; the launch video exists only from its launch day and peaks then. */
function firstVideo(random: Random, at: number, launchAt: number): DemoVideo {
  return random.weighted(VIDEOS.map((v) => {
    if (v.contentId !== LAUNCH) return [v, v.weight] as const;
    if (at < launchAt) return [v, 0] as const;
    return [v, at < launchAt + 2 * DAY ? v.weight * 8 : v.weight * 1.5] as const;
  }));
}

/** How far into the video this viewer means to watch, in seconds. */
function intent(random: Random, v: DemoVideo, viewer: Viewer): number {
  if (v.duration <= 40) return random.chance(0.72) ? v.duration : random.between(2, v.duration);
  const mobile = viewer.device.kind === 'mobile' ? 0.7 : 1;
  const base = v.projectId === 'academy' ? 0.5 : v.projectId === 'support' ? 0.45 : 0.3;
  const toTheEnd = base * mobile * (v.duration > 1800 ? 0.35 : 1);
  if (random.chance(0.17)) return random.between(1.5, Math.min(12, v.duration)); // a glance
  if (random.chance(toTheEnd)) return v.duration;
  return Math.min(v.duration * 0.97, random.exp(v.duration * 0.3) + 4);
}

/**
 * One load of `v` at `start`: its events; returns when the viewer is done with it and whether they
 * reached the end.
 */
function view(rec: Recorder, random: Random, v: DemoVideo, viewer: Viewer, sessionId: string, start: number, referrer: string | null): { end: number; completed: boolean } {
  const base = {
    contentId: v.contentId, sessionId, userId: viewer.userId, title: v.title, duration: v.duration, url: v.page,
    ip: viewer.ip, userAgent: viewer.device.userAgent,
    ...(referrer ? { referrer } : {}),
    ...(viewer.email ? { email: viewer.email, viewerName: viewer.viewerName!, viewerAccountId: viewer.viewerAccountId! } : {}),
  };
  let wall = start;
  rec.add(base, 'impression', wall, 0);
  if (!random.chance(v.playRate * (viewer.device.kind === 'mobile' ? 0.9 : 1))) return { end: wall + random.between(5_000, 90_000), completed: false };
  wall += random.between(400, 3500);
  if (random.chance(0.004)) {
    rec.add(base, 'error', wall, 0, random.chance(0.5)
      ? { code: 'MEDIA_ERR_SRC_NOT_SUPPORTED', message: 'Format error', fatal: true }
      : { code: 'manifestLoadError', message: 'networkError', fatal: true });
    return { end: wall + 5000, completed: false };
  }
  rec.add(base, 'playStart', wall, 0);
  const stopAt = intent(random, v, viewer);
  const top = LEVELS.filter(([h]) => h <= viewer.device.maxHeight);
  let level: (typeof LEVELS)[number] = LEVELS[1];
  let pos = 0;
  let segments = 0;
  const stallRate = viewer.device.kind === 'mobile' ? 0.04 : 0.012;
  while (pos < stopAt - 0.01) {
    const len = Math.min(10 + random.between(0, 0.03), stopAt - pos);
    wall += len * 1000;
    rec.add(base, 'watchProgress', wall, pos + len, { from: r3(pos), to: r3(pos + len) });
    pos += len;
    segments++;
    if (pos >= stopAt - 0.01) break;
    if (segments === 1 && level !== top[top.length - 1]) {
      const next = top[top.length - 1]!;
      rec.add(base, 'qualityChange', wall, pos, { from: `${level[0]}p`, to: `${next[0]}p`, bitrate: next[1] });
      level = next;
    }
    if (random.chance(stallRate)) {
      const stall = random.between(0.4, 6);
      wall += stall * 1000;
      rec.add(base, 'rebuffer', wall, pos, { duration: r3(stall) });
      if (stall > 3 && level !== top[0]) {
        const lower: (typeof LEVELS)[number] = top[Math.max(0, top.indexOf(level) - 1)]!;
        rec.add(base, 'qualityChange', wall, pos, { from: `${level[0]}p`, to: `${lower[0]}p`, bitrate: lower[1] });
        level = lower;
      }
    } else if (random.chance(0.035)) {
      rec.add(base, 'pause', wall, pos);
      wall += Math.min(600_000, random.exp(25_000) + 1500);
    } else if (pos > 30 && random.chance(0.02)) {
      const to = Math.max(0, pos - random.between(8, 45)); // rewatch a bit
      rec.add(base, 'seek', wall, to, { from: r3(pos), to: r3(to) });
      pos = to;
      wall += random.between(300, 1200);
    } else if (random.chance(0.012) && pos + 30 < stopAt) {
      const to = Math.min(stopAt - 1, pos + random.between(15, 90)); // skip ahead
      rec.add(base, 'seek', wall, to, { from: r3(pos), to: r3(to) });
      pos = to;
      wall += random.between(300, 1200);
    }
  }
  const completed = stopAt >= v.duration;
  if (completed) rec.add(base, 'completion', wall, v.duration);
  else if (random.chance(0.4)) rec.add(base, 'pause', wall, pos);
  return { end: wall + random.between(2_000, 60_000), completed };
}

/** Every event of the plan's sessions, in no particular order. */
export function generateTraffic(p: TrafficPlan): { events: DemoEvent[]; sessions: number; loads: number } {
  const { random } = p;
  const rec = new Recorder(p);
  const byId = new Map(VIDEOS.map((v) => [v.contentId, v]));
  const launchAt = p.to - Math.min(9, Math.max(1, Math.floor((p.to - p.from) / DAY / 3))) * DAY;
  let loads = 0;
  for (let s = 0; s < p.sessions; s++) {
    // Some viewers come back often (learners), most once or twice.
    const viewer = p.viewers[Math.floor(p.viewers.length * Math.pow(random.next(), 1.7))]!;
    const sessionId = `demo-${p.runId}-s${s}`;
    let at = sessionStart(p, viewer);
    let v = firstVideo(random, at, launchAt);
    let referrer = pickReferrer(random);
    for (let n = 0; n < 6 && at < p.to; n++) {
      const r = view(rec, random, v, viewer, sessionId, at, referrer);
      loads++;
      // Go on: the next lesson after finishing one, sometimes another video of the same project.
      const next = v.next && random.chance(r.completed ? 0.55 : 0.12) ? byId.get(v.next)
        : random.chance(0.18) ? random.pick(VIDEOS.filter((x) => x.projectId === v.projectId && x.contentId !== v.contentId && (x.contentId !== LAUNCH || at >= launchAt)))
        : undefined;
      if (!next) break;
      referrer = v.page;
      at = r.end;
      v = next;
    }
  }
  return { events: rec.events, sessions: p.sessions, loads };
}
