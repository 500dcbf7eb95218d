/**
 * buildApp(): the Fastify application with every route module and the one error handler. It does
 * not listen; main.ts does, and tests call it directly.
 */
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { authRoutes } from './auth/routes.ts';
import { sessionRoutes } from './auth/session-routes.ts';
import type { AuthService } from './auth/service.ts';
import { catalogRoutes } from './catalog/routes.ts';
import { compatRoutes } from './compat/index.ts';
import type { Ingest } from './collector/ingest.ts';
import { collectorRoutes } from './collector/routes.ts';
import type { EventWriter } from './collector/writer.ts';
import type { Config } from './config.ts';
import type { Mailer } from './delivery/email.ts';
import { AppError } from './errors.ts';
import { eventRoutes } from './events/routes.ts';
import type { LinkSigner } from './exports/links.ts';
import { exportRoutes } from './exports/routes.ts';
import { scheduleRoutes } from './exports/schedule-routes.ts';
import type { ExportService } from './exports/service.ts';
import { reportRoutes } from './reports/routes.ts';
import type { ReportService } from './reports/service.ts';
import { docsRoutes } from './http/docs.ts';
import { sdkRoutes } from './http/sdk.ts';
import { malformed } from './http/wellformed.ts';
import { utf8JsonParser } from './http/json-body.ts';
import { clientErrorHandler } from './http/client-error.ts';
import { dashboardRoutes } from './dashboard/routes.ts';
import type { AuditLog } from './privacy/audit.ts';
import type { ViewerPolicy } from './privacy/policy.ts';
import type { RetentionService } from './privacy/retention.ts';
import { privacyRoutes } from './privacy/routes.ts';
import type { PrivacyService } from './privacy/service.ts';
import { statsRoutes } from './stats/routes.ts';
import type { Logger } from './logger.ts';
import type { StatsService } from './metrics/stats.ts';
import type { Store } from './storage/types.ts';

export interface AppDeps {
  config: Readonly<Config>;
  log: Logger;
  store: Store;
  auth: AuthService;
  writer: EventWriter;
  ingest: Ingest;
  stats: StatsService;
  exportService: ExportService;
  reportService: ReportService;
  signer: LinkSigner;
  /** Export and report emails; null when REELSTAT_SMTP_URL is unset. */
  mailer: Mailer | null;
  now: () => number;
  policy: ViewerPolicy;
  privacy: PrivacyService;
  retention: RetentionService;
  audit: AuditLog;
}

export interface App {
  fastify: FastifyInstance;
  /** Stops taking requests (503), waits for those in flight and for pending writes, then closes. */
  drain(graceMs: number): Promise<void>;
}

function toAppError(err: FastifyError): AppError {
  if (err instanceof AppError) return err;
  if (err.validation) {
    // An enum says what it accepts (ajv's message does not).
    const allowed = err.validation.find((v) => v.keyword === 'enum')?.params?.allowedValues;
    return new AppError('validation_failed', `${err.message}${Array.isArray(allowed) ? `: ${allowed.join(', ')}` : ''}.`);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'The body is larger than this route accepts (1 MiB at most; 64 KiB for form-encoded bodies).');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'Send application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid_body', `The body is not valid JSON: ${err.message}`);
    case 'FST_ERR_BAD_URL':
      return new AppError('bad_request', 'The path is not valid: a percent-encoded byte sequence is not UTF-8.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('bad_request', 'A path segment is longer than 2,048 characters.');
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new AppError('bad_request', err.message);
  return new AppError('internal');
}

