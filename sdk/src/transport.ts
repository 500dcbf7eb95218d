/**
 * Batches events to the collector: one request in flight at a time, a batch sent `flushMs` after its
 * first event or as soon as `maxBatch` are waiting. A failed request (network, 408, 429, 5xx) is
 * retried with the same events — the same ids, so the collector stores each once — after Retry-After
 * or an exponential backoff; any other answer settles its events (a 202 lists rejections, a 400/401/413
 * will not get better). When the page is hidden everything unconfirmed goes out by sendBeacon; what the
 * browser would not queue is kept in localStorage and sent by the next page.
 */
import type { Env } from './env.ts';

export interface TrackedEvent {
  id: string;
  event: string;
  timestamp: number;
  [field: string]: unknown;
}

export interface TransportOptions {
  flushMs: number;
  maxBatch: number;
}

/** Events kept waiting at most (the oldest are dropped beyond it) and kept in the outbox. */
export const MAX_QUEUE = 1000;
export const MAX_BACKOFF_MS = 60000;
const OUTBOX_PREFIX = 'reelstat_q ';

export class Transport {
  private queue: TrackedEvent[] = [];
  private inflight: TrackedEvent[] | null = null;
  private timer: unknown = null;
  private failures = 0;
  private waiters: Array<(ok: boolean) => void> = [];
  private readonly outboxKey: string;

  constructor(
    private readonly env: Env,
    readonly url: string,
    private readonly writeKey: string,
    private readonly opts: TransportOptions,
  ) {
    this.outboxKey = OUTBOX_PREFIX + url + ' ' + writeKey;
    const saved = this.readOutbox();
    if (saved.length) {
      this.queue = saved;
      this.schedule(0);
    }
  }

  /** Events not yet confirmed by the collector (waiting or in flight). */
  get pending(): number {
    return this.queue.length + (this.inflight ? this.inflight.length : 0);
  }

  push(e: TrackedEvent): void {
    this.queue.push(e);
    if (this.queue.length > MAX_QUEUE) this.queue.splice(0, this.queue.length - MAX_QUEUE);
    if (this.queue.length >= this.opts.maxBatch && this.failures === 0) this.send();
    else if (this.timer === null) this.schedule(this.opts.flushMs);
  }

  /** Sends what waits now; resolves true once nothing is pending, false when a request failed (it will be retried). */
  flush(): Promise<boolean> {
    if (!this.pending) return Promise.resolve(true);
    const p = new Promise<boolean>((resolve) => this.waiters.push(resolve));
    this.send();
    return p;
  }

  /** The page is going away or hidden: beacon everything unconfirmed; keep what the browser refused. */
  hide(): void {
    const all = (this.inflight || []).concat(this.queue);
    const refused: TrackedEvent[] = [];
    for (let i = 0; i < all.length; i += this.opts.maxBatch) {
      const chunk = all.slice(i, i + this.opts.maxBatch);
      if (!this.env.beacon(this.url, this.body(chunk))) refused.push(...chunk);
    }
    // In-flight events stay in flight (their answer settles them); the rest either went or wait.
    const inflight = this.inflight || [];
    this.queue = refused.filter((e) => inflight.indexOf(e) < 0);
    this.writeOutbox(refused);
    if (!this.pending) this.settle(true);
  }

  private body(events: TrackedEvent[]): string {
    return JSON.stringify({ writeKey: this.writeKey, events });
  }

  private schedule(ms: number): void {
    if (this.timer !== null) this.env.clearTimeout(this.timer);
    this.timer = this.env.setTimeout(() => {
      this.timer = null;
      this.send();
    }, ms);
  }

  private send(): void {
    if (this.inflight || !this.queue.length) return;
    if (this.timer !== null) {
      this.env.clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.queue.splice(0, this.opts.maxBatch);
    this.inflight = batch;
    this.env.post(this.url, this.body(batch)).then(
      (r) => this.answered(batch, r.status >= 500 || r.status === 408 || r.status === 429, r.retryAfter),
      () => this.answered(batch, true, null),
    );
  }

  private answered(batch: TrackedEvent[], retry: boolean, retryAfter: number | null): void {
    this.inflight = null;
    if (retry) {
      this.queue = batch.concat(this.queue).slice(-MAX_QUEUE);
      this.failures++;
      const backoff = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, this.failures - 1)) * (0.75 + this.env.random()[0]! / 510);
      this.schedule(retryAfter !== null ? Math.min(retryAfter * 1000, 10 * MAX_BACKOFF_MS) : backoff);
      this.settle(false);
      return;
    }
    this.failures = 0;
    this.forget(batch);
    if (this.queue.length >= this.opts.maxBatch) this.send();
    else if (this.queue.length) {
      if (this.waiters.length) this.send();
      else if (this.timer === null) this.schedule(this.opts.flushMs);
    } else this.settle(true);
  }

  private settle(ok: boolean): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f(ok);
  }

  private readOutbox(): TrackedEvent[] {
    try {
      const v = JSON.parse(this.env.outbox.get(this.outboxKey) || '[]') as unknown;
      return Array.isArray(v) ? (v as TrackedEvent[]).filter((e) => e && typeof e.id === 'string').slice(-MAX_QUEUE) : [];
    } catch {
      return [];
    }
  }

  /** Adds `events` to the outbox (by id, newest kept); other tabs' saved events stay. */
  private writeOutbox(events: TrackedEvent[]): void {
    if (!events.length) return;
    const have = this.readOutbox();
    const ids: Record<string, 1> = {};
    for (const e of have) ids[e.id] = 1;
    for (const e of events) if (!ids[e.id]) have.push(e);
    this.env.outbox.set(this.outboxKey, JSON.stringify(have.slice(-MAX_QUEUE)));
  }

  /** Removes confirmed events from the outbox, if any were saved there. */
  private forget(batch: TrackedEvent[]): void {
    if (this.env.outbox.get(this.outboxKey) === null) return;
    const gone: Record<string, 1> = {};
    for (const e of batch) gone[e.id] = 1;
    const left = this.readOutbox().filter((e) => !gone[e.id]);
    if (left.length) this.env.outbox.set(this.outboxKey, JSON.stringify(left));
    else this.env.outbox.del(this.outboxKey);
  }
}
