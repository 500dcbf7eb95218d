/**
 * Accounts and their credentials (spec/events.md "Credentials of an account"). Secrets are shown
 * once, when made; the store keeps only hashes. Every check goes through the failure limiter.
 */
import { AppError } from '../errors.ts';
import type { AccountRow, CredentialKind, CredentialRow, RetentionSettings, Store, UserRow } from '../storage/types.ts';
import { FailureLimiter } from './failures.ts';
import { SessionService } from './sessions.ts';
import { TtlCache } from '../util/ttl-cache.ts';
import { hashPassword, hashSecret, newId, newSecret, newUid, safeEqual, secretMatches, verifyPassword } from './secrets.ts';

export interface Principal {
  accountId: string;
  /** How the caller proved who it is. */
  via: 'api_token' | 'write_key' | 'password' | 'uid' | 'oauth' | 'session';
  credentialId: string | null;
}

export interface NewAccount {
  id: string;
  name: string;
  uid: string;
  writeKey: string;
  apiToken: string;
  users: Array<{ email: string }>;
}

const PREFIX: Record<CredentialKind, string> = { write_key: 'wk', api_token: 'rs', oauth_client: 'ocs' };

export interface CredentialView {
  id: string;
  name: string | null;
  prefix: string;
  createdAt: string;
  clientId?: string;
}

function view(c: CredentialRow): CredentialView {
  const v: CredentialView = { id: c.id, name: c.name, prefix: c.prefix, createdAt: new Date(c.createdAt).toISOString() };
  if (c.publicId) v.clientId = c.publicId;
  return v;
}

export class AuthService {
  readonly failures: FailureLimiter;
  readonly sessions: SessionService;
  private readonly cache: TtlCache<CredentialRow | undefined>;

  constructor(
    private readonly store: Store,
    opts: { maxFailures: number; failureWindowSeconds: number; sessionTtlSeconds: number; retention: RetentionSettings },
    private readonly now: () => number = Date.now,
  ) {
    this.failures = new FailureLimiter(opts.maxFailures, opts.failureWindowSeconds * 1000, now);
    this.cache = new TtlCache(10_000, now);
    this.sessions = new SessionService(store, this.failures, opts.sessionTtlSeconds * 1000, now);
    this.retention = opts.retention;
  }
  private readonly retention: RetentionSettings;

  private credentialRow(accountId: string, kind: CredentialKind, secret: string, name: string | null, publicId: string | null = null): CredentialRow {
    return {
      id: newId('cred'), accountId, kind, name, publicId, secretHash: hashSecret(secret),
      prefix: secret.slice(0, PREFIX[kind].length + 5), createdAt: this.now(), revokedAt: null,
    };
  }

  async createAccount(input: { name: string; email: string; password: string }): Promise<NewAccount> {
    const email = input.email.toLowerCase();
    if (await this.store.users.findByEmail(email)) throw new AppError('conflict', `A user with email ${email} already exists.`);
    const id = newId('acc');
    const uid = newUid();
    const writeKey = newSecret('wk');
    const apiToken = newSecret('rs');
    const account: AccountRow = { id, name: input.name, createdAt: this.now(), uidHash: hashSecret(uid), uidEnabled: true,
      rawRetentionDays: this.retention.rawDays, aggregateRetentionDays: this.retention.aggregateDays, exportFileRetentionDays: this.retention.exportFileDays,
    };
    await this.store.accounts.create({
      account,
      credentials: [this.credentialRow(id, 'write_key', writeKey, 'default'), this.credentialRow(id, 'api_token', apiToken, 'default')],
      users: [{ id: newId('usr'), accountId: id, email, passwordHash: await hashPassword(input.password), createdAt: this.now() }],
    });
    return { id, name: input.name, uid, writeKey, apiToken, users: [{ email }] };
  }

  private lookup(secret: string): Promise<CredentialRow | undefined> {
    const hash = hashSecret(secret);
    return this.cache.get(hash, () => this.store.credentials.findByHash(hash));
  }

