/**
 * Scheduled exports as the native API shows them (spec/exports.md "Scheduled exports"): checking a
 * new schedule and its destination, the webhook secret shown once, pause/resume/delete, and the
 * runs with their deliveries and every attempt. The scheduler (scheduler.ts) makes the runs and the
 * outbox (src/delivery/outbox.ts) delivers them.
 */
import { newId } from '../auth/secrets.ts';
import { checkWebhookUrl } from '../delivery/address.ts';
import { checkEmailAddress, type Mailer } from '../delivery/email.ts';
import { destinationOf } from '../delivery/outbox.ts';
import { newWebhookSecret } from '../delivery/webhook.ts';
import { AppError } from '../errors.ts';
import type { DeliveryAttemptRow, DeliveryRow, ExportJobRow, Page, ScheduledKind, Store } from '../storage/types.ts';
import { delayMinutesOf } from './scheduler.ts';
import { parseSpec, type ExportService } from './service.ts';
import { firstWindow, SCHEDULED_KINDS, windowAt } from './windows.ts';
import { shown } from '../util/shown.ts';

const BODY_KEYS = ['frequency', 'delivery', 'delayMinutes', 'name', 'scope', 'types', 'format', 'fields', 'filters', 'gzip', 'zip', 'bom'];
const MAX_DELAY_MINUTES = 7 * 24 * 60;
const RECENT_RUNS = 20;

const bad = (msg: string) => new AppError('validation_failed', msg);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export interface ScheduleDeps {
  store: Store;
  exportService: ExportService;
  mailer: Mailer | null;
  allowPrivateWebhooks: boolean;
  now: () => number;
}

function attemptView(a: DeliveryAttemptRow) {
  return {
    deliveryId: a.deliveryId, runId: a.runId, attempt: a.n, at: iso(a.at)!, statusCode: a.statusCode, error: a.error,
    durationMs: a.durationMs, outcome: a.outcome, nextAttemptAt: iso(a.nextAttemptAt),
  };
}

function deliveryView(d: DeliveryRow, attempts: DeliveryAttemptRow[]) {
  return {
    id: d.id, channel: d.channel, status: d.status, attemptCount: d.attempts, lastError: d.lastError, nextAttemptAt: iso(d.nextAttemptAt),
    finishedAt: iso(d.finishedAt), attempts: attempts.filter((a) => a.deliveryId === d.id).map(attemptView),
  };
}

export class ScheduleService {
  constructor(private readonly deps: ScheduleDeps) {}

  /** Checks the body and its destination, stores the job; the answer holds the webhook secret, once. */
  async create(accountId: string, raw: unknown) {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad(`expected a JSON object with ${BODY_KEYS.join(', ')}`);
    const body = raw as Record<string, unknown>;
    const unknown = Object.keys(body).filter((k) => !BODY_KEYS.includes(k));
    if (unknown.length) throw bad(`${unknown[0]}: unknown field; accepted: ${BODY_KEYS.join(', ')}`);
    const kind = body.frequency as ScheduledKind;
    if (!SCHEDULED_KINDS.includes(kind)) {
      throw bad(`frequency: ${body.frequency === undefined ? 'required' : `${shown(body.frequency)} is not accepted`}; expected one of ${SCHEDULED_KINDS.join(', ')}`);
    }
    const d = body.delayMinutes;
    if (d !== undefined && (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > MAX_DELAY_MINUTES)) {
      throw bad(`delayMinutes: expected a whole number of minutes from 0 to ${MAX_DELAY_MINUTES} (how long after a period ends its export runs)`);
    }
    if (body.name !== undefined && (typeof body.name !== 'string' || body.name.length > 200)) throw bad('name: expected a text of at most 200 characters');
    const spec = parseSpec(body);
    const delivery = this.destination(body.delivery);
    const now = this.deps.now();
    const secret = 'webhook' in delivery ? newWebhookSecret() : null;
    const job: ExportJobRow = {
      id: newId('sch'), accountId, kind, state: 'active', createdAt: now,
      spec: { ...spec, delivery, delayMinutes: d ?? 0, ...(body.name !== undefined ? { name: body.name } : {}) } as unknown as Record<string, unknown>,
    };
    await this.deps.store.schedules.create(job, { secret, origin: now, disabledReason: null });
    return { ...this.view(job, null, null), ...(secret ? { secret } : {}) };
  }

