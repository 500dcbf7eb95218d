/** Dashboard sessions (migration 009). */
import type { SessionRepo, SessionRow } from '../types.ts';
import type { Db, Row } from './db.ts';

const session = (r: Row): SessionRow => ({
  id: r.id as string,
  tokenHash: r.token_hash as string,
  accountId: r.account_id as string,
  userId: r.user_id as string,
  createdAt: r.created_at as number,
  expiresAt: r.expires_at as number,
});

export function sessionRepo(db: Db): SessionRepo {
  return {
    async create(s) {
      await db.run('INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)', [s.id, s.tokenHash, s.accountId, s.userId, new Date(s.createdAt), new Date(s.expiresAt)]);
    },
    async findByTokenHash(tokenHash) {
      const r = await db.one('SELECT * FROM sessions WHERE token_hash = ?', [tokenHash]);
      return r && session(r);
    },
    async delete(id) {
      return (await db.run('DELETE FROM sessions WHERE id = ?', [id])) > 0;
    },
    async deleteExpired(beforeMs) {
      return db.run('DELETE FROM sessions WHERE expires_at < ?', [new Date(beforeMs)]);
    },
  };
}
