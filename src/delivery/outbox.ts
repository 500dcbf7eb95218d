/**
 * The outbox: each completed scheduled run gets one delivery row (made in the transaction that
 * completes the run), and this loop sends it as its own job — a webhook (webhook.ts) or an email
 * (email.ts) — storing every attempt and planning the next one with planNext (retry.ts): backoff
 * for 24 h, Retry-After honoured, 410 Gone pauses the schedule. A failed delivery never re-runs
 * the export. A delivery stays pending in the store until it ends, so a restart resumes it with
 * the same webhook-id (at least once: an attempt cut short by a crash is made again).
 */
import type { Logger } from '../logger.ts';
import type { DeliveryRow, ExportJobRow, ExportRunRow, Store } from '../storage/types.ts';
import { PolledWorker } from '../util/loop.ts';
import type { Mailer } from './email.ts';
import { planNext, type AttemptResult } from './retry.ts';
import { newMessageId, sendWebhook, type Resolver } from './webhook.ts';

/** A file of a completed run as receivers see it: a signed link and what it holds. */
export interface DeliveredFile {
  name: string;
  url: string;
  size: number;
  rows: number;
  sha256: string;
  expiresAt: string;
}

/** Where a scheduled job delivers (spec.delivery), or null for none. */
export function destinationOf(spec: Record<string, unknown>): { channel: 'webhook' | 'email'; target: string } | null {
  const d = spec.delivery as { webhook?: unknown; email?: unknown } | undefined;
  if (d && typeof d.webhook === 'string') return { channel: 'webhook', target: d.webhook };
  if (d && typeof d.email === 'string') return { channel: 'email', target: d.email };
  return null;
}

/** The delivery of a completed run of a scheduled job with a destination, due at once; else null. */
export function deliveryFor(job: ExportJobRow, run: ExportRunRow, now: number): DeliveryRow | null {
  const dest = job.kind === 'once' ? null : destinationOf(job.spec);
  if (!dest) return null;
  return {
    id: newMessageId(), accountId: run.accountId, jobId: run.jobId, runId: run.id, channel: dest.channel, target: dest.target,
    status: 'pending', attempts: 0, firstAttemptAt: null, nextAttemptAt: now, lastError: null, createdAt: now, finishedAt: null,
  };
}

/** The body of the export.completed webhook, byte for byte what is signed. */
export function webhookBody(run: ExportRunRow, files: DeliveredFile[]): string {
  return JSON.stringify({
    type: 'export.completed',
    exportId: run.id,
    scheduleId: run.jobId,
    period: { from: new Date(run.periodFrom).toISOString(), to: new Date(run.periodTo).toISOString() },
    rows: run.rows,
    files: files.map((f) => ({ name: f.name, url: f.url, size: f.size, rows: f.rows, sha256: f.sha256, expiresAt: f.expiresAt })),
  });
}

export interface OutboxOptions {
  now: () => number;
  log: Logger;
  /** REELSTAT_ALLOW_PRIVATE_WEBHOOKS. */
  allowPrivate: boolean;
  /** Null when REELSTAT_SMTP_URL is unset: email deliveries then fail and are retried. */
  mailer: Mailer | null;
  /** The signed files of a completed run. */
  files: (run: ExportRunRow) => DeliveredFile[];
  /** How often to look for due deliveries, in ms of real time (default 500). */
  tickMs?: number;
  /** Deliveries attempted at the same time (default 4). */
  concurrency?: number;
  timeoutMs?: number;
  resolve?: Resolver;
  random?: () => number;
}

const failure = (error: string): AttemptResult => ({ ok: false, status: null, error, retryAfterMs: null, gone: false, blocked: false, durationMs: 0 });

export class Outbox extends PolledWorker {
  constructor(
    private readonly store: Store,
    private readonly opts: OutboxOptions,
  ) {
    super({ everyMs: opts.tickMs ?? 500, log: opts.log, failure: 'the delivery loop failed; trying again at the next tick' });
  }

  start(): void {
    void this.loop.start();
  }

