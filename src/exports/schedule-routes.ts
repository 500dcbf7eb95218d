/** /api/v1/scheduled-exports: create, list, read, pause, resume, delete, and the delivery log. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/service.ts';
import type { Config } from '../config.ts';
import type { Mailer } from '../delivery/email.ts';
import { requireToken } from '../http/auth.ts';
import { NoContent, PageQuery } from '../http/schemas.ts';
import type { Store } from '../storage/types.ts';
import { ScheduleService } from './schedules.ts';
import { RunView } from './schemas.ts';
import { DEVICE_LABELS, type ExportService } from './service.ts';
import { SCOPES } from './fields.ts';

const Str = Type.String();
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()]);

const Destination = Type.Object({
  webhook: Type.Optional(Type.String({ description: 'https://… — receives a signed POST (Standard Webhooks) per completed run' })),
  email: Type.Optional(Type.String({ description: 'name@example.com — receives the download links (needs REELSTAT_SMTP_URL)' })),
}, { description: 'Exactly one of webhook or email' });

const CreateBody = Type.Object({
  frequency: Type.Union([Type.Literal('hourly'), Type.Literal('daily'), Type.Literal('weekly')], { description: 'Each run exports the UTC hour, UTC day or Monday–Sunday UTC week that just ended' }),
  delivery: Destination,
  delayMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 10080, default: 0, description: 'Run this many minutes after the period ends (e.g. 240: daily at 04:00 UTC)' })),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  scope: Type.Optional(Type.String({ enum: SCOPES, description: 'events (default), views, sessions (one row a session), videos (one row a catalog entry with its metrics)' })),
  types: Type.Optional(Type.Array(Str, { description: 'For the events scope: events, quality, ads' })),
  format: Type.Optional(Type.String({ description: 'csv, jsonl (default), json, parquet, xlsx' })),
  fields: Type.Optional(Type.Array(Type.Union([Str, Type.Object({ fieldName: Str, aliasName: Type.Optional(Str) })]), { description: 'See GET /api/v1/fields?scope=…' })),
  filters: Type.Optional(Type.Object({
    contentId: Type.Optional(Str), projectId: Type.Optional(Str), folder: Type.Optional(Str), userId: Type.Optional(Str),
    sessionId: Type.Optional(Str), deviceType: Type.Optional(Str), country: Type.Optional(Str),
    deviceLabel: Type.Optional(Type.String({ enum: [...DEVICE_LABELS], description: 'all (no filter), desktop, mobile (smartphones) or tablet, from the platform' })),
  }, { description: 'In the sessions scope a session is the period\'s by its first record; filters choose the records its row sums (a session with none chosen has no row)' })),
  gzip: Type.Optional(Type.Boolean()),
  zip: Type.Optional(Type.Boolean()),
  bom: Type.Optional(Type.Boolean({ description: 'CSV only: start each file with a UTF-8 byte order mark, so that Excel reads it as UTF-8' })),
});

const Schedule = Type.Object({
  id: Str,
  name: Nullable(Str),
  frequency: Str,
  state: Type.String({ description: 'active, paused, or disabled (paused because the receiver answered 410 Gone; resume to re-enable)' }),
  disabledReason: Nullable(Str),
  createdAt: Type.String({ format: 'date-time' }),
  delayMinutes: Type.Number(),
  scope: Type.Optional(Str),
  format: Type.Optional(Str),
  types: Type.Optional(Type.Array(Str)),
  fields: Type.Optional(Type.Array(Type.Unknown())),
  filters: Type.Optional(Type.Unknown()),
  gzip: Type.Boolean(),
  zip: Type.Boolean(),
  bom: Type.Boolean(),
  delivery: Type.Union([Destination, Type.Null()], { description: 'null for a job of the Contentsquare dialect (see dialect)' }),
  dialect: Type.Union([Str, Type.Null()], { description: 'contentsquare for a job made through the Contentsquare dialect (POST /v1/exports: it has no delivery, its client reads its runs at GET /v1/exports/{id}/runs), else null' }),
  nextRunAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the next run is due (in the past while catching up)' })),
});

const Created = Type.Composite([Schedule, Type.Object({
  secret: Type.Optional(Type.String({ description: 'Webhook signing secret (whsec_…), shown only in this answer: keep it to verify webhook-signature' })),
})]);

const Attempt = Type.Object({
  deliveryId: Type.String({ description: 'Also the webhook-id header of every attempt of this delivery' }),
  runId: Str,
  attempt: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  statusCode: Nullable(Type.Integer()),
  error: Nullable(Str),
  durationMs: Type.Integer(),
  outcome: Type.String({ description: 'delivered, retry, failed (gave up after 24 h), disabled (410 Gone)' }),
  nextAttemptAt: Nullable(Str),
});

const Run = Type.Composite([
  Type.Object({ id: Str, createdAt: Type.String({ format: 'date-time' }) }),
  RunView,
  Type.Object({
    delivery: Type.Union([Type.Object({
      id: Str, channel: Str, status: Type.String({ description: 'pending, delivered, failed, cancelled' }), attemptCount: Type.Integer(),
      lastError: Nullable(Str), nextAttemptAt: Nullable(Str), finishedAt: Nullable(Str), attempts: Type.Array(Attempt),
    }), Type.Null()]),
  }),
]);

const Detail = Type.Composite([Schedule, Type.Object({ runs: Type.Array(Run) })]);
const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const Page = PageQuery(1000, 100);

export interface ScheduleRouteDeps {
  config: Readonly<Config>;
  auth: AuthService;
  store: Store;
  exportService: ExportService;
  mailer: Mailer | null;
  now: () => number;
}

export async function scheduleRoutes(app: FastifyInstance, deps: ScheduleRouteDeps): Promise<void> {
  const { auth } = deps;
  const schedules = new ScheduleService({ store: deps.store, exportService: deps.exportService, mailer: deps.mailer, allowPrivateWebhooks: deps.config.allowPrivateWebhooks, now: deps.now });
  const tags = ['scheduled exports'];
  const base = '/api/v1/scheduled-exports';

  app.post(base, {
    schema: {
      summary: 'Create a scheduled export (answers 201 with the webhook secret, shown once)', tags,
      description: 'Every hour, day or week (UTC; weeks Monday to Sunday) the period that just ended is exported and delivered: a webhook gets a POST ' +
        '{"type":"export.completed","exportId","scheduleId","period":{"from","to"},"rows","files":[{"name","url","size","rows","sha256","expiresAt"}]} signed as ' +
        'Standard Webhooks does (webhook-id, webhook-timestamp, webhook-signature = v1,base64(HMAC-SHA256(key, id.timestamp.body)), where key is ' +
        'the base64-decoded part of the secret after whsec_), retried with ' +
        'backoff for 24 h (Retry-After honoured; 410 Gone disables the schedule); an email gets the download links. Periods missed while the server ' +
        'was down run when it comes back, each once. Private and loopback webhook addresses are refused unless REELSTAT_ALLOW_PRIVATE_WEBHOOKS=1.',
      body: CreateBody,
      response: { 201: Created },
    },
    // The body is checked by the service, whose messages name the field and what it accepts; the
    // schema above documents it.
    validatorCompiler: () => () => true,
  }, async (req, reply) => {
    const p = await requireToken(req, auth);
    return reply.code(201).send(await schedules.create(p.accountId, req.body));
  });

  app.get(base, {
    schema: { summary: 'Scheduled exports, newest first', tags, querystring: Page, response: { 200: Type.Object({ data: Type.Array(Schedule) }) } },
  }, async (req) => {
    const p = await requireToken(req, auth);
    return { data: await schedules.list(p.accountId, req.query as { limit: number; offset: number }) };
  });

  app.get(`${base}/:id`, {
    schema: { summary: 'A scheduled export with its recent runs, their files and every delivery attempt', tags, params: IdParam, response: { 200: Detail } },
  }, async (req) => {
    const p = await requireToken(req, auth);
    return schedules.get(p.accountId, (req.params as { id: string }).id);
  });

  app.post(`${base}/:id/pause`, {
    schema: { summary: 'Pause: no new runs until resumed (deliveries already due still go out)', tags, params: IdParam, response: { 200: Detail } },
  }, async (req) => {
    const p = await requireToken(req, auth);
    return schedules.pause(p.accountId, (req.params as { id: string }).id);
  });

  app.post(`${base}/:id/resume`, {
    schema: { summary: 'Resume (also re-enables a schedule disabled by 410 Gone); periods that ended while paused are skipped', tags, params: IdParam, response: { 200: Detail } },
  }, async (req) => {
    const p = await requireToken(req, auth);
    return schedules.resume(p.accountId, (req.params as { id: string }).id);
  });

  app.delete(`${base}/:id`, {
    schema: { summary: 'Delete: pending runs and deliveries are cancelled', tags, params: IdParam, response: { 204: NoContent } },
  }, async (req, reply) => {
    const p = await requireToken(req, auth);
    await schedules.remove(p.accountId, (req.params as { id: string }).id);
    return reply.code(204).send();
  });

  app.get(`${base}/:id/deliveries`, {
    schema: {
      summary: 'Every delivery attempt of a scheduled export, newest first: time, HTTP status or error, duration, next attempt', tags,
      params: IdParam, querystring: Page, response: { 200: Type.Object({ data: Type.Array(Attempt) }) },
    },
  }, async (req) => {
    const p = await requireToken(req, auth);
    return { data: await schedules.attempts(p.accountId, (req.params as { id: string }).id, req.query as { limit: number; offset: number }) };
  });
}
