/** Reading credentials off a request. Routes call these; the AuthService does the checking. */
import type { FastifyRequest } from 'fastify';
import type { AuthService, Principal } from '../auth/service.ts';
import { AppError } from '../errors.ts';

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

/** An API token in `Authorization: Bearer`; 401 otherwise. */
export async function requireToken(req: FastifyRequest, auth: AuthService): Promise<Principal> {
  const token = bearer(req);
  if (!token) {
    auth.failures.check(req.ip);
    throw new AppError('unauthorized', 'Send an API token as "Authorization: Bearer rs_…".');
  }
  return auth.authenticateToken(token, req.ip);
}
