/**
 * Export jobs and their runs: validation of a request, the queue of runs (oldest first, up to
 * `workers` at once: see drain), retries from scratch, and the view of a job with its signed file links.
 */
import { newId } from '../auth/secrets.ts';
import { FOLDER_ACCEPTED, FOLDER_PATH } from '../catalog/folders.ts';
import { deliveryFor } from '../delivery/outbox.ts';
import { AppError } from '../errors.ts';
import { EVENT_CATEGORIES, type EventCategory } from '../events/types.ts';
import type { Logger } from '../logger.ts';
import { addDays, isRealDate, localDate } from '../metrics/period.ts';
import type { ExportJobRow, ExportRunRow, ExportSource, RecordFilters, Store } from '../storage/types.ts';
import { FieldError, resolveFields, SCOPES, type ExportScope, type FieldSelection } from './fields.ts';
import type { LinkSigner } from './links.ts';
import { rm } from 'node:fs/promises';
import { MANIFEST, runDir, sweepTemp, writeRun, type ExportFormat } from './run.ts';
import { videoTable } from './videos.ts';
import type { StatsService } from '../metrics/stats.ts';
import { PolledWorker } from '../util/loop.ts';
import { shown } from '../util/shown.ts';

const DAY = 86_400_000;
const FORMATS: ExportFormat[] = ['csv', 'jsonl', 'json', 'parquet', 'xlsx'];
const FILTER_KEYS = ['contentId', 'projectId', 'folder', 'userId', 'sessionId', 'deviceType', 'country', 'deviceLabel'] as const;
/** Values of the deviceLabel filter (Contentsquare's): `all` is no filter; the others match `platform` (mobile = smartphone). */
export const DEVICE_LABELS = ['all', 'desktop', 'mobile', 'tablet'] as const;
const MAX_ATTEMPTS = 3;

export interface ExportSpec {
  scope: ExportScope;
  format: ExportFormat;
  types: EventCategory[];
  fields: FieldSelection[];
  filters: Partial<Record<(typeof FILTER_KEYS)[number], string>>;
  gzip: boolean;
  zip: boolean;
  /** CSV: each file starts with a UTF-8 byte order mark, so that Excel reads it as UTF-8 (absent in specs stored before it). */
  bom?: boolean;
  /** A per-viewer export (POST /api/v1/users/{userId}/export): the userId whose data it holds. */
  viewer?: string;
}

/** The keys of an on-demand export's body (POST /api/v1/exports). */
const ON_DEMAND_KEYS = ['startDate', 'endDate', 'scope', 'types', 'format', 'fields', 'filters', 'gzip', 'zip', 'bom'];
/** What a per-viewer export does not take (its period, scope and filters are the viewer's), and what it takes. */
const VIEWER_FIXED = ['scope', 'filters', 'startDate', 'endDate'];
const VIEWER_EXPORT_KEYS = ON_DEMAND_KEYS.filter((k) => !VIEWER_FIXED.includes(k));

/** Everything, for a per-viewer export: its events whenever they happened. */
const ALL_TIME = { fromMs: 0, toMs: Date.UTC(9999, 0, 1) };

const bad = (msg: string) => new AppError('validation_failed', msg);

