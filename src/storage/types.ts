/**
 * The storage boundary. Everything above src/storage speaks these types; each adapter (DuckDB
 * today, ClickHouse later) implements them with its own SQL. Times are epoch milliseconds.
 */
export * from './export-types.ts';
export * from './privacy-types.ts';
import type { ExportRepo, JobRepo, ScheduleRepo, DeliveryRepo, ReportRepo } from './export-types.ts';
import type { PrivacyRepo, RetentionRepo } from './privacy-types.ts';
import type { StoredEvent } from '../events/types.ts';
import type { RecordEvent, ViewRecord } from '../metrics/viewRecord.ts';

export interface AccountRow {
  id: string;
  name: string;
  createdAt: number;
  uidHash: string | null;
  uidEnabled: boolean;
  rawRetentionDays: number;
  /** Days view records and rollups are kept. */
  aggregateRetentionDays: number;
  /** Days export files are kept. */
  exportFileRetentionDays: number;
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

/** A dashboard sign-in; the cookie's token is kept only as its SHA-256. */
export interface SessionRow {
  id: string;
  tokenHash: string;
  accountId: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
}

export interface SessionRepo {
  create(row: SessionRow): Promise<void>;
  findByTokenHash(tokenHash: string): Promise<SessionRow | undefined>;
  /** Returns false when there was no such session. */
  delete(id: string): Promise<boolean>;
  /** Deletes sessions that expired before `beforeMs`; returns how many. */
  deleteExpired(beforeMs: number): Promise<number>;
}

export interface CatalogRepo {
  upsertVideo(accountId: string, contentId: string, patch: VideoPatch, at: number): Promise<VideoRow>;
  getVideo(accountId: string, contentId: string): Promise<VideoRow | undefined>;
  /** The entries of these ids that exist, in no particular order. */
  getVideos(accountId: string, contentIds: string[]): Promise<VideoRow[]>;
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
export const DIMENSIONS = ['video_id', 'project_id', 'date', 'hour', 'country', 'platform', 'os', 'browser', 'domain', 'url'] as const;
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
  /** The data attributed to a viewer: records with this userId, and records without one in that viewer's sessions. */
  attributedTo?: string;
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
  /** Every non-bot event of these sessions of an account (to rebuild their records). */
  sessionEvents(accountId: string, sessionIds: string[]): Promise<RecordEvent[]>;
  watermark(): Promise<number>;
  setWatermark(seq: number): Promise<void>;
  aggregate(set: RecordSet, groupBy: Dimension[]): Promise<BaseSums[]>;
  /** Impressions whose own time is in the period, grouped like `aggregate`. */
  loads(set: RecordSet, groupBy: Dimension[]): Promise<Array<{ key: GroupKey; loads: number }>>;
  /** Largest number of distinct sessions with a watchProgress in one UTC minute, among each group's records (by their start, like `aggregate`). */
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

/** The reads a snapshot offers (Store.readSnapshot). */
export type SnapshotStore = Pick<Store, 'views' | 'catalog' | 'reports'> & {
  /** Hands the engine's cache of what the snapshot read so far back (between statements of a long read; optional). */
  releaseCache?(): Promise<unknown>;
};

export interface Store {
  readonly engine: string;
  migrate(): Promise<number>;
  /** Throws when the store cannot take writes. */
  checkWritable(): Promise<void>;
  close(): Promise<void>;
  accounts: AccountRepo;
  credentials: CredentialRepo;
  users: UserRepo;
  sessions: SessionRepo;
  catalog: CatalogRepo;
  events: EventRepo;
  views: ViewRepo;
  exports: ExportRepo;
  jobs: JobRepo;
  reports: ReportRepo;
  schedules: ScheduleRepo;
  deliveries: DeliveryRepo;
  /** Runs `fn` with views, catalog and report-item reads that all see one snapshot (one read transaction). */
  readSnapshot<T>(fn: (s: SnapshotStore) => Promise<T>): Promise<T>;
  privacy: PrivacyRepo;
  retention: RetentionRepo;
}
