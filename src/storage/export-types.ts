/** The storage boundary, export side: export reads, jobs and runs, schedules, deliveries, reports. */
import type { XlsxColumnType } from '../exports/formats/xlsx.ts';
import type { Page, RecordFilters, VideoKind } from './types.ts';

/** What an export reads: a scope, a period, filters and the chosen fields (by catalog name). */
export interface ExportSource {
  /** `sessions`: one row a session (account, sessionId) summed from its view records; a session belongs to the period of its first record. */
  scope: 'events' | 'views' | 'sessions';
  accountId: string;
  fromMs: number;
  toMs: number;
  /** For the events scope: the categories of spec/events.md (events, quality, ads). */
  types?: Array<'events' | 'quality' | 'ads'>;
  filters: RecordFilters;
  fields: Array<{ name: string; as: string }>;
  /** Prefix text starting with = + - @ tab CR with ' (CSV and XLSX). */
  neutralize: boolean;
  /** CSV: the file starts with a UTF-8 byte order mark (Excel then reads it as UTF-8). */
  bom?: boolean;
}

export type CopyFormat = 'csv' | 'jsonl' | 'json' | 'parquet';

/**
 * One part of an export: the rows it holds, chosen so that parts never overlap and together hold
 * every row of the source. The adapter decides how (a key range in storage order, or a range of
 * sessions in their order); callers only pass it back.
 */
export interface ExportPart {
  readonly rows: number;
  readonly range:
    | { readonly after: number; readonly through: number }
    /**
     * Sessions from the session start and session id `from` (included) to `to` (excluded), in the
     * sessions' export order; `records`: where the adapter gathered their records (its own name).
     */
    | { readonly from: SessionBound; readonly to: SessionBound; readonly records?: string };
}

/** A place in the sessions' order (session start, then session id): session (t, id) and those after it; `id` '' starts microsecond `t`. */
export interface SessionBound { readonly t: number; readonly id: string }

/** Reads of one export, all against the same snapshot of the data. */
export interface ExportSnapshot {
  /**
   * The parts of at most `partRows` rows each (one empty part when there are no rows).
   */
  parts(src: ExportSource, partRows: number): Promise<ExportPart[]>;
  /** `part` (of `parts`) cut into consecutive parts of at most `rows` rows each, in order. */
  split(src: ExportSource, part: ExportPart, rows: number): Promise<ExportPart[]>;
  /** The engine writes one part of the source straight to a file; answers the rows written and, when it saw every byte go by, the file's SHA-256. */
  copy(src: ExportSource, part: ExportPart, opts: { format: CopyFormat; path: string; gzip: boolean }): Promise<{ rows: number; sha256?: string }>;
  /**
   * One part's rows as XLSX `<row>` XML (cells typed by `types`, in field order), a chunk of whole
   * rows at a time, as bytes of rows each ended by \x03 + LF (XlsxWriter.addRowLines).
   * `scratch`: a file path the engine may use on the way (removed after).
   */
  xlsxRows(src: ExportSource, part: ExportPart, types: readonly XlsxColumnType[], visit: (rows: Buffer) => Promise<void>, scratch: string): Promise<void>;
}

export interface ExportRepo {
  /**
   * `parallel`: the export's parts are CSV or JSON Lines, not gzipped, which the engine may write
   * with two connections at once (it holds the second for the snapshot's length only then).
   */
  snapshot<T>(fn: (s: ExportSnapshot) => Promise<T>, opts?: { parallel?: boolean }): Promise<T>;
  /** Rows computed in memory (the `videos` scope), written as JSON Lines at `jsonl`, rewritten by the engine as Parquet at `out`. */
  parquetFromJsonl(jsonl: string, columns: ReadonlyArray<{ name: string; type: 'string' | 'number' | 'integer' | 'boolean' | 'timestamp' | 'object' }>, out: string): Promise<void>;
}

export interface ExportJobRow {
  id: string;
  accountId: string;
  kind: 'once' | 'hourly' | 'daily' | 'weekly';
  spec: Record<string, unknown>;
  state: 'active' | 'paused' | 'deleted';
  createdAt: number;
}

export interface ExportFile {
  name: string;
  rows: number;
  size: number;
  sha256: string;
  /** A ZIP of the parts: the parts inside it. */
  parts?: ExportFile[];
}