export async function buildApp(deps: AppDeps): Promise<App> {
  const { config } = deps;
  const fastify: FastifyInstance = Fastify({
    loggerInstance: deps.log as unknown as FastifyBaseLogger,
    trustProxy: config.trustProxy,
    // Path parameters carry client ids (a userId is up to 128 characters, URL-encoded up to 12 bytes each).
    routerOptions: { maxParamLength: 2048 },
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // JSON keys that could pollute prototypes are dropped (valid JSON; "not valid JSON" misled), as
    // the Contentsquare form parser drops them.
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    forceCloseConnections: false,
    ajv: { customOptions: { coerceTypes: 'array', useDefaults: true, removeAdditional: false } },
    // Errors of the router (a path that does not decode, a segment too long) in the error table's shape.
    frameworkErrors: (err, req, reply) => {
      const e = toAppError(err);
      req.log.debug({ code: err.code }, 'request refused by the router');
      void (reply as unknown as FastifyReply).code(e.status).send(e.body());
    },
    // And those of Node's HTTP parser (headers too large, not HTTP): client-error.ts.
    clientErrorHandler,
  });
  // Bodies are JSON (or, for the Contentsquare token and jobs, form-encoded; the collector takes any
  // type as text in its own scope): a JSON body sent as text/plain gets a 415, not "body must be object".
  fastify.removeContentTypeParser('text/plain');
  // JSON bodies are UTF-8: another charset is a 415, bytes that are not UTF-8 a 400 (json-body.ts).
  utf8JsonParser(fastify);
  // Every parsed body holds well-formed text, nested a bounded depth (wellformed.ts). A query string
  // cannot: it is flat, and its percent-encoded UTF-8 never decodes to a lone surrogate. Nor can a
  // body kept as text (the collector's, up to 1 MiB a request): decoded UTF-8 holds no lone surrogate.
  fastify.addHook('preValidation', async (req) => {
    if (typeof req.body !== 'object' || req.body === null) return;
    const problem = malformed(req.body, 'body');
    if (problem) throw new AppError('validation_failed', `${problem}.`);
  });

  let draining = false;
  let inFlight = 0;
  fastify.addHook('onRequest', async (_req, reply) => {
    if (draining) {
      reply.header('Connection', 'close');
      throw new AppError('shutting_down', 'The server is shutting down; retry in a moment.', { retryAfter: 5 });
    }
    inFlight++;
    (reply as unknown as { __counted: boolean }).__counted = true;
  });
  fastify.addHook('onResponse', async (req, reply) => {
    if ((reply as unknown as { __counted?: boolean }).__counted) inFlight--;
    // Logged without the query string: it may hold a write key or an export UID.
    if (reply.statusCode >= 500) req.log.warn({ method: req.method, path: req.url.split('?')[0], status: reply.statusCode }, 'request failed');
    else req.log.debug({ method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: reply.elapsedTime }, 'request');
  });

  fastify.setErrorHandler((err: FastifyError, req, reply) => {
    const e = toAppError(err);
    if (e.status >= 500 && e.code === 'internal') req.log.error({ err }, 'unhandled error');
    if (e.extra.retryAfter) reply.header('Retry-After', String(e.extra.retryAfter));
    for (const [k, v] of Object.entries(e.extra.headers ?? {})) reply.header(k, v);
    return reply.code(e.status).send(e.body());
  });
  fastify.setNotFoundHandler((req, reply) =>
    reply.code(404).send(new AppError('not_found', `No route ${req.method} ${req.url.split('?')[0]}; see /api/v1/docs.`).body()),
  );

  await fastify.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Reelstat API', version: '1', description: 'Self-hosted video analytics: collector, catalog, stats, exports and vendor-compatible dialects. ' +
        'Request bodies are JSON in UTF-8 (bytes that are not UTF-8: 400; another charset, unless the text is all ASCII: 415), ' +
        'well-formed Unicode (no lone surrogate: 400), nested at most 32 levels; the collector takes any content type as UTF-8 text and refuses an event with a lone surrogate or deeper data on its own.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          basic: { type: 'http', scheme: 'basic' },
          session: { type: 'apiKey', in: 'cookie', name: 'reelstat_session', description: 'Dashboard sign-in (POST /api/v1/session); changes also need X-CSRF-Token' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
  });

  fastify.get('/healthz', { schema: { summary: 'Answers 200 when the server can take writes', tags: ['health'] } }, async (_req, reply) => {
    if (draining) return reply.code(503).send({ status: 'draining' });
    try {
      if (!deps.writer.healthy) throw new Error('last commit failed');
      await deps.store.checkWritable();
      return { status: 'ok', engine: deps.store.engine, queuedEvents: deps.writer.queuedEvents };
    } catch {
      return reply.code(503).send({ status: 'unavailable', error: { code: 'storage_unavailable', message: 'The store cannot take writes.' } });
    }
  });

  await fastify.register(collectorRoutes, deps);
  await fastify.register(authRoutes, deps);
  await fastify.register(sessionRoutes, deps);
  await fastify.register(catalogRoutes, deps);
  await fastify.register(eventRoutes, deps);
  await fastify.register(statsRoutes, deps);
  await fastify.register(compatRoutes, deps);
  await fastify.register(exportRoutes, deps);
  await fastify.register(scheduleRoutes, deps);
  await fastify.register(reportRoutes, deps);
  await fastify.register(privacyRoutes, deps);
  await fastify.register(docsRoutes);
  await fastify.register(sdkRoutes, deps);
  await fastify.register(dashboardRoutes);
  await fastify.ready();

  return {
    fastify,
    async drain(graceMs) {
      draining = true;
      const until = Date.now() + graceMs;
      while (inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      await deps.writer.drain();
      await fastify.close();
    },
  };
}
