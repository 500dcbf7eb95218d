/**
 * Contentsquare access tokens: compact JWTs signed with HS256 by a key kept in the data directory
 * (DATA_DIR/contentsquare-jwt.key, 0600, made on first use), valid one hour. A token names the OAuth
 * client credential (`sub`) and its account (`acc`); the routes check on every request that the
 * client was not revoked since. Signatures are compared in constant time; tokens are never logged.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newId, safeEqual } from '../../auth/secrets.ts';

export const TOKEN_TTL_SECONDS = 3600;
const AUDIENCE = 'reelstat/contentsquare-export';

export interface TokenClaims {
  /** The OAuth client credential's id. */
  sub: string;
  /** The account. */
  acc: string;
  /** The public client_id. */
  cid: string;
  iat: number;
  exp: number;
  aud: string;
  jti: string;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: 'expired' | 'invalid' };

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

export class TokenIssuer {
  constructor(private readonly key: Buffer) {}

  static fromDataDir(dataDir: string): TokenIssuer {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'contentsquare-jwt.key');
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    return new TokenIssuer(Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'));
  }

  private mac(signingInput: string): string {
    return createHmac('sha256', this.key).update(signingInput).digest('base64url');
  }

  issue(who: { credentialId: string; accountId: string; clientId: string }, nowMs: number): { token: string; expiresIn: number } {
    const iat = Math.floor(nowMs / 1000);
    const claims: TokenClaims = { sub: who.credentialId, acc: who.accountId, cid: who.clientId, iat, exp: iat + TOKEN_TTL_SECONDS, aud: AUDIENCE, jti: newId('jti') };
    const input = `${HEADER}.${b64(JSON.stringify(claims))}`;
    return { token: `${input}.${this.mac(input)}`, expiresIn: TOKEN_TTL_SECONDS };
  }

  /** A forged, malformed or foreign token is `invalid`; a genuine one past its `exp` is `expired`. */
  verify(token: string, nowMs: number): TokenCheck {
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return { ok: false, reason: 'invalid' };
    const [h, p, sig] = parts;
    if (!safeEqual(this.mac(`${h}.${p}`), sig)) return { ok: false, reason: 'invalid' };
    let header: { alg?: unknown };
    let claims: TokenClaims;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    if (header.alg !== 'HS256' || claims.aud !== AUDIENCE || typeof claims.exp !== 'number' || typeof claims.acc !== 'string' || typeof claims.sub !== 'string') {
      return { ok: false, reason: 'invalid' };
    }
    if (claims.exp * 1000 <= nowMs) return { ok: false, reason: 'expired' };
    return { ok: true, claims };
  }
}