  protected async drain(): Promise<void> {
    const batch = this.opts.concurrency ?? 4;
    while (!this.loop.stopped) {
      const due = await this.store.deliveries.due(this.opts.now(), batch);
      if (due.length === 0) return;
      await Promise.all(due.map((d) => this.attempt(d)));
    }
  }

  private async send(d: DeliveryRow): Promise<{ result: AttemptResult; final?: string }> {
    const run = await this.store.jobs.getRun(d.runId);
    if (!run || run.status !== 'completed') return { result: failure('the export run is no longer available'), final: 'the export run is no longer available' };
    const files = this.opts.files(run);
    if (d.channel === 'webhook') {
      const secret = (await this.store.schedules.settings(d.jobId))?.secret;
      if (!secret) return { result: failure('the schedule has no webhook signing secret'), final: 'the schedule has no webhook signing secret' };
      const result = await sendWebhook({
        url: d.target, id: d.id, body: webhookBody(run, files), secret, allowPrivate: this.opts.allowPrivate, now: this.opts.now,
        resolve: this.opts.resolve, timeoutMs: this.opts.timeoutMs,
      });
      return { result };
    }
    const mailer = this.opts.mailer;
    if (!mailer) return { result: failure('no SMTP server is configured (REELSTAT_SMTP_URL)') };
    const started = performance.now();
    try {
      const from = new Date(run.periodFrom).toISOString();
      const to = new Date(run.periodTo).toISOString();
      await mailer.sendExportEmail({ to: d.target, subject: `Reelstat export ${from.slice(0, 16).replace('T', ' ')} to ${to.slice(0, 16).replace('T', ' ')} UTC`, links: files, period: { from, to } });
      return { result: { ok: true, status: null, error: null, retryAfterMs: null, gone: false, blocked: false, durationMs: Math.round(performance.now() - started) } };
    } catch (err) {
      return { result: { ...failure((err as Error).message || 'sending the email failed'), durationMs: Math.round(performance.now() - started) } };
    }
  }

  private async attempt(d: DeliveryRow): Promise<void> {
    const n = d.attempts + 1;
    const at = this.opts.now();
    const first = d.firstAttemptAt ?? at;
    const { result, final } = await this.send(d);
    const plan = final ? { action: 'give_up' as const, reason: final } : planNext(first, this.opts.now(), n, result, { random: this.opts.random });
    const ended = this.opts.now();
    const common = { firstAttemptAt: first, lastError: result.error };
    const base = {
      deliveryId: d.id, n, accountId: d.accountId, jobId: d.jobId, runId: d.runId, at, statusCode: result.status, error: result.error, durationMs: result.durationMs,
    };
    switch (plan.action) {
      case 'done':
        await this.store.deliveries.recordAttempt({ ...base, outcome: 'delivered', nextAttemptAt: null }, { ...common, status: 'delivered', nextAttemptAt: null, finishedAt: ended });
        break;
      case 'retry':
        await this.store.deliveries.recordAttempt({ ...base, outcome: 'retry', nextAttemptAt: plan.at }, { ...common, status: 'pending', nextAttemptAt: plan.at, finishedAt: null });
        break;
      case 'give_up':
        await this.store.deliveries.recordAttempt({ ...base, outcome: 'failed', nextAttemptAt: null, error: result.error ?? plan.reason }, { ...common, lastError: plan.reason, status: 'failed', nextAttemptAt: null, finishedAt: ended });
        break;
      case 'disable':
        await this.store.deliveries.recordAttempt({ ...base, outcome: 'disabled', nextAttemptAt: null }, { ...common, lastError: plan.reason, status: 'failed', nextAttemptAt: null, finishedAt: ended }, { reason: plan.reason });
        break;
    }
    // Neither the URL nor the address is logged: either may carry a credential or personal data.
    const log = { deliveryId: d.id, jobId: d.jobId, channel: d.channel, attempt: n, status: result.status, outcome: plan.action };
    if (plan.action === 'done') this.opts.log.info(log, 'export delivered');
    else this.opts.log.warn(plan.action === 'retry' ? { ...log, nextAttemptAt: new Date(plan.at).toISOString() } : log, plan.action === 'retry' ? 'export delivery failed; will retry' : 'export delivery stopped');
  }
}
