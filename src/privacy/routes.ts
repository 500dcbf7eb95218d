/** Per-viewer export and erasure, suppression, retention settings and the audit log. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/service.ts';
import { requireToken } from '../http/auth.ts';
import { PageQuery, Pending } from '../http/schemas.ts';
import { acceptEmptyJsonBody, OPTIONAL_BODY } from '../http/optional-body.ts';
import type { AuditLog } from './audit.ts';
import type { RetentionService } from './retention.ts';
import type { PrivacyService } from './service.ts';

export interface PrivacyRouteDeps {
  auth: AuthService;
  privacy: PrivacyService;
  retention: RetentionService;
  audit: AuditLog;
}

const UserParams = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 128, description: 'The viewer\'s userId as sent on events, URL-encoded' }) });
const Days = (what: string) => Type.Integer({ minimum: 1, maximum: 36_500, description: what });
const Settings = Type.Object({
  rawDays: Days('Raw events: days after their timestamp (default 90). Older events are also refused at collect.'),
  aggregateDays: Days('View records and daily rollups: days after the record started, whole UTC days (default 730); at least rawDays'),
  exportFileDays: Days('Export and report files: days after they were written (default 7); their links end with them'),
});
const Removed = Type.Object({
  events: Type.Integer(), viewRecords: Type.Integer(), sessions: Type.Integer(), rebuiltRecordsOfOtherViewers: Type.Integer(),
  exportFiles: Type.Array(Type.Object({ exportId: Type.String(), runId: Type.String(), files: Type.Array(Type.String()), action: Type.String() })),
  exportJobs: Type.Array(Type.Object({ exportId: Type.String(), action: Type.String() })),
});

export async function privacyRoutes(app: FastifyInstance, deps: PrivacyRouteDeps): Promise<void> {
  const { auth, privacy, retention, audit } = deps;
  acceptEmptyJsonBody(app);

  app.post('/api/v1/users/:userId/export', {
    ...OPTIONAL_BODY,
    schema: {
      ...OPTIONAL_BODY.schema,
      summary: 'Export everything of one viewer: profile.json and every event attributed to them (answers 202; poll GET /api/v1/exports/{id})', tags: ['privacy'],
      description: 'Attributed to the viewer: events with this userId, and events without a userId in the sessions where it appears. ' +
        'profile.json holds first and last seen, sessions, devices, the viewer details sent on events and the totals by the metric rules. ' +
        'Body (optional: none, an empty one and {} are alike): {"format": "jsonl" (default)|"json"|"csv"|"xlsx"|"parquet", "fields", "types", "gzip", "zip", "bom"} as for POST /api/v1/exports. ' +
        'The run, its parts and signed links are those of any export. Recorded in the audit log.',
      params: UserParams,
      body: Type.Object({}, { additionalProperties: true }),
      response: { 202: Pending },
    },
  }, async (req, reply) => {
    const who = await requireToken(req, auth);
    const { userId } = req.params as { userId: string };
    return reply.code(202).send(await privacy.requestExport(who, userId, req.body as Record<string, unknown>));
  });

  app.delete('/api/v1/users/:userId', {
    schema: {
      summary: 'Erase one viewer: raw events, view records, rollup contributions, stored export files holding them', tags: ['privacy'],
      description: 'Deletes the events attributed to the viewer and the view records of their sessions (records of other viewers in those sessions ' +
        'are rebuilt from their own events), subtracts them from the daily rollup, deletes every stored export file holding them (listed in the ' +
        'answer; their links then answer 410), scrubs the userId from export jobs naming it, and compacts the database so the deleted bytes are ' +
        'gone from its files ("purged": false means the database was busy and the next retention sweep does it). With ?suppress=true the ' +
        'viewer\'s new events are refused at collect (lift with DELETE /api/v1/users/{userId}/suppression). Only a keyed hash of the userId ' +
        '("subject") is kept, in the audit log and the suppression list. An erasure that failed half-way (a 5xx) is finished by ' +
        'sending it again: where it found the viewer\'s data is kept until it ends, so files holding events it already deleted are still ' +
        'found; that answer has "resumed": true.',
      params: UserParams,
      querystring: Type.Object({ suppress: Type.Boolean({ default: false }) }),
      response: {
        200: Type.Object({
          subject: Type.String(), erasedAt: Type.String({ format: 'date-time' }), removed: Removed, suppressed: Type.Boolean({ description: 'Whether the collector refuses the viewer\'s events now (this ?suppress=true or an earlier one)' }), purged: Type.Boolean(), auditId: Type.String(),
          resumed: Type.Optional(Type.Boolean({ description: 'true when this request finished an erasure of the viewer that had failed half-way' })),
        }),
      },
    },
  }, async (req) => {
    const who = await requireToken(req, auth);
    const { userId } = req.params as { userId: string };
    return privacy.erase(who, userId, { suppress: (req.query as { suppress: boolean }).suppress });
  });

  app.delete('/api/v1/users/:userId/suppression', {
    schema: { summary: 'Accept a suppressed viewer\'s events again', tags: ['privacy'], params: UserParams, response: { 204: Type.Null() } },
  }, async (req, reply) => {
    const who = await requireToken(req, auth);
    await privacy.unsuppress(who, (req.params as { userId: string }).userId);
    return reply.code(204).send();
  });

  app.get('/api/v1/retention', {
    schema: { summary: 'The account\'s retention settings', tags: ['privacy'], response: { 200: Settings } },
  }, async (req) => retention.get((await requireToken(req, auth)).accountId));

  app.put('/api/v1/retention', {
    schema: {
      summary: 'Change the account\'s retention settings (any of them); recorded in the audit log', tags: ['privacy'],
      description: 'The retention sweeper (hourly) deletes what is older. Shortening rawDays also refuses older events at collect at once.',
      body: Type.Partial(Settings), response: { 200: Settings },
    },
  }, async (req) => retention.update(await requireToken(req, auth), req.body));

  app.get('/api/v1/audit-log', {
    schema: {
      summary: 'Who exported or erased a viewer\'s data, lifted a suppression or changed retention, and when; newest first', tags: ['privacy'],
      querystring: PageQuery(100, 20),
      response: {
        200: Type.Object({
          data: Type.Array(Type.Object({
            id: Type.String(), at: Type.String({ format: 'date-time' }),
            actor: Type.Object({ kind: Type.String({ description: 'How the caller authenticated: api_token, password…' }), id: Type.Union([Type.String(), Type.Null()], { description: 'The credential or user id' }) }),
            action: Type.String({ description: 'viewer.export | viewer.erase | viewer.unsuppress | retention.update' }),
            subject: Type.Union([Type.String(), Type.Null()], { description: 'Keyed hash of the viewer (never the userId)' }),
            details: Type.Record(Type.String(), Type.Unknown()),
          })),
          pagination: Type.Object({ limit: Type.Integer(), offset: Type.Integer(), total: Type.Integer() }),
        }),
      },
    },
  }, async (req) => {
    const who = await requireToken(req, auth);
    return audit.list(who.accountId, req.query as { limit: number; offset: number });
  });
}
