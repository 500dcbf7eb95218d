/**
 * Dashboard sessions: a user signs in with email and password and gets a random token in an
 * HttpOnly cookie; the store keeps only the token's SHA-256 (migration 009). A session lasts
 * `ttlMs` from sign-in. Requests that change something with the cookie must also send the
 * session's CSRF token (derived from the session token, so it is never stored) in X-CSRF-Token.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { SessionRow, Store } from '../storage/types.ts';
import type { FailureLimiter } from './failures.ts';
import { hashSecret, newId, newSecret, safeEqual, secretMatches } from './secrets.ts';
import type { Principal } from './service.ts';
import { TtlCache } from '../util/ttl-cache.ts';

export const SESSION_COOKIE = 'reelstat_session';
export const CSRF_HEADER = 'x-csrf-token';
/** Expired rows are kept this long, so an expired cookie is answered as such and not counted as a failure. */
const KEEP_EXPIRED_MS = 30 * 86_400_000;

export interface SignedIn {
  token: string;
  csrfToken: string;
  session: SessionRow;
}

export class SessionService {
  private readonly cache: TtlCache<SessionRow | undefined>;

  constructor(
    private readonly store: Store,
    private readonly failures: FailureLimiter,
    readonly ttlMs: number,
    private readonly now: () => number,
  ) {
    this.cache = new TtlCache(10_000, now);
  }

  /** The CSRF token of a session: a one-way function of its token, so the server need not keep it. */
  csrfToken(token: string): string {
    return createHash('sha256').update(`reelstat-csrf\u0000${token}`, 'utf8').digest('base64url');
  }

  csrfMatches(token: string, presented: unknown): boolean {
    return typeof presented === 'string' && safeEqual(presented, this.csrfToken(token));
  }

  /** A new session for a user whose password was just checked. */
  async create(accountId: string, userId: string): Promise<SignedIn> {
    const now = this.now();
    await this.store.sessions.deleteExpired(now - KEEP_EXPIRED_MS);
    const token = newSecret('ses');
    const session: SessionRow = { id: newId('ses'), tokenHash: hashSecret(token), accountId, userId, createdAt: now, expiresAt: now + this.ttlMs };
    await this.store.sessions.create(session);
    return { token, csrfToken: this.csrfToken(token), session };
  }

  private lookup(token: string): Promise<SessionRow | undefined> {
    const hash = hashSecret(token);
    return this.cache.get(hash, () => this.store.sessions.findByTokenHash(hash));
  }

  /**
   * The session of a cookie's token. An unknown token counts as a failed authentication of the
   * address; an expired one is refused without counting (browsers keep sending stale cookies).
   */
  async authenticate(token: string, ip: string): Promise<{ principal: Principal; session: SessionRow }> {
    this.failures.check(ip);
    const row = await this.lookup(token);
    if (!row || !secretMatches(token, row.tokenHash)) {
      this.failures.fail(ip);
      throw new AppError('unauthorized', 'Unknown session; sign in again.');
    }
    if (row.expiresAt <= this.now()) {
      throw new AppError('unauthorized', 'The session has expired; sign in again.');
    }
    return { principal: { accountId: row.accountId, via: 'session', credentialId: row.id }, session: row };
  }

  async destroy(session: SessionRow): Promise<void> {
    await this.store.sessions.delete(session.id);
    this.cache.clear();
  }
}

/** The Set-Cookie value of a session: HttpOnly, SameSite=Lax, Secure when the request came over HTTPS. */
export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

export function clearCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}