/** Checks the shared parts of an export request (scope, format, types, fields, filters). */
export function parseSpec(body: Record<string, unknown>): ExportSpec {
  const scope = (body.scope ?? 'events') as ExportScope;
  if (!SCOPES.includes(scope)) throw bad(`scope: ${shown(body.scope)} is not accepted; expected one of ${SCOPES.join(', ')}`);
  const format = (body.format ?? 'jsonl') as ExportFormat;
  if (!FORMATS.includes(format)) throw bad(`format: ${shown(body.format)} is not accepted; expected one of ${FORMATS.join(', ')}`);
  // Accepted and ignored outside the events scope, a client believed it had filtered (gzip and bom are refused so too).
  if (body.types !== undefined && scope !== 'events') throw bad(`types: chooses raw events by category, in the events scope only; leave it out for scope ${scope}`);
  const types = (body.types ?? Object.keys(EVENT_CATEGORIES)) as EventCategory[];
  if (!Array.isArray(types) || types.length === 0 || types.some((t) => typeof t !== 'string' || !Object.hasOwn(EVENT_CATEGORIES, t))) {
    throw bad(`types: expected a non-empty list of ${Object.keys(EVENT_CATEGORIES).join(', ')}`);
  }
  const rawFields = body.fields ?? [];
  if (!Array.isArray(rawFields)) throw bad('fields: expected a list of field names or {"fieldName", "aliasName"} objects');
  const fields = rawFields.map((f, i): FieldSelection => {
    if (typeof f === 'string') return { fieldName: f };
    if (f && typeof f === 'object' && typeof (f as FieldSelection).fieldName === 'string') {
      // A misspelt key ("alias") was dropped, and the column kept its name.
      const extra = Object.keys(f).find((k) => k !== 'fieldName' && k !== 'aliasName');
      if (extra !== undefined) throw bad(`fields[${i}]: ${shown(extra, 40)} is not a key of a field; a field takes fieldName and aliasName`);
      const a = (f as FieldSelection).aliasName;
      if (a !== undefined && typeof a !== 'string') throw bad(`fields[${i}].aliasName: expected a string`);
      return { fieldName: (f as FieldSelection).fieldName, aliasName: a };
    }
    throw bad(`fields[${i}]: expected a field name or {"fieldName", "aliasName"}`);
  });
  try {
    resolveFields(scope, fields);
  } catch (err) {
    if (err instanceof FieldError) throw bad(err.message);
    throw err;
  }
  const filters: ExportSpec['filters'] = {};
  const rawFilters = (body.filters ?? {}) as Record<string, unknown>;
  if (typeof rawFilters !== 'object' || Array.isArray(rawFilters)) throw bad(`filters: expected an object with any of ${FILTER_KEYS.join(', ')}`);
  for (const [k, v] of Object.entries(rawFilters)) {
    if (!(FILTER_KEYS as readonly string[]).includes(k)) throw bad(`filters.${k}: unknown filter; accepted: ${FILTER_KEYS.join(', ')}`);
    if (typeof v !== 'string' || v === '' || v.length > 1024) throw bad(`filters.${k}: expected a non-empty string`);
    if (k === 'deviceLabel' && !(DEVICE_LABELS as readonly string[]).includes(v)) throw bad(`filters.deviceLabel: ${shown(v)} is not accepted; expected one of ${DEVICE_LABELS.join(', ')}`);
    // The catalog's folders have this form (catalog/routes.ts): another could never match, and the export came out empty.
    if (k === 'folder' && !FOLDER_PATH.test(v)) throw bad(`filters.folder: ${shown(v)} is not a folder path; ${FOLDER_ACCEPTED}`);
    filters[k as (typeof FILTER_KEYS)[number]] = v;
  }
  for (const k of ['gzip', 'zip', 'bom'] as const) if (body[k] !== undefined && typeof body[k] !== 'boolean') throw bad(`${k}: expected true or false`);
  if (body.gzip && body.zip) throw bad('gzip and zip: choose one — gzip compresses each file, zip puts the files in one archive');
  if (body.gzip && (format === 'xlsx' || format === 'parquet')) throw bad(`gzip: ${format === 'xlsx' ? 'an XLSX file is compressed already' : 'a Parquet file is compressed already (zstd)'}; leave gzip out (zip may bundle the parts)`);
  if (body.bom && format !== 'csv') throw bad(`bom: a byte order mark applies to CSV only (it tells Excel the file is UTF-8); leave it out for ${format}`);
  return { scope, format, types, fields, filters, gzip: body.gzip === true, zip: body.zip === true, bom: body.bom === true };
}