  private destination(raw: unknown): { webhook: string } | { email: string } {
    const accepted = 'expected {"webhook": "https://…"} or {"email": "name@example.com"}';
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad(`delivery: ${raw === undefined ? 'required' : 'not an object'}; ${accepted}`);
    const keys = Object.keys(raw);
    if (keys.length !== 1 || (keys[0] !== 'webhook' && keys[0] !== 'email')) throw bad(`delivery: give exactly one destination; ${accepted}`);
    const value = (raw as Record<string, unknown>)[keys[0]!];
    if (keys[0] === 'webhook') {
      if (typeof value !== 'string') throw bad(`delivery.webhook: ${accepted}`);
      const check = checkWebhookUrl(value, { allowPrivate: this.deps.allowPrivateWebhooks });
      if (!check.ok) throw bad(`delivery.webhook: ${check.error}`);
      return { webhook: check.url.href };
    }
    const check = checkEmailAddress(value);
    if (!check.ok) throw bad(`delivery.email: ${check.error}`);
    if (!this.deps.mailer) {
      throw bad('delivery.email: this server has no outgoing mail configured (REELSTAT_SMTP_URL), so it cannot send exports by email; use a webhook instead, or ask the operator to set REELSTAT_SMTP_URL');
    }
    return { email: check.address };
  }

  /** The public shape of a schedule. */
  private view(job: ExportJobRow, disabledReason: string | null, nextRunAt: number | null) {
    const s = job.spec as Record<string, unknown>;
    const dest = destinationOf(s);
    return {
      id: job.id,
      name: typeof s.name === 'string' ? s.name : null,
      frequency: job.kind,
      state: job.state === 'paused' && disabledReason ? 'disabled' : job.state,
      disabledReason,
      createdAt: iso(job.createdAt)!,
      delayMinutes: delayMinutesOf(s),
      scope: s.scope, format: s.format, types: s.types, fields: s.fields, filters: s.filters, gzip: s.gzip === true, zip: s.zip === true, bom: s.bom === true,
      delivery: dest ? { [dest.channel]: dest.target } : null,
      dialect: typeof s.dialect === 'string' ? s.dialect : null,
      ...(nextRunAt !== null ? { nextRunAt: iso(nextRunAt) } : {}),
    };
  }

  private async job(accountId: string, id: string): Promise<ExportJobRow> {
    const job = await this.deps.store.jobs.getJob(accountId, id);
    if (!job || job.kind === 'once') throw new AppError('not_found', `No scheduled export ${shown(id)} in this account.`);
    return job;
  }

  async list(accountId: string, page: Page) {
    const jobs = await this.deps.store.jobs.listJobs(accountId, 'scheduled', page);
    return Promise.all(jobs.map(async (j) => this.view(j, (await this.deps.store.schedules.settings(j.id))?.disabledReason ?? null, null)));
  }

  /** A schedule with its recent runs, each with its delivery and every attempt of it. */
  async get(accountId: string, id: string) {
    const job = await this.job(accountId, id);
    const settings = await this.deps.store.schedules.settings(id);
    const runs = await this.deps.store.jobs.runsOf(accountId, id);
    const kind = job.kind as ScheduledKind;
    const origin = settings?.origin ?? job.createdAt;
    let next = firstWindow(kind, origin, delayMinutesOf(job.spec) * 60_000);
    if (runs.length && runs[0]!.periodFrom >= next.from) next = windowAt(kind, windowAt(kind, runs[0]!.periodFrom).to);
    const recent = runs.slice(0, RECENT_RUNS);
    const deliveries = await this.deps.store.deliveries.ofRuns(accountId, recent.map((r) => r.id));
    const attempts = await this.deps.store.deliveries.attempts(accountId, { deliveryIds: deliveries.map((d) => d.id) }, { limit: 10_000, offset: 0 });
    return {
      ...this.view(job, settings?.disabledReason ?? null, job.state === 'active' ? next.to + delayMinutesOf(job.spec) * 60_000 : null),
      runs: recent.map((r) => {
        const d = deliveries.find((x) => x.runId === r.id);
        return { id: r.id, createdAt: iso(r.createdAt)!, ...this.deps.exportService.viewRun(r), delivery: d ? deliveryView(d, attempts) : null };
      }),
    };
  }

  async pause(accountId: string, id: string) {
    if (!(await this.deps.store.schedules.pause(accountId, id))) throw new AppError('not_found', `No scheduled export ${shown(id)} in this account.`);
    return this.get(accountId, id);
  }

  /** Windows that ended while paused are skipped: the first run is for the window holding now. */
  async resume(accountId: string, id: string) {
    if (!(await this.deps.store.schedules.resume(accountId, id, this.deps.now()))) throw new AppError('not_found', `No scheduled export ${shown(id)} in this account.`);
    return this.get(accountId, id);
  }

  async remove(accountId: string, id: string): Promise<void> {
    if (!(await this.deps.store.schedules.remove(accountId, id, this.deps.now()))) throw new AppError('not_found', `No scheduled export ${shown(id)} in this account.`);
  }

  /** Every delivery attempt of a schedule, newest first. */
  async attempts(accountId: string, id: string, page: Page) {
    await this.job(accountId, id);
    return (await this.deps.store.deliveries.attempts(accountId, { jobId: id }, page)).map(attemptView);
  }
}
