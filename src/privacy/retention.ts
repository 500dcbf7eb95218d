/**
 * Retention (spec/exports.md "Retention"): each account's settings, and the sweeper that enforces
 * them — raw events, then view records and rollups, then export and report files. View records are
 * built from raw events before those go (the sweep runs with the materializer held and deletes only
 * events already in records), and a record whose raw events have started to expire is final: it is
 * never rebuilt from what is left, so aggregates of those days keep answering what they did.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Principal } from '../auth/service.ts';
import { AppError } from '../errors.ts';
import type { ExportService } from '../exports/service.ts';
import type { Logger } from '../logger.ts';
import type { Materializer } from '../metrics/materializer.ts';
import type { RetentionSettings, Store } from '../storage/types.ts';
import { PollingLoop } from '../util/loop.ts';
import type { AuditLog } from './audit.ts';
import type { SweepClock } from './clock.ts';
import type { ViewerPolicy } from './policy.ts';

const DAY = 86_400_000;
const KEYS = ['rawDays', 'aggregateDays', 'exportFileDays'] as const;
const MAX_DAYS = 36_500;

/** Checks a change of settings against the current ones; the result is complete and consistent. */
export function mergeSettings(current: RetentionSettings, body: unknown): RetentionSettings {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new AppError('validation_failed', `body: expected an object with any of ${KEYS.join(', ')}`);
  const next = { ...current };
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (!(KEYS as readonly string[]).includes(k)) throw new AppError('validation_failed', `${k}: unknown setting; accepted: ${KEYS.join(', ')}`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_DAYS) throw new AppError('validation_failed', `${k}: expected a whole number of days from 1 to ${MAX_DAYS}`);
    next[k as (typeof KEYS)[number]] = v;
  }
  if (next.aggregateDays < next.rawDays) {
    throw new AppError('validation_failed', `aggregateDays (${next.aggregateDays}) must be at least rawDays (${next.rawDays}): aggregates are built from raw events`);
  }
  return next;
}

export function settingsOf(a: { rawRetentionDays: number; aggregateRetentionDays: number; exportFileRetentionDays: number }): RetentionSettings {
  return { rawDays: a.rawRetentionDays, aggregateDays: a.aggregateRetentionDays, exportFileDays: a.exportFileRetentionDays };
}

export class RetentionService {
  constructor(
    private readonly store: Store,
    private readonly policy: ViewerPolicy,
    private readonly audit: AuditLog,
  ) {}

  async get(accountId: string): Promise<RetentionSettings> {
    const a = await this.store.accounts.get(accountId);
    if (!a) throw new AppError('not_found', 'No such account.');
    return settingsOf(a);
  }

  async update(who: Principal, body: unknown): Promise<RetentionSettings> {
    const before = await this.get(who.accountId);
    const after = mergeSettings(before, body);
    await this.store.retention.setSettings(who.accountId, after);
    this.policy.forget(who.accountId);
    await this.audit.record(who, 'retention.update', null, { before, after });
    return after;
  }
}

export interface SweepReport {
  at: string;
  accounts: Array<{ accountId: string; rawEvents: number; viewRecords: number; rollupRows: number; exportRuns: number; reports: number }>;
  purged: boolean | null;
}

export class Sweeper {
  readonly loop: PollingLoop<SweepReport>;
  last: SweepReport | null = null;

  constructor(
    private readonly d: {
      store: Store; materializer: Materializer; exports: ExportService; clock: SweepClock; log: Logger; everyMs: number; reportsDir: string;
      /** The pending purge of an erasure that could not purge at once. */
      purge: () => Promise<boolean>;
    },
  ) {
    this.loop = new PollingLoop({ round: () => this.sweep(), everyMs: d.everyMs, log: d.log, failure: 'retention sweep failed; will retry' });
  }

  private first: NodeJS.Timeout | null = null;

  /** The first sweep comes a minute after start (or one interval, if shorter), not in the way of start-up. */
  start(): void {
    this.first = setTimeout(() => void this.loop.start(), Math.min(this.d.everyMs, 60_000));
    this.first.unref();
  }

  stop(): Promise<void> {
    if (this.first) clearTimeout(this.first);
    return this.loop.stop();
  }

  /** The time cut-offs are computed from (see clock.ts). */
  async now(): Promise<number> {
    const [arrival, previous] = await Promise.all([this.d.store.retention.newestArrival(), this.d.store.retention.clock()]);
    const trusted = arrival === null && previous === null ? null : Math.max(arrival ?? 0, previous ?? 0);
    return this.d.clock.now(trusted);
  }

  /** One sweep of every account. */
  private async sweep(): Promise<SweepReport> {
    const { store } = this.d;
    const now = await this.now();
    const report: SweepReport = { at: new Date(now).toISOString(), accounts: [], purged: null };
    for (const { accountId, settings } of await store.retention.accounts()) {
      if (this.loop.stopped) break;
      const rawBefore = now - settings.rawDays * DAY;
      // Aggregates go by whole UTC days, so a day's rollup and its records go together.
      const aggBefore = Math.floor((now - settings.aggregateDays * DAY) / DAY) * DAY;
      const { raw, agg } = await this.d.materializer.exclusive(async () => ({
        raw: await store.retention.expireRaw(accountId, rawBefore, this.d.materializer.materialized),
        agg: await store.retention.expireAggregates(accountId, aggBefore),
      }));
      // Files go after the account's export file retention, or sooner when their links expired
      // (REELSTAT_LINK_TTL shorter than the retention): nobody can download them any more.
      const filesBefore = now - settings.exportFileDays * DAY;
      const runs = await store.retention.runsFinishedBefore(accountId, filesBefore, now);
      const pastRetention = (r: { finishedAt: number | null }) => r.finishedAt !== null && r.finishedAt < filesBefore;
      await store.privacy.removeRunFiles(runs.filter(pastRetention).map((r) => r.id), `export files are kept ${settings.exportFileDays} days (retention)`, now);
      await store.privacy.removeRunFiles(runs.filter((r) => !pastRetention(r)).map((r) => r.id), 'the download links expired', now);
      await this.d.exports.deleteFiles(runs.map((r) => r.id));
      const reports = await store.retention.reportsFinishedBefore(accountId, filesBefore, now);
      for (const r of reports) {
        await store.retention.endReport(r.id, now);
        await rm(join(this.d.reportsDir, r.id), { recursive: true, force: true });
      }
      report.accounts.push({ accountId, rawEvents: raw, viewRecords: agg.records, rollupRows: agg.rollupRows, exportRuns: runs.length, reports: reports.length });
    }
    await store.retention.setClock(now);
    if (await store.privacy.purgePending()) report.purged = await this.d.purge();
    const removed = report.accounts.some((a) => a.rawEvents || a.viewRecords || a.exportRuns || a.reports);
    if (removed) this.d.log.info({ sweep: report }, 'retention sweep removed expired data');
    this.last = report;
    return report;
  }
}