function source(accountId: string, spec: ExportSpec, fromMs: number, toMs: number): ExportSource {
  const f = spec.filters;
  const filters: RecordFilters = { projectId: f.projectId, folder: f.folder, userId: f.userId, sessionId: f.sessionId, deviceType: f.deviceType, country: f.country };
  if (f.deviceLabel && f.deviceLabel !== 'all') filters.deviceLabel = f.deviceLabel as RecordFilters['deviceLabel'];
  if (f.contentId) filters.contentIds = [f.contentId];
  if (spec.viewer !== undefined) filters.attributedTo = spec.viewer;
  return {
    scope: spec.scope as ExportSource['scope'], accountId, fromMs, toMs, types: spec.types, filters,
    fields: resolveFields(spec.scope, spec.fields).map((x) => ({ name: x.def.name, as: x.as })),
    neutralize: spec.format === 'csv',
    bom: spec.format === 'csv' && spec.bom === true,
  };
}

export class ExportService extends PolledWorker {
  constructor(
    private readonly store: Store,
    private readonly signer: LinkSigner,
    private readonly opts: {
      dir: string; partRows: number; maxOnDemandDays: number; log: Logger;
      /** The most bytes a part's file may hold (REELSTAT_EXPORT_PART_BYTES); unset: no limit. */
      partBytes?: number | null;
      /** Runs written at once (config exports.workers; default 1). */
      workers?: number; now: () => number; settle: () => Promise<void>; stats?: StatsService; onDelivery?: () => void;
      /** The profile of a per-viewer export (src/privacy). */
      viewerProfile?: (accountId: string, userId: string) => Promise<unknown>;
    },
  ) {
    // The store may be unusable for a while (disk full, invalidated): the loop logs and retries.
    super({ everyMs: 500, log: opts.log, failure: 'export queue could not be read; will retry' });
  }

  async start(): Promise<void> {
    await sweepTemp(this.opts.dir);
    const n = await this.store.jobs.requeueRunning();
    if (n) this.opts.log.warn({ runs: n }, 'export runs interrupted by a stop are run again from scratch');
    void this.loop.start();
  }

  private holds = 0;
  /** The runs being written, each ending by taking itself out and kicking the queue. */
  private readonly running = new Set<Promise<void>>();
  /** Runs that ended without their end being recorded (the store failed): still `running` in the store, holding their lane. */
  private readonly unrecorded = new Set<string>();
  /** Runs ended so far: a round that found nothing to start looks again if one ended meanwhile. */
  private ended = 0;

  /**
   * Starts pending runs, oldest first, while a worker is free. A run of a once job (on-demand,
   * Contentsquare's `once`, per-viewer) starts at once unless another once run of its account is
   * running (it queues behind it); scheduled runs take one worker at most (JobRepo.claimRun), so
   * that with two workers or more a scheduled run never holds an on-demand one back.
   */
  protected async drain(): Promise<void> {
    // A run whose end the store could not record goes back to the queue (from scratch), freeing its lane.
    for (const id of this.unrecorded) {
      await this.store.jobs.failRun(id, 'the end of the run could not be recorded; run again', this.opts.now(), true);
      this.unrecorded.delete(id);
    }
    while (!this.loop.stopped && this.holds === 0 && this.running.size < (this.opts.workers ?? 1)) {
      const ended = this.ended;
      const run = await this.store.jobs.claimRun();
      if (!run) {
        if (this.ended !== ended) continue; // a run ended while this one looked: its lane may be free
        return;
      }
      const going: Promise<void> = this.execute(run)
        // execute fails a run itself; this is a store that could not record it.
        .catch((err: unknown) => {
          this.unrecorded.add(run.id);
          this.opts.log.error({ err, runId: run.id }, 'export run could not be recorded; it will be run again');
        })
        .finally(() => {
          this.running.delete(going);
          this.ended++;
          this.kick();
        });
      this.running.add(going);
    }
  }

