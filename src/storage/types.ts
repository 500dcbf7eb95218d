/**
 * The storage boundary. Everything above src/storage speaks these types; each adapter (DuckDB
 * today, ClickHouse later) implements them with its own SQL. Times are epoch milliseconds.
 */
import type { StoredEvent } from '../events/types.ts';

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
  /** Events of an account after an arrival number, in arrival order. */
  readAfter(accountId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;
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
}
