/**
 * Reports (spec/exports.md "Reports", Kinescope's "Export report"): a request is checked and stored,
 * then built in the background — one row a catalog entry of the chosen folders (nested folders
 * included, entries without views with zeros), metrics from StatsService — as one CSV or XLSX file
 * in a ZIP, written under a temporary name and renamed into place. When it is ready, one email with
 * a signed link goes to the address given.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ZipFile } from '../util/zip.ts';
import { newId } from '../auth/secrets.ts';
import { checkEmailAddress, type Mailer } from '../delivery/email.ts';
import { FOLDER_ACCEPTED, FOLDER_PATH } from '../catalog/folders.ts';
import { AppError } from '../errors.ts';
import { REPORT_FIELDS } from '../exports/fields.ts';
import { writeTable } from '../exports/formats/table.ts';
import type { LinkSigner } from '../exports/links.ts';
import { stagedRows, videoTable } from '../exports/videos.ts';
import type { Logger } from '../logger.ts';
import { isValidTimeZone } from '../metrics/period.ts';
import type { StatsService } from '../metrics/stats.ts';
import type { ExportFile, ReportRow, Store } from '../storage/types.ts';
import { PolledWorker } from '../util/loop.ts';
import { PRESETS, ReportPeriodError, reportPeriod, type Preset } from './period.ts';
import { sha256File } from '../util/sha256.ts';
import { shown } from '../util/shown.ts';

export const REPORT_FORMATS = ['csv', 'xlsx'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
const KEYS = ['period', 'from', 'to', 'tz', 'folders', 'fields', 'format', 'bom', 'email'];
const MAX_FOLDERS = 100;
const MAX_ATTEMPTS = 3;
const EMAIL_TRIES = 3;

export interface ReportSpec {
  period: Preset;
  from: string | null;
  to: string | null;
  tz: string;
  folders: string[];
  fields: string[];
  format: ReportFormat;
  /** CSV: the file starts with a UTF-8 byte order mark, for Excel (absent in reports made before it). */
  bom?: boolean;
}

const bad = (msg: string) => new AppError('validation_failed', msg);
const list = (xs: readonly string[]) => xs.join(', ');

export interface ReportServiceOptions {
  /** Where finished reports live: DIR/<id>/<zip>. */
  dir: string;
  log: Logger;
  now: () => number;
  /** Pause between email attempts (ms). */
  emailRetryMs?: number;
}

export class ReportService extends PolledWorker {
  constructor(
    private readonly store: Store,
    private readonly stats: StatsService,
    private readonly signer: LinkSigner,
    private readonly mailer: Mailer | null,
    private readonly opts: ReportServiceOptions,
  ) {
    super({ everyMs: 500, log: opts.log, failure: 'report loop failed' });
  }