  /** Resolves once no round is claiming runs and no run is being written. */
  private async settled(): Promise<void> {
    await this.loop.idle();
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  /** Stops the queue and waits for the runs being written. */
  override async stop(): Promise<void> {
    await super.stop();
    await this.settled();
  }

  /**
   * Runs fn with no export run being written meanwhile (an erasure must not race a run that read the
   * viewer's rows before they were deleted). Runs waiting stay queued and start afterwards.
   */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    this.holds++;
    try {
      await this.settled();
      return await fn();
    } finally {
      this.holds--;
      if (this.holds === 0) this.kick();
    }
  }

  private async execute(run: ExportRunRow): Promise<void> {
    const job = await this.store.jobs.getJob(run.accountId, run.jobId);
    if (!job) {
      await this.store.jobs.failRun(run.id, 'the export job was deleted', this.opts.now(), false);
      return;
    }
    const spec = job.spec as unknown as ExportSpec;
    try {
      if (spec.scope === 'views' || spec.scope === 'sessions') await this.opts.settle();
      const table = spec.scope === 'videos' ? (staged: string) => this.videoRows(run.accountId, spec, run.periodFrom, run.periodTo, staged) : undefined;
      const extras = spec.viewer === undefined ? undefined : [{ name: 'profile.json', content: JSON.stringify(await this.viewerProfile(run.accountId, spec.viewer), null, 2) + '\n' }];
      const out = await writeRun(this.store, this.opts.dir, {
        runId: run.id, source: source(run.accountId, spec, run.periodFrom, run.periodTo), format: spec.format, gzip: spec.gzip, zip: spec.zip,
        partRows: this.opts.partRows, partBytes: this.opts.partBytes ?? null, period: { from: new Date(run.periodFrom).toISOString(), to: new Date(run.periodTo).toISOString() }, extras,
      }, table);
      const now = this.opts.now();
      // Files are kept as long as the account's export file retention, and links live no longer.
      const expiresAt = this.signer.expiryOf(now, (await this.store.accounts.get(run.accountId))?.exportFileRetentionDays);
      // A scheduled job with a destination gets its delivery in the same transaction (src/delivery/outbox.ts).
      const delivery = deliveryFor(job, run, now);
      await this.store.jobs.finishRun(run.id, { ...out, finishedAt: now, expiresAt }, delivery);
      if (delivery) this.opts.onDelivery?.();
    } catch (err) {
      const retry = run.attempts < MAX_ATTEMPTS;
      this.opts.log.error({ err, runId: run.id, attempt: run.attempts }, retry ? 'export run failed; retrying from scratch' : 'export run failed');
      await this.store.jobs.failRun(run.id, (err as Error).message, this.opts.now(), retry);
    }
  }

  private viewerProfile(accountId: string, userId: string): Promise<unknown> {
    if (!this.opts.viewerProfile) throw new Error('per-viewer exports need the privacy service');
    return this.opts.viewerProfile(accountId, userId);
  }

  /** POST /api/v1/users/{userId}/export: the viewer's profile and every event attributed to them, as one run. */
  async createViewerExport(accountId: string, userId: string, body: Record<string, unknown>): Promise<{ id: string; status: 'pending' }> {
    for (const k of VIEWER_FIXED) if (body[k] !== undefined) throw bad(`${k}: a per-viewer export holds all of the viewer's events; leave ${k} out`);
    const unknown = Object.keys(body).find((k) => !VIEWER_EXPORT_KEYS.includes(k));
    if (unknown !== undefined) throw bad(`${shown(unknown, 40)}: unknown parameter; accepted: ${VIEWER_EXPORT_KEYS.join(', ')}`);
    const spec: ExportSpec = { ...parseSpec({ ...body, scope: 'events' }), viewer: userId };
    const { job } = await this.createJob(accountId, 'once', spec, ALL_TIME);
    return { id: job.id, status: 'pending' };
  }

  /** Deletes the files of runs (their rows say why: see PrivacyRepo.removeRunFiles / the sweeper). */
  async deleteFiles(runIds: string[]): Promise<void> {
    for (const id of runIds) await rm(runDir(this.opts.dir, id), { recursive: true, force: true });
  }