export interface ExportRunRow {
  id: string;
  jobId: string;
  accountId: string;
  periodFrom: number;
  periodTo: number;
  status: 'pending' | 'running' | 'completed' | 'failed';
  attempts: number;
  rows: number | null;
  files: ExportFile[] | null;
  error: string | null;
  createdAt: number;
  finishedAt: number | null;
  expiresAt: number | null;
  /** Why and when the run's files were removed before their expiry (a viewer's erasure, retention); else null. */
  filesRemoved?: string | null;
}

export interface JobRepo {
  createJob(job: ExportJobRow, firstRun: ExportRunRow | null): Promise<void>;
  getJob(accountId: string, id: string): Promise<ExportJobRow | undefined>;
  listJobs(accountId: string, kind: 'once' | 'scheduled', page: Page): Promise<ExportJobRow[]>;
  runsOf(accountId: string, jobId: string): Promise<ExportRunRow[]>;
  getRun(id: string): Promise<ExportRunRow | undefined>;
  /**
   * Takes the oldest pending run that may start, marks it running and counts the attempt: a run of
   * a once job while no other once run of its account runs; a run of a scheduled job while no
   * scheduled run runs.
   */
  claimRun(): Promise<ExportRunRow | undefined>;
  /** Marks a run completed; with `delivery`, creates that delivery in the same transaction. */
  finishRun(id: string, result: { rows: number; files: ExportFile[]; finishedAt: number; expiresAt: number }, delivery?: DeliveryRow | null): Promise<void>;
  failRun(id: string, error: string, finishedAt: number, retry: boolean): Promise<void>;
  /** After a crash: runs left running go back to pending, to be redone from scratch. */
  requeueRunning(): Promise<number>;
  /** Every live job of an account whose spec.dialect is `dialect`, oldest first, with the status of its newest run. */
  listDialectJobs(accountId: string, dialect: string): Promise<Array<ExportJobRow & { lastRunStatus: ExportRunRow['status'] | null }>>;
  /** Runs of an account, of one job or of every live job of a dialect, optionally of one status, by creation; with the total. */
  listRuns(accountId: string, q: { jobId?: string; dialect?: string; status?: ExportRunRow['status']; order: 'asc' | 'desc'; limit: number; offset: number }): Promise<{ items: ExportRunRow[]; total: number }>;
}

export type ScheduledKind = 'hourly' | 'daily' | 'weekly';

/** A scheduled job as the scheduler sees it. */
export interface ScheduledJob {
  job: ExportJobRow;
  /** Windows ending at or before this are not run: the job's creation, or its last resume. */
  origin: number;
  /** The start of the job's latest run, null when it has none. */
  lastPeriodFrom: number | null;
}

/** What a schedule keeps beyond its job row. */
export interface ScheduleSettings {
  /** The webhook signing secret (whsec_…), kept in clear because it is an HMAC key. */
  secret: string | null;
  origin: number;
  /** Set when the receiver answered 410 Gone and the schedule was paused for it. */
  disabledReason: string | null;
}

export interface ScheduleRepo {
  /** Stores a scheduled job and its settings, all or nothing. */
  create(job: ExportJobRow, settings: ScheduleSettings): Promise<void>;
  /** Every active hourly, daily and weekly job of every account (whoever made it). */
  active(): Promise<ScheduledJob[]>;
  /** Inserts runs; one whose (job, period start) already exists is skipped. Returns how many were new. */
  addRuns(runs: ExportRunRow[]): Promise<number>;
  settings(jobId: string): Promise<ScheduleSettings | undefined>;
  /** active → paused; false when the account has no such scheduled job. */
  pause(accountId: string, id: string): Promise<boolean>;
  /** → active, windows from `at` on, disabled reason cleared; false when there is no such job. */
  resume(accountId: string, id: string, at: number): Promise<boolean>;
  /** Marks the job deleted, forgets its secret, fails its pending runs and cancels its pending deliveries, in one transaction. */
  remove(accountId: string, id: string, at: number): Promise<boolean>;
}

export type DeliveryChannel = 'webhook' | 'email';

