/**
 * The storage boundary. Everything above src/storage speaks these types; each adapter (DuckDB
 * today, ClickHouse later) implements them with its own SQL. Times are epoch milliseconds.
 */
import type { StoredEvent } from '../events/types.ts';
import type { RecordEvent, ViewRecord } from '../metrics/viewRecord.ts';

export interface AccountRow {
  id: string;
  name: string;
  createdAt: number;
  uidHash: string | null;
  uidEnabled: boolean;
  rawRetentionDays: number;
}

export type CredentialKind = 'write_key' | 'api_token' | 'oauth_client';

export interface CredentialRow {
  id: string;
  accountId: string;
  kind: CredentialKind;
  name: string | null;
  publicId: string | null;
  secretHash: string;
  prefix: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface UserRow {
  id: string;
  accountId: string;
  email: string;
  passwordHash: string;
  createdAt: number;
}

export interface ProjectRow {
  accountId: string;
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
}

export type VideoKind = 'video' | 'stream' | 'event';

export interface VideoRow {
  accountId: string;
  contentId: string;
  title: string | null;
  /** What a user set with PUT. */
  duration: number | null;
  /** The largest duration reported by events. */
  seenDuration: number | null;
  kind: VideoKind;
  projectId: string | null;
  folder: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface VideoPatch {
  title?: string | null;
  duration?: number | null;
  kind?: VideoKind;
  projectId?: string | null;
  folder?: string | null;
}

/** What a batch of events says about catalog entries: fills title/duration only where missing. */
export interface CatalogFill {
  accountId: string;
  contentId: string;
  title: string | null;
  duration: number | null;
}

export interface Page {
  limit: number;
  offset: number;
}

export interface AccountBundle {
  account: AccountRow;
  credentials: CredentialRow[];
  users: UserRow[];
}

export interface AccountRepo {
  count(): Promise<number>;
  /** Creates an account with its first credentials and users, all or nothing. */
  create(bundle: AccountBundle): Promise<void>;
  get(id: string): Promise<AccountRow | undefined>;
  findByUidHash(uidHash: string): Promise<AccountRow | undefined>;
  setUid(accountId: string, uidHash: string | null, enabled: boolean): Promise<void>;
}

export interface CredentialRepo {
  create(row: CredentialRow): Promise<void>;
  /** The live (not revoked) credential with this secret hash. */
  findByHash(secretHash: string): Promise<CredentialRow | undefined>;
  findByPublicId(kind: CredentialKind, publicId: string): Promise<CredentialRow | undefined>;
  list(accountId: string, kind: CredentialKind): Promise<CredentialRow[]>;
  /** Returns false when there is no such live credential in that account. */
  revoke(accountId: string, kind: CredentialKind, id: string, at: number): Promise<boolean>;
}

export interface UserRepo {
  create(row: UserRow): Promise<void>;
  findByEmail(email: string): Promise<UserRow | undefined>;
  list(accountId: string): Promise<UserRow[]>;
}

export interface CatalogRepo {
  upsertVideo(accountId: string, contentId: string, patch: VideoPatch, at: number): Promise<VideoRow>;
  getVideo(accountId: string, contentId: string): Promise<VideoRow | undefined>;
  listVideos(accountId: string, page: Page): Promise<{ items: VideoRow[]; total: number }>;
  upsertProject(accountId: string, id: string, name: string, at: number): Promise<ProjectRow>;
  getProject(accountId: string, id: string): Promise<ProjectRow | undefined>;
  listProjects(accountId: string, page: Page): Promise<{ items: ProjectRow[]; total: number }>;
}

export interface EventRepo {
  /**
   * Stores the events and applies the catalog fills in one transaction: when it resolves, all of
   * it is durable; when it rejects, none of it is stored.
   */
  insert(events: StoredEvent[], fills: CatalogFill[]): Promise<void>;
  /** Calls visit with the fingerprint of every stored event whose id a client gave. */
  scanFingerprints(visit: (fp: number) => void): Promise<void>;
  /** Of these ids, those the account has stored. */
  existingIds(accountId: string, ids: string[]): Promise<Set<string>>;
  /** The highest arrival number stored, 0 when empty. */
  maxSeq(): Promise<number>;
  /** Deletes an account's raw events whose timestamp is before `beforeMs`; returns how many. */
  deleteBefore(accountId: string, beforeMs: number): Promise<number>;
  /** Events of an account after an arrival number, in arrival order. */
  readAfter(accountId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;
}

/** Dimensions a set of view records can be grouped by. */
export const DIMENSIONS = ['video_id', 'project_id', 'date', 'country', 'platform', 'os', 'browser', 'domain', 'url'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface RecordFilters {
  contentIds?: string[];
  projectId?: string;
  /** A folder and every folder nested in it. */
  folder?: string;
  country?: string;
  platform?: string;
  os?: string;
  browser?: string;
  domain?: string;
  deviceType?: string;
  /** Contentsquare's device filter, read off `platform`: desktop, mobile (= smartphone) or tablet. */
  deviceLabel?: 'desktop' | 'mobile' | 'tablet';
  userId?: string;
  sessionId?: string;
}

/** A set of view records: an account, a period [fromMs, toMs), filters; `tz` names days for `date`. */
export interface RecordSet {
  accountId: string;
  fromMs: number;
  toMs: number;
  tz: string;
  filters: RecordFilters;
}

export type GroupKey = Partial<Record<Dimension, string | null>>;

/** The sums every metric is derived from (src/metrics/registry.ts), for one group. */
export interface BaseSums {
  key: GroupKey;
  records: number;
  played: number;
  views: number;
  watchTime: number;
  /** Watch time of played records whose content has a known duration (watch_depth numerator). */
  depthWatchTime: number;
  /** Σ duration over counted records with a known duration (= Σ views × duration per item). */
  depthDenominator: number;
  completed: number;
  rebufferCount: number;
  rebufferTime: number;
  errorCount: number;
}

/** A view record as the dialects list them: the record plus catalog duration and title applied. */
export interface RecordRow {
  viewId: string;
  contentId: string;
  sessionId: string;
  viewer: string;
  startedAt: number;
  unique: boolean;
  played: boolean;
  counted: boolean;
  completed: boolean;
  hm: string;
  uniqueSeconds: number;
  totalSeconds: number;
  duration: number | null;
  percentViewed: number | null;
  title: string | null;
  email: string | null;
  viewerAccountId: string | null;
  viewerName: string | null;
  userId: string | null;
  ip: string | null;
  userAgent: string | null;
  country: string | null;
  region: string | null;
  city: string | null;
  lat: number | null;
  lon: number | null;
  org: string | null;
  url: string | null;
  referrer: string | null;
  domain: string | null;
  deviceType: string | null;
  platform: string | null;
  os: string | null;
  browser: string | null;
  loads: number;
}

export interface ViewRepo {
  /**
   * Every session (account, sessionId) with a non-bot event whose seq is in (afterSeq, uptoSeq], with
   * all of that session's non-bot events, one session at a time, grouped by account.
   */
  streamDirtySessions(afterSeq: number, uptoSeq: number, visit: (accountId: string, sessionId: string, events: RecordEvent[]) => Promise<void>): Promise<void>;
  /**
   * In one transaction: replaces the records of these sessions by `records`, sets `unique` on every
   * record of the affected (viewer, content) pairs with `markUnique`, and stores the watermark.
   */
  replaceSessions(accountId: string, sessionIds: string[], records: ViewRecord[], watermark: number | null): Promise<void>;
  watermark(): Promise<number>;
  setWatermark(seq: number): Promise<void>;
  aggregate(set: RecordSet, groupBy: Dimension[]): Promise<BaseSums[]>;
  /** Impressions whose own time is in the period, grouped like `aggregate`. */
  loads(set: RecordSet, groupBy: Dimension[]): Promise<Array<{ key: GroupKey; loads: number }>>;
  /** Largest number of distinct sessions with a watchProgress in one UTC minute, per group. */
  peakConcurrent(set: RecordSet, groupBy: Dimension[]): Promise<Array<{ key: GroupKey; peak: number }>>;
  list(set: RecordSet, opts: { playedOnly: boolean; order: 'asc' | 'desc'; limit: number; offset: number }): Promise<RecordRow[]>;
  count(set: RecordSet, opts: { playedOnly: boolean }): Promise<number>;
  /** Every record of the set in order, a chunk of rows at a time, from one consistent snapshot. */
  stream(set: RecordSet, opts: { playedOnly: boolean; order: 'asc' | 'desc' }, visit: (rows: RecordRow[]) => Promise<void>): Promise<void>;
  /** The `hm` of every played record of the set. */
  hms(set: RecordSet): Promise<string[]>;
  /** Distinct sessions with a playStart or watchProgress received since `sinceMs`. */
  watchingNow(accountId: string, sinceMs: number, contentIds?: string[]): Promise<number>;
}

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
}

export type CopyFormat = 'csv' | 'jsonl' | 'json' | 'parquet';

/** Reads of one export, all against the same snapshot of the data. */
export interface ExportSnapshot {
  count(src: ExportSource): Promise<number>;
  /** The engine writes rows [offset, offset + limit) of the source straight to a file. */
  copy(src: ExportSource, opts: { format: CopyFormat; path: string; offset: number; limit: number; gzip: boolean }): Promise<void>;
  /** Rows [offset, offset + limit) as arrays in field order, a chunk at a time. */
  stream(src: ExportSource, opts: { offset: number; limit: number }, visit: (rows: unknown[][]) => Promise<void>): Promise<void>;
}

export interface ExportRepo {
  snapshot<T>(fn: (s: ExportSnapshot) => Promise<T>): Promise<T>;
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
}

export interface JobRepo {
  createJob(job: ExportJobRow, firstRun: ExportRunRow | null): Promise<void>;
  getJob(accountId: string, id: string): Promise<ExportJobRow | undefined>;
  listJobs(accountId: string, kind: 'once' | 'scheduled', page: Page): Promise<ExportJobRow[]>;
  runsOf(accountId: string, jobId: string): Promise<ExportRunRow[]>;
  getRun(id: string): Promise<ExportRunRow | undefined>;
  /** Takes the oldest pending run, marks it running and counts the attempt. */
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
  /** Catalog entries with their project names, ordered by content id. */
  items(accountId: string, filter: CatalogItemFilter): Promise<CatalogItem[]>;
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

export interface Store {
  readonly engine: string;
  migrate(): Promise<number>;
  /** Throws when the store cannot take writes. */
  checkWritable(): Promise<void>;
  close(): Promise<void>;
  accounts: AccountRepo;
  credentials: CredentialRepo;
  users: UserRepo;
  catalog: CatalogRepo;
  events: EventRepo;
  views: ViewRepo;
  exports: ExportRepo;
  jobs: JobRepo;
  reports: ReportRepo;
  schedules: ScheduleRepo;
  deliveries: DeliveryRepo;
}