  /** The `videos` scope: catalog entries (folder, project, content filters) with their metrics from StatsService. */
  private async videoRows(accountId: string, spec: ExportSpec, fromMs: number, toMs: number, staged: string) {
    if (!this.opts.stats) throw new Error('the videos scope needs the stats service');
    const f = spec.filters;
    return videoTable(this.opts.stats, this.store, {
      accountId, fromMs, toMs, tz: 'UTC',
      items: { folders: f.folder === undefined ? undefined : [f.folder], projectId: f.projectId, contentIds: f.contentId === undefined ? undefined : [f.contentId] },
      filters: {
        userId: f.userId, sessionId: f.sessionId, deviceType: f.deviceType, country: f.country,
        ...(f.deviceLabel && f.deviceLabel !== 'all' ? { deviceLabel: f.deviceLabel as RecordFilters['deviceLabel'] } : {}),
      },
      fields: resolveFields(spec.scope, spec.fields).map((x) => ({ name: x.def.name, as: x.as })),
    }, staged);
  }

  /**
   * Stores a job made by a dialect (its spec checked by the caller: an ExportSpec plus the dialect's
   * own keys). A `once` job gets its run for [once.fromMs, once.toMs) at once, queued behind the runs
   * already waiting; hourly/daily/weekly jobs get their runs from the scheduler.
   */
  async createJob(accountId: string, kind: ExportJobRow['kind'], spec: ExportSpec, once?: { fromMs: number; toMs: number }): Promise<{ job: ExportJobRow; run: ExportRunRow | null }> {
    resolveFields(spec.scope, spec.fields);
    const now = this.opts.now();
    const job: ExportJobRow = { id: newId('exp'), accountId, kind, spec: spec as unknown as Record<string, unknown>, state: 'active', createdAt: now };
    const run: ExportRunRow | null = kind === 'once' && once
      ? { id: newId('run'), jobId: job.id, accountId, periodFrom: once.fromMs, periodTo: once.toMs, status: 'pending', attempts: 0, rows: null, files: null, error: null, createdAt: now, finishedAt: null, expiresAt: null }
      : null;
    await this.store.jobs.createJob(job, run);
    if (run) this.kick();
    return { job, run };
  }

  /** POST /api/v1/exports: a window of whole UTC days, at most 30 days, not before the raw retention. */
  async createOnDemand(accountId: string, body: Record<string, unknown>, rawRetentionDays: number): Promise<{ id: string; status: 'pending' }> {
    const unknown = Object.keys(body).find((k) => !ON_DEMAND_KEYS.includes(k));
    if (unknown !== undefined) throw bad(`${shown(unknown, 40)}: unknown parameter; accepted: ${ON_DEMAND_KEYS.join(', ')}`);
    const spec = parseSpec(body);
    const { startDate, endDate } = body as { startDate?: unknown; endDate?: unknown };
    const date = (name: string, v: unknown) => `${name}: ${v === undefined ? 'required, ' : `${shown(v)} is not `}a date YYYY-MM-DD (UTC)`;
    if (typeof startDate !== 'string' || !isRealDate(startDate)) throw bad(date('startDate', startDate));
    if (typeof endDate !== 'string' || !isRealDate(endDate)) throw bad(date('endDate', endDate));
    if (endDate < startDate) throw bad('endDate: must not be before startDate');
    const today = localDate(this.opts.now(), 'UTC');
    if (startDate > today) throw bad(`startDate: ${startDate} has not begun; the latest date accepted is today, ${today} (UTC)`);
    if (endDate > addDays(startDate, this.opts.maxOnDemandDays)) throw bad(`endDate: at most ${this.opts.maxOnDemandDays} days from startDate; split longer periods into several exports`);
    // A day after today would be reported as exported (the run's period) while it holds nothing yet.
    if (endDate > today) throw bad(`endDate: ${endDate} has not begun; the latest date accepted is today, ${today} (UTC), whose export holds what has arrived when it runs`);
    // The first day whose every event is still kept: the sweeper deletes raw events older than now - rawDays.
    const oldest = localDate(Math.ceil((this.opts.now() - rawRetentionDays * DAY) / DAY) * DAY, 'UTC');
    if (startDate < oldest) throw bad(`startDate: raw events are kept ${rawRetentionDays} days; the earliest date accepted is ${oldest}`);
    const now = this.opts.now();
    const job: ExportJobRow = { id: newId('exp'), accountId, kind: 'once', spec: spec as unknown as Record<string, unknown>, state: 'active', createdAt: now };
    const fromMs = Date.parse(`${startDate}T00:00:00Z`);
    const toMs = Date.parse(`${endDate}T00:00:00Z`) + DAY;
    await this.store.jobs.createJob(job, {
      id: newId('run'), jobId: job.id, accountId, periodFrom: fromMs, periodTo: toMs, status: 'pending', attempts: 0, rows: null, files: null,
      error: null, createdAt: now, finishedAt: null, expiresAt: null,
    });
    this.kick();
    return { id: job.id, status: 'pending' };
  }