export interface DeliveryRow {
  /** Also the webhook-id: the same on every attempt. */
  id: string;
  accountId: string;
  jobId: string;
  runId: string;
  channel: DeliveryChannel;
  /** The webhook URL or the email address. */
  target: string;
  status: 'pending' | 'delivered' | 'failed' | 'cancelled';
  attempts: number;
  firstAttemptAt: number | null;
  /** When a pending delivery is due. */
  nextAttemptAt: number | null;
  lastError: string | null;
  createdAt: number;
  finishedAt: number | null;
}

export interface DeliveryAttemptRow {
  deliveryId: string;
  /** 1 for the first attempt. */
  n: number;
  accountId: string;
  jobId: string;
  runId: string;
  at: number;
  /** The HTTP status; null when no answer came, and for email. */
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  outcome: 'delivered' | 'retry' | 'failed' | 'disabled';
  nextAttemptAt: number | null;
}

export interface DeliveryRepo {
  /** Pending deliveries due at `now`, earliest first. */
  due(now: number, limit: number): Promise<DeliveryRow[]>;
  /**
   * Stores one attempt and the delivery's new state in one transaction. With `disable`, the job is
   * paused with that reason and its other pending deliveries are cancelled (410 Gone).
   */
  recordAttempt(attempt: DeliveryAttemptRow, next: Pick<DeliveryRow, 'status' | 'nextAttemptAt' | 'firstAttemptAt' | 'lastError' | 'finishedAt'>, disable?: { reason: string }): Promise<void>;
  /** Deliveries of these runs of an account. */
  ofRuns(accountId: string, runIds: string[]): Promise<DeliveryRow[]>;
  /** Attempts of a job's deliveries, newest first (or of the given deliveries). */
  attempts(accountId: string, q: { jobId?: string; deliveryIds?: string[] }, page: Page): Promise<DeliveryAttemptRow[]>;
}

/** A catalog entry as a report (and the `videos` export scope) lists it. */
export interface CatalogItem {
  contentId: string;
  title: string | null;
  /** The catalog duration, else the largest one events reported; seconds as stored. */
  duration: number | null;
  kind: VideoKind;
  projectId: string | null;
  projectName: string | null;
  folder: string | null;
}

/** Which catalog entries: in any of `folders` (nested folders included), of a project, these ids. */
export interface CatalogItemFilter {
  folders?: string[];
  projectId?: string;
  contentIds?: string[];
}

export interface ReportRow {
  id: string;
  accountId: string;
  spec: Record<string, unknown>;
  status: 'pending' | 'running' | 'completed' | 'failed';
  attempts: number;
  periodFrom: number;
  periodTo: number;
  rows: number | null;
  file: ExportFile | null;
  error: string | null;
  email: string | null;
  emailStatus: 'none' | 'pending' | 'sent' | 'failed';
  emailError: string | null;
  createdAt: number;
  finishedAt: number | null;
  expiresAt: number | null;
}

export interface ReportRepo {
  /** Catalog entries with their project names, ordered by content id; `page`: at most `limit` of them after content id `after`. */
  items(accountId: string, filter: CatalogItemFilter, page?: { after?: string; limit: number }): Promise<CatalogItem[]>;
  /** Every distinct folder path the account's catalog uses. */
  folders(accountId: string): Promise<string[]>;
  create(row: ReportRow): Promise<void>;
  get(accountId: string, id: string): Promise<ReportRow | undefined>;
  /** By id alone (signed downloads). */
  getById(id: string): Promise<ReportRow | undefined>;
  /** Newest first. */
  list(accountId: string, page: Page): Promise<ReportRow[]>;
  /** Takes the oldest pending report, marks it running and counts the attempt. */
  claim(): Promise<ReportRow | undefined>;
  finish(id: string, result: { rows: number; file: ExportFile; finishedAt: number; expiresAt: number; emailStatus: ReportRow['emailStatus'] }): Promise<void>;
  fail(id: string, error: string, finishedAt: number, retry: boolean): Promise<void>;
  setEmailStatus(id: string, status: ReportRow['emailStatus'], error: string | null): Promise<void>;
  /** Completed reports whose email is still to be sent. */
  pendingEmails(): Promise<ReportRow[]>;
  /** After a crash: reports left running go back to pending, to be built again from scratch. */
  requeueRunning(): Promise<number>;
}
