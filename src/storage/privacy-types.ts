/**
 * The storage boundary, privacy and lifecycle side: a viewer's footprint and erasure, suppression,
 * the audit log, retention sweeps and the engine's purge of deleted bytes. Times are epoch ms.
 */
import type { Page } from './types.ts';
import type { ExportRunRow, ReportRow } from './export-types.ts';

/** Defaults of the retention settings (spec/exports.md "Retention"); config may change them for new accounts. */
export const DEFAULT_RETENTION = { rawDays: 90, aggregateDays: 730, exportFileDays: 7 } as const;

export interface RetentionSettings {
  /** Raw events: days after their timestamp. */
  rawDays: number;
  /** View records and the daily rollup: days after the record's start (whole UTC days). */
  aggregateDays: number;
  /** Export and report files: days after the run finished. */
  exportFileDays: number;
}

/**
 * Where one viewer's data is. A viewer is a userId; the data attributed to them is every event with
 * that userId, and the events without a userId in the sessions where that userId appears (the same
 * for view records).
 */
export interface ViewerFootprint {
  events: number;
  records: number;
  sessions: string[];
  /** Epoch hours (ms / 3,600,000, floored) holding an event timestamp or a record start of the viewer. */
  hours: number[];
  /**
   * Epoch hours holding the start of one of the viewer's sessions: a sessions export's row of a
   * session is in the period its first record is, and sums its later records too.
   */
  sessionHours: number[];
  /**
   * The content ids of the viewer's events and records: an export filtered to another holds nothing
   * of them. Null when not known (kept by an erasure that failed before it was recorded).
   */
  contentIds: string[] | null;
}

/** What a viewer's profile is made of, from their raw events and view records. */
export interface ViewerFacts {
  events: number;
  records: number;
  firstSeen: number | null;
  lastSeen: number | null;
  emails: string[];
  viewerAccountIds: string[];
  viewerNames: string[];
  /** Oldest first; attributes from the session's earliest event or record that has them. */
  sessions: Array<{
    sessionId: string; firstEventAt: number; lastEventAt: number; contentIds: string[]; deviceType: string | null; platform: string | null;
    os: string | null; browser: string | null; country: string | null; city: string | null;
  }>;
}

export interface ViewerErasure {
  events: number;
  viewRecords: number;
  /** Sessions that still hold other viewers' events: their records must be rebuilt from those. */
  rebuild: string[];
}

export interface AuditEntry {
  id: string;
  accountId: string;
  at: number;
  /** How the caller authenticated (api_token, password…) and which credential or user it was. */
  actorKind: string;
  actorId: string | null;
  action: 'viewer.export' | 'viewer.erase' | 'viewer.unsuppress' | 'retention.update';
  /** The keyed hash of the viewer, never the userId itself. */
  subject: string | null;
  details: Record<string, unknown>;
}

/** A completed run that still has files, with its job's spec. */
export interface RunWithSpec {
  run: ExportRunRow;
  jobKind: string;
  spec: Record<string, unknown>;
}

export interface PrivacyRepo {
  footprint(accountId: string, userId: string): Promise<ViewerFootprint>;
  viewerFacts(accountId: string, userId: string): Promise<ViewerFacts>;
  /**
   * In one transaction: deletes the viewer's raw events and the view records of its sessions (their
   * rollup contributions subtracted), except final records (started before the raw horizon) of other
   * viewers.
   */
  erase(accountId: string, userId: string, sessions: string[]): Promise<ViewerErasure>;
  /** Export jobs whose spec names the viewer (a per-viewer export, a userId filter). */
  jobsNaming(accountId: string, userId: string): Promise<Array<{ id: string; kind: string; spec: Record<string, unknown> }>>;
  setJobSpec(accountId: string, id: string, spec: Record<string, unknown>): Promise<void>;
  runsWithFiles(accountId: string): Promise<RunWithSpec[]>;
  /** Marks runs' files removed (with why), ends their links at `at`, and cancels their pending deliveries. */
  removeRunFiles(runIds: string[], reason: string, at: number): Promise<void>;
  suppress(accountId: string, subject: string, at: number): Promise<void>;
  unsuppress(accountId: string, subject: string): Promise<boolean>;
  suppressed(accountId: string): Promise<string[]>;
  audit(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  auditLog(accountId: string, page: Page): Promise<{ items: AuditEntry[]; total: number }>;
  /**
   * Makes the bytes of deleted rows unreadable in the database files (DuckDB leaves them in freed
   * blocks). False when the store could not get exclusive use within `waitMs`; try again later.
   */
  purge(waitMs: number): Promise<boolean>;
  /** Whether a purge is owed (an erasure could not purge at once); kept across restarts. */
  purgePending(): Promise<boolean>;
  setPurgePending(pending: boolean): Promise<void>;
  /** Where an erasure of the viewer that has not ended found their data (its footprint's sessions and hours), else null. */
  pendingErasure(accountId: string, subject: string): Promise<Pick<ViewerFootprint, 'sessions' | 'hours' | 'sessionHours' | 'contentIds'> | null>;
  /** Keeps where an erasure found the viewer's data, before it deletes anything (replacing what was kept). */
  startErasure(accountId: string, subject: string, where: Pick<ViewerFootprint, 'sessions' | 'hours' | 'sessionHours' | 'contentIds'>, at: number): Promise<void>;
  endErasure(accountId: string, subject: string): Promise<void>;
}

export interface RetentionRepo {
  setSettings(accountId: string, s: RetentionSettings): Promise<void>;
  /** Every account with its settings. */
  accounts(): Promise<Array<{ accountId: string; settings: RetentionSettings }>>;
  /**
   * Deletes the account's raw events with a timestamp before `before` and an arrival number at most
   * `uptoSeq` (already in view records), and raises its raw horizon to `before`, in one transaction.
   */
  expireRaw(accountId: string, before: number, uptoSeq: number): Promise<number>;
  /** Deletes view records that started before `before` (a UTC midnight) and rollup days before it. */
  expireAggregates(accountId: string, before: number): Promise<{ records: number; rollupRows: number }>;
  /** Completed runs of the account that still have files and finished before `before`, or whose links expired by `now`. */
  runsFinishedBefore(accountId: string, before: number, now: number): Promise<ExportRunRow[]>;
  /** Completed reports of the account whose file is still kept and that finished before `before`, or whose link expired by `now`. */
  reportsFinishedBefore(accountId: string, before: number, now: number): Promise<ReportRow[]>;
  /** Ends a report's link at `at` (its file was removed). */
  endReport(id: string, at: number): Promise<void>;
  /** The newest stored arrival time (received_at), null when no event is stored. */
  newestArrival(): Promise<number | null>;
  /** The sweeper's last trusted time, null before its first sweep. */
  clock(): Promise<number | null>;
  setClock(at: number): Promise<void>;
}