  /** The public shape of a run: state, counts and signed links. */
  viewRun(run: ExportRunRow) {
    const removed = run.filesRemoved ?? null;
    const expired = run.status === 'completed' && ((run.expiresAt !== null && run.expiresAt <= this.opts.now()) || removed !== null);
    const live = run.status === 'completed' && !expired;
    return {
      status: expired ? 'expired' : run.status,
      rows: run.rows,
      period: { from: new Date(run.periodFrom).toISOString(), to: new Date(run.periodTo).toISOString() },
      files: live
        ? (run.files ?? []).map((f) => ({
          name: f.name, url: this.signer.sign(`/downloads/${run.id}/${f.name}`, run.expiresAt!), size: f.size, rows: f.rows, sha256: f.sha256,
          expiresAt: new Date(run.expiresAt!).toISOString(), ...(f.parts ? { parts: f.parts } : {}),
        }))
        : [],
      // manifest.json, beside the parts (and inside a ZIP): rows, size and SHA-256 of every part.
      manifest: live && run.files?.length ? this.signer.sign(`/downloads/${run.id}/${MANIFEST}`, run.expiresAt!) : null,
      error: run.status === 'failed' ? run.error : null,
      filesRemoved: removed,
      attempts: run.attempts,
    };
  }

  async get(accountId: string, id: string) {
    const job = await this.store.jobs.getJob(accountId, id);
    if (!job) throw new AppError('not_found', `No export ${shown(id)} in this account.`);
    // A scheduled export's runs are read through /api/v1/scheduled-exports (or the Contentsquare dialect).
    if (job.kind !== 'once') throw new AppError('not_found', `${shown(id)} is a scheduled export, not an on-demand one: GET /api/v1/scheduled-exports/{id}.`);
    const [run] = await this.store.jobs.runsOf(accountId, id); // made with its job (createJob)
    const scope = job.spec.viewer !== undefined ? 'viewer' : job.spec.scope;
    const dialect = typeof job.spec.dialect === 'string' ? job.spec.dialect : null;
    return { id: job.id, createdAt: new Date(job.createdAt).toISOString(), scope, format: job.spec.format, dialect, ...this.viewRun(run!) };
  }

  async list(accountId: string, page: { limit: number; offset: number }) {
    const jobs = await this.store.jobs.listJobs(accountId, 'once', page);
    return Promise.all(jobs.map((j) => this.get(accountId, j.id)));
  }

  /** The file behind a verified link, if its run still has it. */
  async filePath(runId: string, name: string): Promise<string | null> {
    const run = await this.store.jobs.getRun(runId);
    if (!run || run.status !== 'completed' || run.filesRemoved || !(run.files ?? []).some((f) => f.name === name || (name === MANIFEST && f.name !== MANIFEST))) return null;
    return `${runDir(this.opts.dir, runId)}/${name}`;
  }
}