  private async bySecret(secret: string, kind: CredentialKind, ip: string): Promise<Principal> {
    this.failures.check(ip);
    const row = await this.lookup(secret);
    if (!row || row.kind !== kind || !secretMatches(secret, row.secretHash)) {
      this.failures.fail(ip);
      throw new AppError('unauthorized', kind === 'write_key' ? 'Unknown write key.' : 'Unknown or revoked API token.');
    }
    return { accountId: row.accountId, via: kind === 'write_key' ? 'write_key' : 'api_token', credentialId: row.id };
  }

  authenticateToken(token: string, ip: string): Promise<Principal> {
    return this.bySecret(token, 'api_token', ip);
  }

  authenticateWriteKey(key: string, ip: string): Promise<Principal> {
    return this.bySecret(key, 'write_key', ip);
  }

  /** Wistia-style basic auth: a user's email and password, or `api` and an API token. */
  async authenticateBasic(user: string, password: string, ip: string): Promise<Principal> {
    if (user === 'api') return this.authenticateToken(password, ip);
    return (await this.authenticatePassword(user, password, ip)).principal;
  }

  /** A user's email and password (basic auth, dashboard sign-in). */
  async authenticatePassword(email: string, password: string, ip: string): Promise<{ principal: Principal; user: UserRow }> {
    this.failures.check(ip);
    const row = await this.store.users.findByEmail(email);
    if (!(await verifyPassword(password, row?.passwordHash ?? null)) || !row) {
      this.failures.fail(ip);
      throw new AppError('unauthorized', 'Wrong email or password.');
    }
    return { principal: { accountId: row.accountId, via: 'password', credentialId: row.id }, user: row };
  }

  async authenticateUid(uid: string, ip: string): Promise<Principal> {
    this.failures.check(ip);
    const hash = hashSecret(uid);
    const account = await this.store.accounts.findByUidHash(hash);
    if (!account || !account.uidEnabled || !account.uidHash || !safeEqual(hash, account.uidHash)) {
      this.failures.fail(ip);
      throw new AppError('unauthorized', 'Unknown or disabled export UID.');
    }
    return { accountId: account.id, via: 'uid', credentialId: null };
  }

  /** Contentsquare-style client credentials. */
  async authenticateClient(clientId: string, clientSecret: string, ip: string): Promise<Principal> {
    this.failures.check(ip);
    const row = await this.store.credentials.findByPublicId('oauth_client', clientId);
    if (!row || !secretMatches(clientSecret, row.secretHash)) {
      this.failures.fail(ip);
      throw new AppError('unauthorized', 'Unknown client_id or wrong client_secret.');
    }
    return { accountId: row.accountId, via: 'oauth', credentialId: row.id };
  }

  async createCredential(accountId: string, kind: CredentialKind, name: string | null): Promise<{ secret: string; clientId: string | null; view: CredentialView }> {
    const secret = newSecret(PREFIX[kind]);
    const clientId = kind === 'oauth_client' ? newId('oc') : null;
    const row = this.credentialRow(accountId, kind, secret, name, clientId);
    await this.store.credentials.create(row);
    return { secret, clientId, view: view(row) };
  }

  async listCredentials(accountId: string, kind: CredentialKind): Promise<CredentialView[]> {
    return (await this.store.credentials.list(accountId, kind)).map(view);
  }

  async revokeCredential(accountId: string, kind: CredentialKind, id: string): Promise<void> {
    const ok = await this.store.credentials.revoke(accountId, kind, id, this.now());
    this.cache.clear();
    if (!ok) throw new AppError('not_found', `No live ${kind.replace('_', ' ')} with id ${id} in this account.`);
  }

  async createUser(accountId: string, email: string, password: string): Promise<{ email: string }> {
    const e = email.toLowerCase();
    if (await this.store.users.findByEmail(e)) throw new AppError('conflict', `A user with email ${e} already exists.`);
    await this.store.users.create({ id: newId('usr'), accountId, email: e, passwordHash: await hashPassword(password), createdAt: this.now() });
    return { email: e };
  }

  async rotateUid(accountId: string): Promise<string> {
    const uid = newUid();
    await this.store.accounts.setUid(accountId, hashSecret(uid), true);
    return uid;
  }

  async disableUid(accountId: string): Promise<void> {
    await this.store.accounts.setUid(accountId, null, false);
  }
}
