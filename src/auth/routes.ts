/** The admin bootstrap and an account's own credentials. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { bearer, requireToken } from '../http/auth.ts';
import { NoContent } from '../http/schemas.ts';
import type { CredentialKind, Store } from '../storage/types.ts';
import { safeEqual } from './secrets.ts';
import type { AuthService } from './service.ts';

const Credential = Type.Object({
  id: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  prefix: Type.String({ description: 'First characters of the secret, to recognise it' }),
  createdAt: Type.String({ format: 'date-time' }),
  clientId: Type.Optional(Type.String()),
});
/** The optional {"name"} body of credential creation (the body itself may be absent). */
function optionalName(body: unknown): string | null {
  if (body === undefined || body === null || body === '') return null;
  const name = (body as { name?: unknown }).name;
  if (typeof body !== 'object' || (name !== undefined && (typeof name !== 'string' || name.length < 1 || name.length > 200))) {
    throw new AppError('validation_failed', 'name: expected a string of 1 to 200 characters, or no body at all.');
  }
  return (name as string | undefined) ?? null;
}
const IdParam = Type.Object({ id: Type.String({ maxLength: 64 }) });
const Email = Type.String({ format: 'email', maxLength: 320 });
const Password = Type.String({ minLength: 8, maxLength: 1024, description: 'At least 8 characters' });

/** What creating a credential answers: the credential and, this once, its secret (and an OAuth client's client_id). */
function Created(field: string, kind: CredentialKind) {
  const secret = Type.Object({
    [field]: Type.String({ description: 'The secret, shown only in this answer' }),
    ...(kind === 'oauth_client' ? { client_id: Type.String({ description: 'The client id to send with the secret (also as clientId)' }) } : {}),
  });
  return Type.Composite([Credential, secret], { description: 'Created' });
}

const KINDS: Array<{ path: string; kind: CredentialKind; label: string; field: string }> = [
  { path: 'tokens', kind: 'api_token', label: 'API token', field: 'token' },
  { path: 'write-keys', kind: 'write_key', label: 'write key', field: 'writeKey' },
  { path: 'oauth-clients', kind: 'oauth_client', label: 'OAuth client', field: 'client_secret' },
];

export async function authRoutes(app: FastifyInstance, deps: { config: Readonly<Config>; auth: AuthService; store: Store }): Promise<void> {
  const { auth, config, store } = deps;

  app.post('/api/v1/admin/accounts', {
    schema: {
      summary: 'Create an account (admin)',
      description: 'Needs Authorization: Bearer $REELSTAT_ADMIN_TOKEN. Answers the new account with its credentials, shown only this once.',
      tags: ['admin'],
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), email: Email, password: Password }),
      response: {
        201: Type.Object({
          id: Type.String(), name: Type.String(), uid: Type.String({ description: 'Export UID (Cincopa-compatible CSV)' }),
          writeKey: Type.String(), apiToken: Type.String(), users: Type.Array(Type.Object({ email: Type.String() })),
        }, { description: 'Created: the account with its credentials, shown only this once' }),
      },
    },
    // The token before the body: a caller without it learns nothing of the schema, and every try counts.
    preValidation: async (req: FastifyRequest) => {
      if (!config.adminToken) throw new AppError('not_found', 'The admin API is off; start the server with REELSTAT_ADMIN_TOKEN set to enable it.');
      auth.failures.check(req.ip);
      const token = bearer(req);
      if (!token || !safeEqual(token, config.adminToken)) {
        auth.failures.fail(req.ip);
        throw new AppError('unauthorized', 'Send the admin token as "Authorization: Bearer $REELSTAT_ADMIN_TOKEN".');
      }
    },
  }, async (req, reply) => {
    const body = req.body as { name: string; email: string; password: string };
    return reply.code(201).send(await auth.createAccount(body));
  });

  app.get('/api/v1/account', {
    schema: { summary: 'The account of the token', tags: ['account'] },
  }, async (req) => {
    const p = await requireToken(req, auth);
    const a = (await store.accounts.get(p.accountId))!;
    const users = await store.users.list(p.accountId);
    return {
      id: a.id, name: a.name, createdAt: new Date(a.createdAt).toISOString(), exportUidEnabled: a.uidEnabled,
      rawRetentionDays: a.rawRetentionDays, users: users.map((u) => ({ email: u.email })),
    };
  });

  for (const { path, kind, label, field } of KINDS) {
    app.get(`/api/v1/${path}`, {
      schema: { summary: `List ${label}s`, tags: ['account'], response: { 200: Type.Object({ data: Type.Array(Credential) }) } },
    }, async (req) => ({ data: await auth.listCredentials((await requireToken(req, auth)).accountId, kind) }));

    app.post(`/api/v1/${path}`, {
      schema: {
        summary: `Create a ${label} (its secret is shown only in this answer)`, tags: ['account'],
        description: 'Optional JSON body {"name": "…"} (1–200 characters).',
        response: { 201: Created(field, kind) },
      },
    }, async (req, reply) => {
      const p = await requireToken(req, auth);
      const made = await auth.createCredential(p.accountId, kind, optionalName(req.body));
      const out: Record<string, unknown> = { ...made.view, [field]: made.secret };
      if (made.clientId) out.client_id = made.clientId;
      return reply.code(201).send(out);
    });

    app.delete(`/api/v1/${path}/:id`, {
      schema: { summary: `Revoke a ${label}`, tags: ['account'], params: IdParam, response: { 204: NoContent } },
    }, async (req, reply) => {
      const p = await requireToken(req, auth);
      await auth.revokeCredential(p.accountId, kind, (req.params as { id: string }).id);
      return reply.code(204).send();
    });
  }

  app.post('/api/v1/export-uid', {
    schema: {
      summary: 'Rotate the export UID (the old one stops working); enables it when disabled', tags: ['account'],
      response: { 201: Type.Object({ uid: Type.String({ description: 'The new export UID' }) }, { description: 'Created' }) },
    },
  }, async (req, reply) => {
    const p = await requireToken(req, auth);
    return reply.code(201).send({ uid: await auth.rotateUid(p.accountId) });
  });

  app.delete('/api/v1/export-uid', {
    schema: { summary: 'Disable the export UID (Cincopa-compatible CSV) until rotated again', tags: ['account'], response: { 204: NoContent } },
  }, async (req, reply) => {
    await auth.disableUid((await requireToken(req, auth)).accountId);
    return reply.code(204).send();
  });

  app.post('/api/v1/account/users', {
    schema: {
      summary: 'Add a dashboard user to the account', tags: ['account'], body: Type.Object({ email: Email, password: Password }),
      response: { 201: Type.Object({ email: Type.String({ description: 'The new user\'s email, lower-cased' }) }, { description: 'Created' }) },
    },
  }, async (req, reply) => {
    const p = await requireToken(req, auth);
    const { email, password } = req.body as { email: string; password: string };
    return reply.code(201).send(await auth.createUser(p.accountId, email, password));
  });
}
