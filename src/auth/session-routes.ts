/** Dashboard sign-in: POST/GET/DELETE /api/v1/session, a session cookie instead of a token. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { overHttps, requireSession } from '../http/auth.ts';
import type { SessionRow, Store } from '../storage/types.ts';
import type { AuthService } from './service.ts';
import { clearCookie, sessionCookie } from './sessions.ts';

const SessionView = Type.Object({
  id: Type.String(),
  user: Type.Object({ email: Type.String() }),
  account: Type.Object({ id: Type.String(), name: Type.String() }),
  csrfToken: Type.String({ description: 'Send it as X-CSRF-Token with every request that changes something (POST, PUT, DELETE) made with the cookie' }),
  expiresAt: Type.String({ format: 'date-time' }),
});

export async function sessionRoutes(app: FastifyInstance, deps: { auth: AuthService; store: Store }): Promise<void> {
  const { auth, store } = deps;
  const tags = ['session'];

  async function view(session: SessionRow, csrfToken: string) {
    const [account, users] = await Promise.all([store.accounts.get(session.accountId), store.users.list(session.accountId)]);
    return {
      id: session.id,
      user: { email: users.find((u) => u.id === session.userId)?.email ?? '' },
      account: { id: session.accountId, name: account?.name ?? '' },
      csrfToken,
      expiresAt: new Date(session.expiresAt).toISOString(),
    };
  }
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  app.post('/api/v1/session', {
    schema: {
      summary: 'Sign in to the dashboard with a user\'s email and password',
      description: 'Sets the session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) valid REELSTAT_SESSION_TTL seconds (7 days). ' +
        'Wrong credentials answer 401 and count as failed authentications of the address (429 past REELSTAT_AUTH_MAX_FAILURES). ' +
        'The existing API routes accept the cookie as the account\'s credential; requests that change something must send X-CSRF-Token.',
      tags, security: [],
      body: Type.Object({ email: Type.String({ minLength: 1, maxLength: 320 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }),
      response: { 201: SessionView },
    },
  }, async (req, reply) => {
    const { email, password } = req.body as { email: string; password: string };
    const { user } = await auth.authenticatePassword(email, password, req.ip);
    const made = await auth.sessions.create(user.accountId, user.id);
    reply.header('set-cookie', sessionCookie(made.token, Math.floor(auth.sessions.ttlMs / 1000), overHttps(req)));
    return noStore(reply).code(201).send(await view(made.session, made.csrfToken));
  });

  app.get('/api/v1/session', {
    schema: { summary: 'The signed-in user, account and CSRF token of the session cookie', tags, response: { 200: SessionView } },
  }, async (req, reply) => {
    const { session, token } = await requireSession(req, auth);
    return noStore(reply).send(await view(session, auth.sessions.csrfToken(token)));
  });

  app.delete('/api/v1/session', {
    schema: { summary: 'Sign out: the session ends and its cookie is cleared (needs X-CSRF-Token)', tags },
  }, async (req, reply) => {
    const { session } = await requireSession(req, auth);
    await auth.sessions.destroy(session);
    return reply.header('set-cookie', clearCookie(overHttps(req))).code(204).send();
  });
}
