/**
 * A background loop that polls: an unref'd interval that runs an async round, never two at once.
 * A round that fails is logged with the loop's message and tried again on the next tick (the store
 * may be unusable for a while: disk full, invalidated). `kick()` runs a round now; `stop()` clears
 * the timer and waits for the round in flight, after which nothing runs again. A round that loops
 * over work checks `stopped` to end early.
 */

/** The part of the logger a loop uses (pino's Logger fits). */
export interface ErrorLog {
  error(obj: { err: unknown }, msg: string): void;
}

export interface PollingLoopOptions<T> {
  /** One round of work; its value is what `kick()` resolves with. */
  round: () => Promise<T>;
  /** Milliseconds between ticks. */
  everyMs: number;
  log: ErrorLog;
  /** Logged (with `err`) when a round fails. */
  failure: string;
}

export class PollingLoop<T = void> {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<T | undefined> | null = null;
  private isStopped = false;

  constructor(private readonly opts: PollingLoopOptions<T>) {}

  /** True once `stop()` was called: a round in flight should wind down. */
  get stopped(): boolean {
    return this.isStopped;
  }

  /**
   * Starts ticking (every `everyMs`, not keeping the process alive) and runs a round now; resolves
   * with that round, like `kick()`. Does nothing after stop.
   */
  start(): Promise<T | undefined> {
    if (this.isStopped) return Promise.resolve(undefined);
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => void this.kick(), this.opts.everyMs);
    this.timer.unref();
    return this.kick();
  }

  /**
   * Runs a round now, unless one is going (then resolves with that one) or the loop is stopped
   * (then resolves with undefined at once). Never rejects: a failed round is logged and resolves
   * with undefined.
   */
  kick(): Promise<T | undefined> {
    if (this.isStopped) return Promise.resolve(undefined);
    if (this.current) return this.current;
    let round: Promise<T>;
    try {
      round = this.opts.round();
    } catch (err) {
      round = Promise.reject(err);
    }
    const current = round
      .catch((err: unknown) => {
        this.opts.log.error({ err }, this.opts.failure);
        return undefined;
      })
      .finally(() => {
        if (this.current === current) this.current = null;
      });
    this.current = current;
    return current;
  }

  /** Resolves when no round is in flight (at once if none is). */
  async idle(): Promise<void> {
    while (this.current) await this.current;
  }

  /** No more rounds; resolves once the round in flight (if any) has ended. */
  async stop(): Promise<void> {
    this.isStopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.idle();
  }
}

/**
 * A queue worker driven by one PollingLoop: subclasses give `drain()` (one round of work, checking
 * `this.loop.stopped` to end early) and start the loop when ready; `stop()` and `kick()` are shared.
 */
export abstract class PolledWorker {
  protected readonly loop: PollingLoop;

  constructor(opts: Omit<PollingLoopOptions<void>, 'round'>) {
    this.loop = new PollingLoop({ ...opts, round: () => this.drain() });
  }

  protected abstract drain(): Promise<void>;

  /** Stops ticking and waits for the round in flight. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Runs a round now (no-op while one is going, or after stop). */
  kick(): void {
    void this.loop.kick();
  }
}
