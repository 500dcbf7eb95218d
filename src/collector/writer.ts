/**
 * Group commit: requests hand their events to one writer, which stores everything waiting in one
 * transaction and answers each request when that transaction is durable. Durability then costs one
 * commit per batch of requests, not one per request.
 */
import { AppError } from '../errors.ts';
import type { StoredEvent } from '../events/types.ts';
import type { Logger } from '../logger.ts';
import type { CatalogFill, Store } from '../storage/types.ts';
import { FingerprintSet } from './dedupe.ts';

export interface WriteResult {
  accepted: number;
  duplicates: number;
}

interface Pending {
  events: StoredEvent[];
  resolve: (r: WriteResult) => void;
  reject: (e: unknown) => void;
  /** Resolves when this request's events are committed or refused. */
  settled?: Promise<void>;
}

export class EventWriter {
  private queue: Pending[] = [];
  private queued = 0;
  private running = false;
  private seq = 0;
  private idle: Array<() => void> = [];
  private readonly fps = new FingerprintSet();
  /** False after a commit failed, until one succeeds. */
  healthy = true;

  constructor(
    private readonly store: Store,
    private readonly opts: { maxQueuedEvents: number; maxCommitEvents: number },
    private readonly log: Logger,
    /** Told the highest seq after each successful commit (the view-record materializer listens). */
    private readonly onCommit: (seq: number) => void = () => undefined,
  ) {}

  async start(): Promise<void> {
    this.seq = await this.store.events.maxSeq();
    const t0 = Date.now();
    await this.store.events.scanFingerprints((fp) => this.fps.add(fp));
    this.log.info({ events: this.fps.size, ms: Date.now() - t0, bytes: this.fps.bytes }, 'de-duplication filter loaded');
  }

  get queuedEvents(): number {
    return this.queued;
  }

  submit(events: StoredEvent[]): Promise<WriteResult> {
    if (events.length === 0) return Promise.resolve({ accepted: 0, duplicates: 0 });
    if (this.queued + events.length > this.opts.maxQueuedEvents) {
      return Promise.reject(new AppError('unavailable', 'The ingest queue is full; retry shortly.', { retryAfter: 1 }));
    }
    let pending!: Pending;
    const result = new Promise<WriteResult>((resolve, reject) => {
      pending = { events, resolve, reject };
    });
    pending.settled = result.then(() => undefined, () => undefined);
    this.queue.push(pending);
    this.queued += events.length;
    if (!this.running) void this.loop();
    return result;
  }

  /**
   * Resolves once every event submitted before the call is committed or refused — unlike drain(),
   * it does not wait for events submitted later, so it ends under continuous ingest.
   */
  barrier(): Promise<void> {
    const last = this.queue[this.queue.length - 1];
    if (last) return last.settled!;
    return this.inFlight ?? Promise.resolve();
  }

  /** Resolves when nothing is waiting or being written. */
  drain(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private take(): Pending[] {
    const batch: Pending[] = [];
    let n = 0;
    while (this.queue.length && (batch.length === 0 || n + this.queue[0].events.length <= this.opts.maxCommitEvents)) {
      const p = this.queue.shift()!;
      n += p.events.length;
      batch.push(p);
    }
    this.queued -= n;
    return batch;
  }

  private inFlight: Promise<void> | null = null;

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length) {
        this.inFlight = this.commit(this.take());
        await this.inFlight;
        this.inFlight = null;
      }
    } finally {
      this.running = false;
      this.inFlight = null;
      for (const f of this.idle.splice(0)) f();
    }
  }

  /**
   * Commits a batch; when that fails and it holds several requests, each alone, in order: a request
   * whose events the store refuses (a value no check foresaw) then fails alone, not the requests of
   * other accounts that shared its commit. A store that is down refuses each in turn.
   */
  private async commit(batch: Pending[]): Promise<void> {
    const err = await this.tryCommit(batch);
    if (err === null) return;
    if (batch.length === 1) return this.refuse(batch, err);
    for (const p of batch) {
      const alone = await this.tryCommit([p]);
      if (alone !== null) this.refuse([p], alone);
    }
  }

  private refuse(batch: Pending[], err: unknown): void {
    this.healthy = false;
    this.log.error({ err }, 'event commit failed');
    const e = new AppError('storage_unavailable', 'The events could not be made durable; nothing was stored. Retry later with the same ids.', { retryAfter: 5 });
    for (const p of batch) p.reject(e);
  }

  /** Commits `batch` and resolves its requests; answers null, or the error (nothing stored, nothing answered). */
  private async tryCommit(batch: Pending[]): Promise<unknown> {
    try {
      const dup = await this.findDuplicates(batch);
      const rows: StoredEvent[] = [];
      const fills = new Map<string, CatalogFill>();
      const results = batch.map((p) => {
        let accepted = 0;
        for (const e of p.events) {
          if (dup.has(e)) continue;
          e.seq = ++this.seq;
          rows.push(e);
          accepted++;
          addFill(fills, e);
        }
        return { accepted, duplicates: p.events.length - accepted };
      });
      const seqBefore = this.seq - rows.length;
      try {
        await this.store.events.insert(rows, [...fills.values()]);
      } catch (err) {
        this.seq = seqBefore;
        throw err;
      }
      // Committed: from here on the requests are answered as stored, whatever happens (a retry
      // would store the events whose ids the server made a second time).
      for (const e of rows) if (e.clientId) this.fps.add(e.fp);
      this.healthy = true;
      try {
        if (rows.length) this.onCommit(this.seq);
      } catch (err) {
        this.log.error({ err }, 'after a commit, telling the materializer failed');
      }
      batch.forEach((p, i) => p.resolve(results[i]));
      return null;
    } catch (err) {
      return err;
    }
  }

  /** The events of this batch that are already stored, or repeat an earlier event of the batch. */
  private async findDuplicates(batch: Pending[]): Promise<Set<StoredEvent>> {
    const dup = new Set<StoredEvent>();
    const seen = new Set<string>();
    const suspects = new Map<string, StoredEvent[]>();
    for (const p of batch) {
      for (const e of p.events) {
        if (!e.clientId) continue;
        const key = e.accountId + '\u0000' + e.id;
        if (seen.has(key)) {
          dup.add(e);
          continue;
        }
        seen.add(key);
        if (this.fps.has(e.fp)) {
          const list = suspects.get(e.accountId) ?? [];
          list.push(e);
          suspects.set(e.accountId, list);
        }
      }
    }
    for (const [accountId, list] of suspects) {
      const existing = await this.store.events.existingIds(accountId, list.map((e) => e.id));
      for (const e of list) if (existing.has(e.id)) dup.add(e);
    }
    return dup;
  }
}

function addFill(fills: Map<string, CatalogFill>, e: StoredEvent): void {
  const key = e.accountId + '\u0000' + e.contentId;
  const f = fills.get(key);
  if (!f) {
    fills.set(key, { accountId: e.accountId, contentId: e.contentId, title: e.title, duration: e.duration });
    return;
  }
  f.title ??= e.title;
  if (e.duration !== null && (f.duration === null || e.duration > f.duration)) f.duration = e.duration;
}
