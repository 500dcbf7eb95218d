/** POST /api/v1/collect: parse, authorize, rate-limit, ingest, answer. CORS open to every origin. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService, Principal } from '../auth/service.ts';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { bearer } from '../http/auth.ts';
import type { ViewerPolicy } from '../privacy/policy.ts';
import type { Ingest } from './ingest.ts';
import { parseCollectBody } from './parse.ts';
import { utf8Text } from '../http/json-body.ts';
import { RateLimiter } from './ratelimit.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

function cors(reply: FastifyReply): void {
  reply.header('Access-Control-Allow-Origin', '*');
  reply.header('Access-Control-Allow-Methods', 'POST, OPTIONS');
  reply.header('Access-Control-Allow-Headers', 'Content-Type, Authorization, X-Reelstat-Key');
  reply.header('Access-Control-Max-Age', '86400');
  // Cross-origin scripts (the SDK) can read only safelisted headers unless told: they need Retry-After.
  reply.header('Access-Control-Expose-Headers', 'Retry-After');
}

const collectResponse = {
  type: 'object',
  properties: {
    accepted: { type: 'integer' },
    duplicates: { type: 'integer' },
    rejected: {
      type: 'array',
      items: { type: 'object', properties: { index: { type: 'integer' }, field: { type: 'string' }, error: { type: 'string' } } },
    },
  },
} as const;

export interface CollectorDeps {
  config: Readonly<Config>;
  auth: AuthService;
  ingest: Ingest;
  policy: ViewerPolicy;
}

/**
 * The store failing under a read the collector needs (credentials, retention) — a full disk that
 * invalidated the database, say: 503 with Retry-After, like a failed commit, not a 500.
 */
async function storeRead<T>(req: FastifyRequest, read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof AppError) throw err;
    req.log.error({ err }, 'collector could not read the store');
    throw new AppError('storage_unavailable', 'The store cannot be read right now; nothing was stored. Retry later with the same ids.', { retryAfter: 5 });
  }
}

export async function collectorRoutes(app: FastifyInstance, deps: CollectorDeps): Promise<void> {
  const { auth, ingest, config, policy } = deps;
  const accountLimit = new RateLimiter(config.collector.accountRate, config.collector.accountRate * 2, 'events per account');
  const ipLimit = new RateLimiter(config.collector.ipRate, config.collector.ipRate * 2, 'requests per address');

  // Every body is read as UTF-8 text here, whatever its type (utf8Text: bytes that are not UTF-8 are
  // a 400, as everywhere; they were stored as U+FFFD); the forms are told apart by parseCollectBody.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));

  app.addHook('onSend', async (_req, reply) => cors(reply));

  app.options('/api/v1/collect', { schema: { hide: true } }, async (_req, reply) => reply.code(204).send());

  app.post('/api/v1/collect', {
    bodyLimit: MAX_BODY_BYTES,
    schema: {
      summary: 'Send player events',
      description:
        'Body: {"writeKey", "events": [...]}, a JSON array of events, one event object, or NDJSON (application/x-ndjson); ' +
        'text/plain (sendBeacon) is read as JSON. At most 1 MiB and 1000 events. Authenticated by a write key (body, ?writeKey= or ' +
        'X-Reelstat-Key) or an API token (Bearer). Answers 202 only after the accepted events are durable.',
      tags: ['collector'],
      querystring: { type: 'object', properties: { writeKey: { type: 'string' } } },
      response: { 202: collectResponse },
    },
  }, async (req, reply) => {
    ipLimit.take(req.ip);
    const raw = Buffer.isBuffer(req.body) ? utf8Text(req.headers['content-type'], req.body, 'events') : '';
    const body = parseCollectBody(raw, req.headers['content-type'] ?? '');
    const token = bearer(req);
    const key = (req.headers['x-reelstat-key'] as string | undefined) ?? (req.query as { writeKey?: string }).writeKey ?? body.writeKey;
    let principal: Principal;
    if (token) principal = await storeRead(req, auth.authenticateToken(token, req.ip));
    else if (key) principal = await storeRead(req, auth.authenticateWriteKey(key, req.ip));
    else {
      auth.failures.check(req.ip);
      throw new AppError('unauthorized', 'Send a write key (body "writeKey", ?writeKey= or X-Reelstat-Key) or an API token (Authorization: Bearer).');
    }
    accountLimit.take(principal.accountId, body.items.length);
    const result = await ingest({
      principal,
      items: body.items,
      ip: req.ip,
      userAgent: req.headers['user-agent'] ?? null,
      retentionDays: await storeRead(req, policy.rawDays(principal.accountId)),
      suppressed: await storeRead(req, policy.refusal(principal.accountId)),
    });
    return reply.code(202).send(result);
  });
}
