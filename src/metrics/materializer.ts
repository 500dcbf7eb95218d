/**
 * Keeps view records up to date with the raw events. After each commit the writer reports the
 * highest seq stored; the materializer rebuilds every session that got events since its watermark
 * (with buildViewRecord, the one definition) and stores the watermark with the last batch, so a
 * crash only means redoing idempotent work. Queries call settle() to read their own writes.
 */
import type { Logger } from '../logger.ts';
import type { Store } from '../storage/types.ts';
import { buildViewRecord, type RecordEvent, type ViewRecord } from './viewRecord.ts';

const FLUSH_SESSIONS = 2000;

export class Materializer {
  private watermark = 0;
  private target = 0;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  /** Set while `exclusive` runs: no rebuild starts, settle() waits. */
  private lock: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly intervalMs = 250,
  ) {}

  async start(): Promise<void> {
    this.watermark = await this.store.views.watermark();
    this.target = await this.store.events.maxSeq();
    this.timer = setInterval(() => void this.kick().catch(() => undefined), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a rebuild in progress, so the store can be closed under it safely. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** The writer committed events up to this seq. */
  committed(seq: number): void {
    if (seq > this.target) this.target = seq;
  }

  get lag(): number {
    return this.target - this.watermark;
  }

  private kick(): Promise<void> {
    if (this.lock) return this.lock;
    if (!this.running && this.watermark < this.target) {
      this.running = this.run().finally(() => (this.running = null));
    }
    return this.running ?? Promise.resolve();
  }

  /** Resolves once every event committed before the call is in the view records. */
  async settle(): Promise<void> {
    const goal = this.target;
    while (this.watermark < goal) {
      const before = this.failures;
      await this.kick().catch(() => undefined);
      if (this.failures > before) throw new Error('view records could not be brought up to date');
    }
  }

  /**
   * Runs fn with the records up to date and no rebuild running or starting meanwhile (erasure and
   * retention sweeps change raw events and records under it). One at a time.
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.lock) await this.lock;
    let release!: () => void;
    this.lock = new Promise((r) => (release = r));
    try {
      await this.running?.catch(() => undefined);
      if (this.watermark < this.target) {
        const before = this.failures;
        await this.run().catch(() => undefined);
        if (this.failures > before) throw new Error('view records could not be brought up to date');
      }
      return await fn();
    } finally {
      this.lock = null;
      release();
    }
  }

  /** The highest seq in the view records. */
  get materialized(): number {
    return this.watermark;
  }

  /**
   * Rebuilds the records of some sessions of an account from their raw events (after some of those
   * events were erased). Call inside `exclusive`.
   */
  async rebuildSessions(accountId: string, sessionIds: string[]): Promise<number> {
    if (!sessionIds.length) return 0;
    const events = await this.store.views.sessionEvents(accountId, sessionIds);
    const groups = new Map<string, RecordEvent[]>();
    for (const e of events) {
      const key = `${e.sessionId}\u0000${e.contentId}`;
      const g = groups.get(key);
      if (g) g.push(e);
      else groups.set(key, [e]);
    }
    const records = [...groups.values()].map((g) => buildViewRecord(accountId, g, null));
    await this.store.views.replaceSessions(accountId, sessionIds, records, null);
    return records.length;
  }

  private async run(): Promise<void> {
    const upto = this.target;
    const t0 = Date.now();
    let account = '';
    let sessions: string[] = [];
    let records: ViewRecord[] = [];
    let n = 0;
    const flush = async (watermark: number | null) => {
      if (sessions.length || watermark !== null) await this.store.views.replaceSessions(account, sessions, records, watermark);
      sessions = [];
      records = [];
    };
    try {
      await this.store.views.streamDirtySessions(this.watermark, upto, async (accountId, sessionId, events) => {
        if ((accountId !== account && sessions.length) || sessions.length >= FLUSH_SESSIONS) await flush(null);
        account = accountId;
        sessions.push(sessionId);
        n++;
        const byContent = new Map<string, RecordEvent[]>();
        for (const e of events) {
          const list = byContent.get(e.contentId);
          if (list) list.push(e);
          else byContent.set(e.contentId, [e]);
        }
        for (const list of byContent.values()) records.push(buildViewRecord(accountId, list, null));
      });
      await flush(upto);
      this.watermark = upto;
      if (n > 1000) this.log.info({ sessions: n, ms: Date.now() - t0 }, 'view records rebuilt');
    } catch (err) {
      this.failures++;
      this.log.error({ err }, 'view record materialization failed; will retry');
      throw err;
    }
  }
}
