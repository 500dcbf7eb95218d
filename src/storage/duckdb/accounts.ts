import { DEFAULT_RETENTION } from '../privacy-types.ts';
import type { AccountRepo, AccountRow, CredentialKind, CredentialRepo, CredentialRow, UserRepo, UserRow } from '../types.ts';
import type { Db, Querier, Row } from './db.ts';

const account = (r: Row): AccountRow => ({
  id: r.id as string,
  name: r.name as string,
  createdAt: r.created_at as number,
  uidHash: (r.uid_hash as string) ?? null,
  uidEnabled: r.uid_enabled as boolean,
  rawRetentionDays: r.raw_retention_days as number,
  aggregateRetentionDays: (r.aggregate_retention_days as number | null) ?? DEFAULT_RETENTION.aggregateDays,
  exportFileRetentionDays: (r.export_file_retention_days as number | null) ?? DEFAULT_RETENTION.exportFileDays,
});

const credential = (r: Row): CredentialRow => ({
  id: r.id as string,
  accountId: r.account_id as string,
  kind: r.kind as CredentialKind,
  name: (r.name as string) ?? null,
  publicId: (r.public_id as string) ?? null,
  secretHash: r.secret_hash as string,
  prefix: r.prefix as string,
  createdAt: r.created_at as number,
  revokedAt: (r.revoked_at as number) ?? null,
});

const user = (r: Row): UserRow => ({
  id: r.id as string,
  accountId: r.account_id as string,
  email: r.email as string,
  passwordHash: r.password_hash as string,
  createdAt: r.created_at as number,
});

async function insertCredential(q: Querier, c: CredentialRow): Promise<void> {
  await q.run('INSERT INTO credentials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
    c.id, c.accountId, c.kind, c.name, c.publicId, c.secretHash, c.prefix, new Date(c.createdAt),
    c.revokedAt === null ? null : new Date(c.revokedAt),
  ]);
}

async function insertUser(q: Querier, u: UserRow): Promise<void> {
  await q.run('INSERT INTO users VALUES (?, ?, ?, ?, ?)', [u.id, u.accountId, u.email, u.passwordHash, new Date(u.createdAt)]);
}

export function accountRepo(db: Db): AccountRepo {
  return {
    async count() {
      const r = await db.one<{ n: number }>('SELECT count(*) AS n FROM accounts');
      return r?.n ?? 0;
    },
    async create({ account: a, credentials, users }) {
      await db.tx(async (q) => {
        await q.run(
          `INSERT INTO accounts (id, name, created_at, uid_hash, uid_enabled, raw_retention_days, aggregate_retention_days, export_file_retention_days)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          [a.id, a.name, new Date(a.createdAt), a.uidHash, a.uidEnabled, a.rawRetentionDays, a.aggregateRetentionDays, a.exportFileRetentionDays],
        );
        for (const c of credentials) await insertCredential(q, c);
        for (const u of users) await insertUser(q, u);
      });
    },
    async get(id) {
      const r = await db.one('SELECT * FROM accounts WHERE id = ?', [id]);
      return r && account(r);
    },
    async findByUidHash(uidHash) {
      const r = await db.one('SELECT * FROM accounts WHERE uid_hash = ?', [uidHash]);
      return r && account(r);
    },
    async setUid(accountId, uidHash, enabled) {
      await db.run('UPDATE accounts SET uid_hash = ?, uid_enabled = ? WHERE id = ?', [uidHash, enabled, accountId]);
    },
  };
}

export function credentialRepo(db: Db): CredentialRepo {
  return {
    create: (c) => db.with((q) => insertCredential(q, c)),
    async findByHash(secretHash) {
      const r = await db.one('SELECT * FROM credentials WHERE secret_hash = ? AND revoked_at IS NULL', [secretHash]);
      return r && credential(r);
    },
    async findByPublicId(kind, publicId) {
      const r = await db.one('SELECT * FROM credentials WHERE kind = ? AND public_id = ? AND revoked_at IS NULL', [kind, publicId]);
      return r && credential(r);
    },
    async list(accountId, kind) {
      const rows = await db.all('SELECT * FROM credentials WHERE account_id = ? AND kind = ? AND revoked_at IS NULL ORDER BY created_at, id', [accountId, kind]);
      return rows.map(credential);
    },
    async revoke(accountId, kind, id, at) {
      const n = await db.run('UPDATE credentials SET revoked_at = ? WHERE account_id = ? AND kind = ? AND id = ? AND revoked_at IS NULL', [new Date(at), accountId, kind, id]);
      return n > 0;
    },
  };
}

export function userRepo(db: Db): UserRepo {
  return {
    create: (u) => db.with((q) => insertUser(q, u)),
    async findByEmail(email) {
      const r = await db.one('SELECT * FROM users WHERE email = ?', [email.toLowerCase()]);
      return r && user(r);
    },
    async list(accountId) {
      return (await db.all('SELECT * FROM users WHERE account_id = ? ORDER BY created_at', [accountId])).map(user);
    },
  };
}
