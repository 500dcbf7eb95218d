/**
 * Test doubles for the SDK's Node tests: a manual clock with timers, a recorded network whose answers
 * the test decides, memory stores, and a <video> stand-in that plays by the clock and fires the media
 * events in the order Chromium does.
 */
import type { Env, Kv, PostResult } from './env.ts';
import { memoryKv } from './env.ts';

export interface Request {
  url: string;
  body: { writeKey: string; events: Array<Record<string, any>> };
  answer(r: PostResult | 'network'): Promise<void>;
}

export class FakeEnv implements Env {
  time = Date.UTC(2026, 0, 10, 12, 0, 0);
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 1;
  requests: Request[] = [];
  beacons: Array<{ url: string; body: Request['body'] }> = [];
  beaconWorks = true;
  ids: Kv = memoryKv();
  tab: Kv = memoryKv();
  outbox: Kv = memoryKv();
  private hideFns: Array<() => void> = [];
  private seed = 1;

  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== h);
  }
  /** Moves the clock by `ms`, running every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const t = this.timers[0];
      if (!t || t.at > end) break;
      this.timers.shift();
      this.time = Math.max(this.time, t.at);
      t.fn();
    }
    this.time = end;
  }
  post(url: string, body: string): Promise<PostResult> {
    return new Promise((resolve, reject) => {
      this.requests.push({
        url,
        body: JSON.parse(body),
        answer: async (r) => {
          if (r === 'network') reject(new TypeError('Failed to fetch'));
          else resolve(r);
          await settle();
        },
      });
    });
  }
  beacon(url: string, body: string): boolean {
    if (!this.beaconWorks) return false;
    this.beacons.push({ url, body: JSON.parse(body) });
    return true;
  }
  onHide(fn: () => void): () => void {
    this.hideFns.push(fn);
    return () => (this.hideFns = this.hideFns.filter((f) => f !== fn));
  }
  hide(): void {
    for (const f of [...this.hideFns]) f();
  }
  random(): number[] {
    const out: number[] = [];
    for (let i = 0; i < 16; i++) {
      this.seed = (this.seed * 1103515245 + 12345) % 2147483648;
      out.push((this.seed >> 16) & 255);
    }
    return out;
  }
  page() {
    return { url: 'https://shop.example/watch', referrer: 'https://www.google.com/' };
  }
}

/** Every event sent so far: runs the clock a minute and answers each request 202, until none are left. */
export async function sentEvents(env: FakeEnv): Promise<Array<Record<string, any>>> {
  env.advance(60_000);
  await settle();
  for (let i = 0; i < env.requests.length; i++) {
    await env.requests[i]!.answer({ status: 202, retryAfter: null });
    env.advance(60_000);
  }
  return env.requests.flatMap((r) => r.body.events);
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** A <video> stand-in: the playhead moves with the FakeEnv clock while playing. */
export class FakeVideo extends EventTarget {
  readonly tagName = 'VIDEO';
  duration = NaN;
  paused = true;
  ended = false;
  seeking = false;
  loop = false;
  playbackRate = 1;
  readyState = 0;
  videoHeight = 0;
  error: { code: number; message: string } | null = null;
  private pos = 0;
  private posAt = 0;
  private stalled = false;

  constructor(private readonly env: FakeEnv) {
    super();
  }
  get currentTime(): number {
    if (this.paused || this.stalled || this.seeking) return this.pos;
    return Math.min(this.duration || Infinity, this.pos + ((this.env.now() - this.posAt) / 1000) * this.playbackRate);
  }
  set currentTime(t: number) {
    this.seekTo(t);
  }
  private fire(name: string): void {
    this.dispatchEvent(new Event(name));
  }
  private freeze(): void {
    this.pos = this.currentTime;
    this.posAt = this.env.now();
  }
  loadMetadata(duration: number, height = 720): void {
    this.duration = duration;
    this.videoHeight = height;
    this.readyState = 4;
    this.fire('loadedmetadata');
    this.fire('resize');
  }
  play(): void {
    if (!this.paused) return;
    if (this.ended) {
      this.ended = false;
      this.seekTo(0);
    }
    this.paused = false;
    this.posAt = this.env.now();
    this.fire('play');
    this.fire('playing');
  }
  pause(): void {
    if (this.paused) return;
    this.freeze();
    this.paused = true;
    this.fire('pause');
  }
  /** Seeks; with `loadMs` the data arrives that much later (waiting → seeked → playing). */
  seekTo(t: number, loadMs = 0): void {
    this.freeze();
    this.pos = t;
    this.seeking = true;
    this.fire('seeking');
    if (loadMs) {
      if (!this.paused) this.fire('waiting');
      this.env.advance(loadMs);
    }
    this.seeking = false;
    this.posAt = this.env.now();
    this.fire('seeked');
    this.fire('timeupdate');
    if (loadMs && !this.paused) this.fire('playing');
  }
  stall(): void {
    this.freeze();
    this.stalled = true;
    this.fire('waiting');
  }
  resume(): void {
    this.stalled = false;
    this.posAt = this.env.now();
    this.fire('playing');
  }
  /** Plays `ms` of wall time with timeupdate every 250 ms, ending the media when it runs out. */
  run(ms: number): void {
    const end = this.env.now() + ms;
    while (this.env.now() < end) {
      const step = Math.min(250, end - this.env.now());
      this.env.advance(step);
      if (this.paused || this.stalled) continue;
      this.fire('timeupdate');
      if (this.duration && this.currentTime >= this.duration) {
        this.pos = this.duration;
        this.posAt = this.env.now();
        this.ended = true;
        this.paused = true;
        this.fire('pause');
        this.fire('ended');
        return;
      }
    }
  }
  setHeight(h: number): void {
    this.videoHeight = h;
    this.fire('resize');
  }
  fail(code: number, message: string): void {
    this.error = { code, message };
    this.fire('error');
  }
}
