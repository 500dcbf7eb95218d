/** Reading credentials off a request. Routes call these; the AuthService does the checking. */
import type { FastifyRequest } from 'fastify';
import type { AuthService, Principal } from '../auth/service.ts';
import { clearCookie, CSRF_HEADER, SESSION_COOKIE } from '../auth/sessions.ts';
import type { SessionRow } from '../storage/types.ts';
import { AppError } from '../errors.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : null;
}

export function basic(req: FastifyRequest): { user: string; password: string } | null {
  const h = req.headers.authorization;
  const m = h ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h) : null;
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  let user = decoded.slice(0, i);
  try {
    user = decodeURIComponent(user); // curl -u 'me%40acme.test:…' sends the %40 as is
  } catch {
    /* keep it raw */
  }
  return { user, password: decoded.slice(i + 1) };
}

/** The value of the dashboard's session cookie, if the request carries one. */
export function sessionToken(req: FastifyRequest): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === SESSION_COOKIE) return part.slice(i + 1).trim() || null;
  }
  return null;
}

/** Whether the request reached us over HTTPS (X-Forwarded-Proto counts only with REELSTAT_TRUST_PROXY). */
export const overHttps = (req: FastifyRequest): boolean => req.protocol === 'https';

/**
 * The dashboard session of the cookie; 401 (clearing the cookie) when it is unknown or expired.
 * A request that may change something (not GET/HEAD/OPTIONS) must also send the session's CSRF
 * token in X-CSRF-Token, else 403: another site can make a browser send the cookie, not the header.
 */
export async function requireSession(req: FastifyRequest, auth: AuthService): Promise<{ principal: Principal; session: SessionRow; token: string }> {
  const token = sessionToken(req);
  if (!token) {
    auth.failures.check(req.ip);
    throw new AppError('unauthorized', 'Not signed in; sign in with POST /api/v1/session {"email", "password"}.');
  }
  let found;
  try {
    found = await auth.sessions.authenticate(token, req.ip);
  } catch (err) {
    if (err instanceof AppError && err.code === 'unauthorized') {
      throw new AppError(err.code, err.message, { headers: { 'set-cookie': clearCookie(overHttps(req)) } });
    }
    throw err;
  }
  if (!SAFE_METHODS.has(req.method) && !auth.sessions.csrfMatches(token, req.headers[CSRF_HEADER])) {
    throw new AppError('forbidden', 'Requests made with the dashboard session must send its CSRF token in the X-CSRF-Token header (GET /api/v1/session gives it).');
  }
  return { ...found, token };
}

/**
 * The caller of an account API: an API token in `Authorization: Bearer`, else a dashboard session
 * cookie (with its CSRF header on changes); 401 otherwise. A bearer token wins over a cookie.
 */
export async function requireToken(req: FastifyRequest, auth: AuthService): Promise<Principal> {
  const token = bearer(req);
  if (token) return auth.authenticateToken(token, req.ip);
  if (sessionToken(req)) return (await requireSession(req, auth)).principal;
  auth.failures.check(req.ip);
  throw new AppError('unauthorized', 'Send an API token as "Authorization: Bearer rs_…" (or sign in to the dashboard).');
}