  async start(): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true });
    for (const n of await readdir(this.opts.dir)) if (n.startsWith('.tmp-')) await rm(join(this.opts.dir, n), { recursive: true, force: true });
    const n = await this.store.reports.requeueRunning();
    if (n) this.opts.log.warn({ reports: n }, 'reports interrupted by a stop are built again from scratch');
    void this.loop.start();
  }

  protected async drain(): Promise<void> {
    for (let r = await this.store.reports.claim(); r && !this.loop.stopped; r = await this.store.reports.claim()) await this.build(r);
    // Emails of reports finished before a stop, or whose sending failed for a moment.
    for (const r of await this.store.reports.pendingEmails()) {
      if (this.loop.stopped) return;
      await this.email(r);
    }
  }

  /** Checks a POST /api/v1/reports body; returns the spec, the period bounds and the email. */
  async parse(accountId: string, body: unknown): Promise<{ spec: ReportSpec; fromMs: number; toMs: number; email: string | null }> {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad(`the body must be a JSON object with ${list(KEYS)}`);
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) if (!KEYS.includes(k)) throw bad(`${k}: unknown parameter; accepted: ${list(KEYS)}`);
    const preset = b.period as Preset;
    if (typeof preset !== 'string' || !PRESETS.includes(preset)) throw bad(`period: ${b.period === undefined ? 'required' : `${shown(b.period)} is not accepted`}; expected one of ${list(PRESETS)}`);
    if (preset !== 'custom' && (b.from !== undefined || b.to !== undefined)) throw bad(`from and to: only with period custom; period ${preset} sets its own dates`);
    const tz = b.tz ?? 'UTC';
    if (typeof tz !== 'string' || !isValidTimeZone(tz)) throw bad(`tz: ${shown(tz)} is not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)`);
    if (preset === 'custom') {
      if (b.from === undefined || b.to === undefined) throw bad('from and to: both required with period custom, dates YYYY-MM-DD (both included)');
      if (typeof b.from !== 'string') throw bad('from: expected a date YYYY-MM-DD');
      if (typeof b.to !== 'string') throw bad('to: expected a date YYYY-MM-DD');
    }
    let period;
    try {
      period = reportPeriod(preset, this.opts.now(), tz, preset === 'custom' ? { from: b.from as string, to: b.to as string } : undefined);
    } catch (err) {
      if (err instanceof ReportPeriodError) throw bad(err.message);
      throw err;
    }

    const folders = b.folders ?? [];
    if (!Array.isArray(folders)) throw bad('folders: expected a list of folder paths like ["folder1", "folder1/folder2"]');
    if (folders.length > MAX_FOLDERS) throw bad(`folders: at most ${MAX_FOLDERS}; a folder includes the folders nested in it`);
    const known = folders.length ? await this.store.reports.folders(accountId) : [];
    folders.forEach((f, i) => {
      if (typeof f !== 'string' || f.length === 0 || f.length > 1024 || !FOLDER_PATH.test(f)) {
        throw bad(`folders[${i}]: ${shown(f)} is not a folder path; ${FOLDER_ACCEPTED}`);
      }
      if (!known.some((k) => k === f || k.startsWith(f + '/'))) throw bad(`folders[${i}]: no content in this account is in folder ${shown(f)} or a folder nested in it`);
    });

    const fields = b.fields ?? REPORT_FIELDS;
    if (!Array.isArray(fields) || fields.length === 0) throw bad(`fields: expected a non-empty list of ${list(REPORT_FIELDS)}`);
    const seen = new Set<string>();
    fields.forEach((f, i) => {
      if (typeof f !== 'string' || !REPORT_FIELDS.includes(f)) throw bad(`fields[${i}]: unknown field ${shown(f)}; accepted: ${list(REPORT_FIELDS)}`);
      if (seen.has(f)) throw bad(`fields[${i}]: field ${shown(f)} is selected twice`);
      seen.add(f);
    });

    const format = (b.format ?? 'csv') as ReportFormat;
    if (!REPORT_FORMATS.includes(format)) throw bad(`format: ${shown(b.format)} is not accepted; expected csv or xlsx`);
    if (b.bom !== undefined && typeof b.bom !== 'boolean') throw bad('bom: expected true or false');
    if (b.bom && format !== 'csv') throw bad(`bom: a byte order mark applies to CSV only (it tells Excel the file is UTF-8); leave it out for ${format}`);

    let email: string | null = null;
    if (b.email !== undefined && b.email !== null) {
      const c = checkEmailAddress(b.email);
      if (!c.ok) throw bad(`email: ${c.error}`);
      if (!this.mailer) throw bad('email: this server sends no email (REELSTAT_SMTP_URL is not set); leave email out and fetch the link with GET /api/v1/reports/{id}');
      email = c.address;
    }
    const spec: ReportSpec = { period: preset, from: period.from, to: period.to, tz, folders: [...new Set(folders as string[])], fields: fields as string[], format, bom: b.bom === true };
    return { spec, fromMs: period.fromMs, toMs: period.toMs, email };
  }

  async create(accountId: string, body: unknown): Promise<{ id: string; status: 'pending' }> {
    const { spec, fromMs, toMs, email } = await this.parse(accountId, body);
    const row: ReportRow = {
      id: newId('rep'), accountId, spec: spec as unknown as Record<string, unknown>, status: 'pending', attempts: 0, periodFrom: fromMs, periodTo: toMs,
      rows: null, file: null, error: null, email, emailStatus: 'none', emailError: null, createdAt: this.opts.now(), finishedAt: null, expiresAt: null,
    };
    await this.store.reports.create(row);
    this.kick();
    return { id: row.id, status: 'pending' };
  }

  private async build(r: ReportRow): Promise<void> {
    const spec = r.spec as unknown as ReportSpec;
    const tmp = join(this.opts.dir, `.tmp-${r.id}`);
    try {
      await rm(tmp, { recursive: true, force: true });
      await mkdir(tmp, { recursive: true });
      const { columns, rows, path } = await videoTable(this.stats, this.store, {
        accountId: r.accountId, fromMs: r.periodFrom, toMs: r.periodTo, tz: spec.tz,
        items: { folders: spec.folders.length ? spec.folders : undefined }, filters: {},
        fields: spec.fields.map((name) => ({ name, as: name })),
      }, join(tmp, '.rows.jsonl'));
      const inner = `report-${spec.from ?? 'all-time'}${spec.to && spec.to !== spec.from ? `-to-${spec.to}` : ''}.${spec.format}`;
      await writeTable(join(tmp, inner), spec.format, columns, (async function* () {
        for await (const { row } of stagedRows(path)) yield row;
      })(), { bom: spec.bom === true });
      await rm(path);
      const name = `report-${r.id}.zip`;
      const zip = new ZipFile();
      zip.addFile(join(tmp, inner), inner);
      zip.end();
      await new Promise<void>((resolve, reject) => {
        zip.outputStream.on('error', reject);
        zip.outputStream.pipe(createWriteStream(join(tmp, name))).on('close', resolve).on('error', reject);
      });
      await rm(join(tmp, inner));
      const file: ExportFile = { name, rows, size: (await stat(join(tmp, name))).size, sha256: await sha256File(join(tmp, name)) };
      const final = join(this.opts.dir, r.id);
      await rm(final, { recursive: true, force: true });
      await rename(tmp, final);
      const now = this.opts.now();
      // The file is kept as long as the account's export file retention, and its link lives no longer.
      const expiresAt = this.signer.expiryOf(now, (await this.store.accounts.get(r.accountId))?.exportFileRetentionDays);
      await this.store.reports.finish(r.id, { rows, file, finishedAt: now, expiresAt, emailStatus: r.email ? 'pending' : 'none' });
      if (r.email) await this.email({ ...r, status: 'completed', rows, file, finishedAt: now, expiresAt, emailStatus: 'pending' });
    } catch (err) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      const retry = r.attempts < MAX_ATTEMPTS;
      this.opts.log.error({ err, reportId: r.id, attempt: r.attempts }, retry ? 'report failed; building it again' : 'report failed');
      await this.store.reports.fail(r.id, (err as Error).message, this.opts.now(), retry);
    }
  }

  /** The one email of a report: its signed link. Tried a few times; the outcome is kept on the report. */
  private async email(r: ReportRow): Promise<void> {
    if (!r.email || !r.file || r.expiresAt === null) return;
    if (!this.mailer) {
      await this.store.reports.setEmailStatus(r.id, 'failed', 'no SMTP server is configured (REELSTAT_SMTP_URL)');
      return;
    }
    const spec = r.spec as unknown as ReportSpec;
    let error = '';
    for (let i = 0; i < EMAIL_TRIES && !this.loop.stopped; i++) {
      if (i) await new Promise((res) => setTimeout(res, (this.opts.emailRetryMs ?? 2000) * i));
      try {
        await this.mailer.sendExportEmail({
          to: r.email,
          subject: `Your Reelstat report (${spec.from ? `${spec.from} to ${spec.to}` : 'all time'}) is ready`,
          links: [{ name: r.file.name, url: this.link(r), size: r.file.size, rows: r.file.rows, expiresAt: new Date(r.expiresAt) }],
          period: spec.from ? { from: spec.from, to: spec.to! } : undefined,
        });
        await this.store.reports.setEmailStatus(r.id, 'sent', null);
        return;
      } catch (err) {
        error = (err as Error).message;
        this.opts.log.warn({ err, reportId: r.id, attempt: i + 1 }, 'report email failed');
      }
    }
    if (!this.loop.stopped) await this.store.reports.setEmailStatus(r.id, 'failed', error);
  }

  private link(r: ReportRow): string {
    return this.signer.sign(`/downloads/reports/${r.id}/${r.file!.name}`, r.expiresAt!);
  }

  /** The public shape of a report. */
  view(r: ReportRow) {
    const spec = r.spec as unknown as ReportSpec;
    const expired = r.status === 'completed' && r.expiresAt !== null && r.expiresAt <= this.opts.now();
    const ready = r.status === 'completed' && !expired && r.file !== null;
    return {
      id: r.id,
      status: expired ? 'expired' : r.status,
      createdAt: new Date(r.createdAt).toISOString(),
      period: { preset: spec.period, from: spec.from, to: spec.to, tz: spec.tz },
      folders: spec.folders,
      fields: spec.fields,
      format: spec.format,
      bom: spec.bom === true,
      rows: r.rows,
      url: ready ? this.link(r) : null,
      file: ready ? { name: r.file!.name, url: this.link(r), size: r.file!.size, rows: r.file!.rows, sha256: r.file!.sha256, expiresAt: new Date(r.expiresAt!).toISOString() } : null,
      email: r.email === null ? null : { to: r.email, status: r.emailStatus, error: r.emailError },
      error: r.status === 'failed' ? r.error : null,
    };
  }

  async get(accountId: string, id: string) {
    const r = await this.store.reports.get(accountId, id);
    if (!r) throw new AppError('not_found', `No report ${shown(id)} in this account.`);
    return this.view(r);
  }

  async list(accountId: string, page: { limit: number; offset: number }) {
    return (await this.store.reports.list(accountId, page)).map((r) => this.view(r));
  }

  /** The file behind a verified link, if the report still has it. */
  async filePath(id: string, name: string): Promise<string | null> {
    const r = await this.store.reports.getById(id);
    if (!r || r.status !== 'completed' || r.file?.name !== name) return null;
    return join(this.opts.dir, id, name);
  }
}

