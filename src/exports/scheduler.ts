/**
 * The scheduler of hourly, daily and weekly export jobs. On every tick it reads the active jobs
 * (whoever made them: the native API, a dialect) and adds one pending run for each window that has
 * ended — plus the job's `spec.delayMinutes` — since the job's creation (or last resume) and after
 * its latest run. Windows missed while the server was down are added when it comes back. Each
 * window is run once: the store refuses a second run of the same (job, window start), so a repeated
 * tick or two schedulers can never double a run. The ExportService executes the runs.
 */
import { newId } from '../auth/secrets.ts';
import type { Logger } from '../logger.ts';
import type { ExportRunRow, ScheduledKind, Store } from '../storage/types.ts';
import { PollingLoop } from '../util/loop.ts';
import { dueWindows } from './windows.ts';

/** Runs added per job and tick; a long outage of an hourly job is caught up over a few ticks. */
const MAX_PER_TICK = 500;

export interface SchedulerOptions {
  now: () => number;
  log: Logger;
  /** How often to look, in ms of real time (default 1000). */
  tickMs?: number;
  /** Told when runs were added (the export queue wakes up). */
  onRuns?: () => void;
}

/** `spec.delayMinutes` of a job: a whole number of minutes ≥ 0; anything else counts as 0. */
export function delayMinutesOf(spec: Record<string, unknown>): number {
  const v = spec.delayMinutes;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

export class ExportScheduler {
  private readonly loop: PollingLoop<number>;

  constructor(
    private readonly store: Store,
    private readonly opts: SchedulerOptions,
  ) {
    this.loop = new PollingLoop({
      round: () => this.addDueRuns(), everyMs: opts.tickMs ?? 1000, log: opts.log,
      failure: 'the export scheduler could not add runs; trying again at the next tick',
    });
  }

  /** Catches up at once, then looks every tick. */
  async start(): Promise<void> {
    await this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One look; resolves with the number of runs added (0 if it failed or after stop). Never runs twice at once. */
  async tick(): Promise<number> {
    return (await this.loop.kick()) ?? 0;
  }

  private async addDueRuns(): Promise<number> {
    const now = this.opts.now();
    let added = 0;
    for (const { job, origin, lastPeriodFrom } of await this.store.schedules.active()) {
      if (this.loop.stopped) break;
      const windows = dueWindows(job.kind as ScheduledKind, {
        origin, lastFrom: lastPeriodFrom, now, delayMs: delayMinutesOf(job.spec) * 60_000, max: MAX_PER_TICK,
      });
      if (windows.length === 0) continue;
      const runs = windows.map((w): ExportRunRow => ({
        id: newId('run'), jobId: job.id, accountId: job.accountId, periodFrom: w.from, periodTo: w.to, status: 'pending', attempts: 0,
        rows: null, files: null, error: null, createdAt: now, finishedAt: null, expiresAt: null,
      }));
      const n = await this.store.schedules.addRuns(runs);
      if (n > 0) this.opts.log.info({ jobId: job.id, runs: n, from: new Date(windows[0]!.from).toISOString() }, 'scheduled export runs added');
      added += n;
    }
    if (added > 0) this.opts.onRuns?.();
    return added;
  }
}
