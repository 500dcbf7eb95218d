/** Reports: POST/GET /api/v1/reports and the signed download of a report's ZIP. */
import { basename, dirname } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/service.ts';
import { AppError } from '../errors.ts';
import { REPORT_FIELDS } from '../exports/fields.ts';
import type { LinkSigner } from '../exports/links.ts';
import { requireToken } from '../http/auth.ts';
import { sendStoredFile } from '../http/file-send.ts';
import { PageQuery, Pending, signedDownload } from '../http/schemas.ts';
import { PRESETS } from './period.ts';
import type { ReportService } from './service.ts';

export interface ReportRouteDeps {
  auth: AuthService;
  reportService: ReportService;
  signer: LinkSigner;
  now: () => number;
}

const Str = Type.Union([Type.String(), Type.Null()]);
const Report = Type.Object({
  id: Type.String(),
  status: Type.String({ description: 'pending | running | completed | failed | expired' }),
  createdAt: Type.String({ format: 'date-time' }),
  period: Type.Object({ preset: Type.String(), from: Str, to: Str, tz: Type.String() }, { description: 'The local days covered, both included (null for all_time)' }),
  folders: Type.Array(Type.String()),
  fields: Type.Array(Type.String()),
  format: Type.String(),
  bom: Type.Boolean(),
  rows: Type.Union([Type.Integer(), Type.Null()]),
  url: Type.Union([Type.String(), Type.Null()], { description: 'Signed link to the ZIP once completed' }),
  file: Type.Union([Type.Object({
    name: Type.String(), url: Type.String(), size: Type.Integer(), rows: Type.Integer(), sha256: Type.String(), expiresAt: Type.String({ format: 'date-time' }),
  }), Type.Null()]),
  email: Type.Union([Type.Object({ to: Type.String(), status: Type.String({ description: 'pending | sent | failed' }), error: Str }), Type.Null()]),
  error: Str,
});

const Body = Type.Object({
  period: Type.Optional(Type.String({ description: `One of ${PRESETS.join(', ')}. Weeks start on Monday; all ranges are whole days in tz. Required.` })),
  from: Type.Optional(Type.String({ description: 'YYYY-MM-DD, with period custom only (included)' })),
  to: Type.Optional(Type.String({ description: 'YYYY-MM-DD, with period custom only (included)' })),
  tz: Type.Optional(Type.String({ description: 'IANA time zone of the days; default UTC' })),
  folders: Type.Optional(Type.Array(Type.String(), { description: 'Folder paths; a folder includes the folders nested in it ("a" includes "a/b"). Default: the whole catalog' })),
  fields: Type.Optional(Type.Array(Type.String(), { description: `Any of ${REPORT_FIELDS.join(', ')}; default all, in that order` })),
  format: Type.Optional(Type.String({ description: 'csv (default) or xlsx' })),
  bom: Type.Optional(Type.Boolean({ description: 'CSV only: the file starts with a UTF-8 byte order mark, so that Excel reads it as UTF-8' })),
  // nullable (OpenAPI 3.0, and ajv), not a union: ajv's coercion would turn null into "" in a union's string branch.
  email: Type.Optional(Type.Unsafe<string | null>({ type: 'string', nullable: true, description: 'Where to send the link when the report is ready (needs REELSTAT_SMTP_URL); null or left out: no email' })),
});

const DOWNLOAD = signedDownload(['application/zip'], 'the report is no longer kept (retention)');

export async function reportRoutes(app: FastifyInstance, deps: ReportRouteDeps): Promise<void> {
  const { auth, reportService, signer, now } = deps;
  const sent = new WeakMap<object, unknown>();

  app.post('/api/v1/reports', {
    schema: {
      summary: 'Build a report (Kinescope "Export report"): a ZIP holding one CSV or XLSX file, one row a content item', tags: ['reports'],
      description: 'Answers 202 {"id","status":"pending"}; the report is built in the background (poll GET /api/v1/reports/{id}) and, with email, ' +
        'its signed link is mailed once. Every content item of the folders is a row (nested folders included), items without views with zeros. ' +
        'view_rate is watch depth: total_watch_time / (views × duration), a fraction.',
      body: Body,
      response: { 202: Pending },
    },
    // The body as sent, for the service's checks: the schema documents it, but the app's ajv coerces
    // types ("true" → true, "a" → ["a"]), which these checks refuse (as exports do).
    preValidation: async (req) => {
      sent.set(req, structuredClone(req.body));
    },
  }, async (req, reply) => {
    const p = await requireToken(req, auth);
    return reply.code(202).send(await reportService.create(p.accountId, sent.get(req) ?? req.body));
  });

  app.get('/api/v1/reports', {
    schema: {
      summary: 'Reports, newest first', tags: ['reports'],
      querystring: PageQuery(100, 20),
      response: { 200: Type.Object({ data: Type.Array(Report) }) },
    },
  }, async (req) => {
    const p = await requireToken(req, auth);
    return { data: await reportService.list(p.accountId, req.query as { limit: number; offset: number }) };
  });

  app.get('/api/v1/reports/:id', {
    schema: {
      summary: 'A report: state, and its signed link once ready', tags: ['reports'],
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      response: { 200: Report },
    },
  }, async (req) => {
    const p = await requireToken(req, auth);
    return reportService.get(p.accountId, (req.params as { id: string }).id);
  });

  app.get('/downloads/reports/:id/:name', {
    ...DOWNLOAD.route,
    schema: {
      summary: 'Download a report ZIP through its signed link (no other credential)', tags: ['reports'], security: [],
      params: Type.Object({ id: Type.String(), name: Type.String() }),
      querystring: DOWNLOAD.querystring, response: DOWNLOAD.response,
    },
  }, async (req, reply) => {
    const { id, name } = req.params as { id: string; name: string };
    const { expires, sig } = req.query as { expires?: string; sig?: string };
    const check = signer.check(`/downloads/reports/${id}/${name}`, expires, sig, now());
    if (check === 'forged') throw new AppError('forbidden', 'This download link is not valid: it was altered or is incomplete.');
    if (check === 'expired') throw new AppError('gone', 'This download link has expired; generate the report again.');
    const gone = 'This report is no longer kept; generate it again.';
    const path = await reportService.filePath(id, name);
    if (!path) throw new AppError('gone', gone);
    return sendStoredFile(req, reply, { dir: dirname(path), name: basename(path), type: 'application/zip', gone });
  });
}
