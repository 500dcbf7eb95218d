/**
 * The Contentsquare Data Export dialect (spec/compat.md): OAuth client credentials → a one-hour JWT,
 * then export jobs, their runs and the runs' parts (files with signed download links). Jobs run on
 * the native export machinery: a job is an export_jobs row (spec.dialect = "contentsquare"), a `once`
 * job gets its run at once and ExportService starts it at once unless a once run of the same account
 * is running (then it queues behind it; REELSTAT_EXPORT_WORKERS runs at most in all); daily (04:00 UTC, the previous UTC day) and hourly jobs get their
 * runs from the scheduler (src/exports/scheduler.ts).
 *
 * Answers are `{"success": true, "payload": …}`; every error of these routes, validation and 404
 * included, is `{"success": false, "errorMessage", "errorCode"}` with its HTTP status.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import qs from 'qs';
import { AppError } from '../../errors.ts';
import { basic, bearer } from '../../http/auth.ts';
import { utf8Text } from '../../http/json-body.ts';
import type { ExportJobRow, ExportRunRow } from '../../storage/types.ts';
import type { CompatDeps } from '../deps.ts';
import { TOKEN_TTL_SECONDS, TokenIssuer } from './jwt.ts';
import {
  CS_FORMATS, CS_SCOPES, CsError, DEFAULT_LIMIT, DIALECT, FREQUENCIES, JOB_STATES, MAX_LIMIT, MAX_RANGE_DAYS, RUN_STATE, RUN_STATES, RUN_STATUS,
  bad, csFields, jobState, parseCreate, parseJobsQuery, parseRunsQuery, parseScope, parseSuccessfulRunsQuery, type CsJobSpec,
} from './request.ts';
import { shown } from '../../util/shown.ts';

const APP_CODES: Record<string, string> = {
  unauthorized: 'UNAUTHORIZED', too_many_failures: 'TOO_MANY_REQUESTS', not_found: 'NOT_FOUND', validation_failed: 'INVALID_PARAMETER',
  bad_request: 'BAD_REQUEST', invalid_body: 'INVALID_BODY', payload_too_large: 'PAYLOAD_TOO_LARGE', unsupported_media_type: 'UNSUPPORTED_MEDIA_TYPE',
  shutting_down: 'SERVICE_UNAVAILABLE', unavailable: 'SERVICE_UNAVAILABLE', storage_unavailable: 'SERVICE_UNAVAILABLE',
};

const ERRORS_DOC = 'Errors: {"success": false, "errorMessage", "errorCode"} — 400 INVALID_PARAMETER (the message names the parameter and what is accepted), ' +
  '401 UNAUTHORIZED (missing or invalid token) or JWT_EXPIRED (token older than 3600 s: get a new one), 404 NOT_FOUND (also for another account\'s job), ' +
  '429 TOO_MANY_REQUESTS after repeated authentication failures from one address.';

const security = [{ bearer: [] }];
const tags = ['contentsquare'];
const jobIdParam = { type: 'object', properties: { jobId: { type: 'string', maxLength: 64 } } } as const;
const pageProps = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: `Items a page, 1–${MAX_LIMIT}` },
  page: { type: 'integer', minimum: 1, default: 1, description: 'Page number, from 1' },
  order: { type: 'string', enum: ['asc', 'desc'], default: 'desc', description: 'By creation time' },
} as const;

const JOB_DOC = 'A job: {"id", "name", "format": "CSV"|"JSONL", "scope": "sessions"|"views", "frequency": {"value", "dateRange": {"from", "to"} (once)}, ' +
  '"fields": [{"fieldName", "aliasName"}], "deviceLabel", "segmentId"?, "state": ACTIVE (once: queued) | COMPUTING (once: running) | COMPLETED (once: done, ' +
  'see its run for SUCCESS or FAILURE) | SUSPENDED (recurring, paused), "createdAt"}.';
const RUN_DOC = 'A run: {"id", "jobId", "state": RUNNABLE|RUNNING|SUCCESS|FAILURE, "dateRange": {"from", "to"} (the window exported, to exclusive), "createdAt", ' +
  '"finishedAt", "rowCount", "attempts", "errorMessage", "expiresAt", "filesExpired", "parts": [{"partNumber", "fileName", "url" (signed, no other credential), ' +
  '"size" (bytes), "rowCount", "sha256", "expiresAt"}]}. A run writes as many parts as its size needs (REELSTAT_EXPORT_PART_ROWS rows each).';

export async function contentsquareRoutes(app: FastifyInstance, deps: CompatDeps): Promise<void> {
  const { auth, store, exportService, config, now } = deps;
  const issuer = TokenIssuer.fromDataDir(config.dataDir);

  // Parameters are checked by hand (request.ts) so that every refusal has this dialect's shape and names the parameter.
  app.setValidatorCompiler(() => () => true);
  // The API "accepts form-encoded request bodies" (seeds/004), OAuth clients often post the token
  // request so, and nested parameters take brackets as Stripe-style clients write them:
  // frequency[value]=once&frequency[dateRange][from]=…&fields[0][fieldName]=session_id. Every value is a string.
  const strictFormDecode = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      throw new CsError(400, 'INVALID_BODY', `The form body cannot be read: ${shown(s, 40)} holds a percent-escape that is not UTF-8; percent-encode the UTF-8 bytes of each character (é as %C3%A9).`);
    }
  };
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: 65_536 }, (req, body, done) => {
    let parsed: Record<string, unknown>;
    let text: string;
    try {
      text = utf8Text(req.headers['content-type'], body as Buffer, 'the form');
    } catch (err) {
      return done(err as Error, undefined);
    }
    try {
      // Percent-escapes must be UTF-8 too: qs kept "Caf%E9" (Latin-1 é) as those six characters.
      parsed = qs.parse(text, { depth: 4, arrayLimit: 200, parameterLimit: 1_000, strictDepth: true, throwOnLimitExceeded: true, decoder: strictFormDecode });
    } catch (err) {
      if (err instanceof CsError) return done(err, undefined);
      return done(new CsError(400, 'INVALID_BODY', `The form body cannot be read (${(err as Error).message}); nest parameters at most 4 deep, as in fields[0][fieldName]=session_id.`), undefined);
    }
    done(null, parsed);
  });

  function send(reply: FastifyReply, status: number, code: string, message: string) {
    return reply.code(status).header('Cache-Control', 'no-store').send({ success: false, errorMessage: message, errorCode: code });
  }

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof CsError) return send(reply, err.status, err.code, err.message);
    if (err instanceof AppError) {
      if (err.extra.retryAfter) reply.header('Retry-After', String(err.extra.retryAfter));
      for (const [k, v] of Object.entries(err.extra.headers ?? {})) reply.header(k, v);
      return send(reply, err.status, APP_CODES[err.code] ?? err.code.toUpperCase(), err.message);
    }
    switch (err.code) {
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return send(reply, 400, 'INVALID_BODY', `The body is not valid JSON: ${err.message}`);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return send(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Send application/json (the token endpoint also takes application/x-www-form-urlencoded).');
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return send(reply, 413, 'PAYLOAD_TOO_LARGE', 'The body is too large.');
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return send(reply, err.statusCode, 'BAD_REQUEST', err.message);
    req.log.error({ err }, 'unhandled error');
    return send(reply, 500, 'INTERNAL_ERROR', 'Internal error.');
  });

  // Unknown paths and methods under this dialect's own paths answer in its shape too (/v1/analytics is Kinescope's).
  for (const prefix of ['/v1/exports', '/v1/oauth', '/v1/exportable-fields']) {
    await app.register(async (sub) => {
      sub.setNotFoundHandler((req, reply) => send(reply, 404, 'NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}; see /api/v1/docs (tag contentsquare).`));
    }, { prefix });
  }

  const baseUrl = (req: FastifyRequest) => config.publicUrl ?? `${req.protocol}://${req.host}`;

  /** The account of a valid, unexpired access token whose client is still live. */
  async function principal(req: FastifyRequest): Promise<{ accountId: string }> {
    auth.failures.check(req.ip);
    const token = bearer(req);
    if (!token) throw new CsError(401, 'UNAUTHORIZED', 'Send the access_token of POST /v1/oauth/token as "Authorization: Bearer <access_token>".');
    const r = issuer.verify(token, now());
    if (!r.ok && r.reason === 'expired') {
      throw new CsError(401, 'JWT_EXPIRED', `Auth token has expired: access tokens are valid ${TOKEN_TTL_SECONDS} s; get a new one from POST /v1/oauth/token.`);
    }
    if (!r.ok) {
      auth.failures.fail(req.ip);
      throw new CsError(401, 'UNAUTHORIZED', 'The access token is not valid; get one from POST /v1/oauth/token.');
    }
    const client = await store.credentials.findByPublicId('oauth_client', r.claims.cid);
    if (!client || client.id !== r.claims.sub || client.accountId !== r.claims.acc) {
      auth.failures.fail(req.ip);
      throw new CsError(401, 'UNAUTHORIZED', 'The OAuth client of this access token was revoked.');
    }
    return { accountId: r.claims.acc };
  }

  const notFound = (what: string) => new CsError(404, 'NOT_FOUND', what);

  async function csJob(accountId: string, jobId: string): Promise<ExportJobRow> {
    const job = await store.jobs.getJob(accountId, jobId);
    if (!job || job.spec.dialect !== DIALECT) throw notFound(`No export job ${shown(jobId)} in this account.`);
    return job;
  }

  function jobView(job: ExportJobRow, lastRun: ExportRunRow['status'] | null) {
    const s = job.spec as unknown as CsJobSpec;
    const out: Record<string, unknown> = {
      id: job.id, name: s.name, format: s.csFormat, scope: s.scope, frequency: s.frequency, fields: s.csFields, deviceLabel: s.deviceLabel,
    };
    if (s.segmentId !== undefined) out.segmentId = s.segmentId;
    out.state = jobState(job, lastRun);
    out.createdAt = new Date(job.createdAt).toISOString();
    return out;
  }

  function runView(run: ExportRunRow) {
    const v = exportService.viewRun(run);
    return {
      id: run.id, jobId: run.jobId, state: RUN_STATE[run.status], dateRange: v.period, createdAt: new Date(run.createdAt).toISOString(),
      finishedAt: run.finishedAt === null ? null : new Date(run.finishedAt).toISOString(), rowCount: run.rows, attempts: run.attempts,
      errorMessage: run.status === 'failed' ? run.error : null, expiresAt: run.expiresAt === null ? null : new Date(run.expiresAt).toISOString(),
      filesExpired: v.status === 'expired',
      parts: v.files.map((f, i) => ({ partNumber: i + 1, fileName: f.name, url: f.url, size: f.size, rowCount: f.rows, sha256: f.sha256, expiresAt: f.expiresAt })),
    };
  }

  const lastRunOf = async (accountId: string, jobId: string) =>
    (await store.jobs.listRuns(accountId, { jobId, order: 'desc', limit: 1, offset: 0 })).items[0]?.status ?? null;

  app.post('/v1/oauth/token', {
    schema: {
      summary: 'Contentsquare: exchange OAuth client credentials for an access token', tags, security: [],
      description: 'Body (JSON or form-encoded): {"client_id", "client_secret", "grant_type": "client_credentials"} — the credentials of POST /api/v1/oauth-clients ' +
        '(HTTP basic with client_id:client_secret works too). Answers {"access_token" (a JWT, HS256), "token_type": "Bearer", "expires_in": 3600, "endpoint": ' +
        '"<base URL to call>"}. Wrong credentials: 401 INVALID_CLIENT; repeated failures from one address: 429.',
      body: {
        type: 'object', required: ['client_id', 'client_secret', 'grant_type'],
        properties: { client_id: { type: 'string' }, client_secret: { type: 'string' }, grant_type: { type: 'string', enum: ['client_credentials'] }, project_id: { description: 'Accepted and ignored' } },
      },
    },
  }, async (req, reply) => {
    const b = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const creds = basic(req);
    const clientId = b.client_id ?? creds?.user;
    const clientSecret = b.client_secret ?? creds?.password;
    if (b.grant_type === undefined) throw bad('grant_type: required; expected "client_credentials".');
    if (b.grant_type !== 'client_credentials') throw new CsError(400, 'UNSUPPORTED_GRANT_TYPE', `grant_type: ${shown(b.grant_type)} is not accepted; expected "client_credentials".`);
    if (typeof clientId !== 'string' || clientId === '' || clientId.length > 200) {
      auth.failures.check(req.ip);
      throw bad('client_id: required, once: a string of at most 200 characters, the client_id of POST /api/v1/oauth-clients.');
    }
    if (typeof clientSecret !== 'string' || clientSecret === '' || clientSecret.length > 500) {
      auth.failures.check(req.ip);
      throw bad('client_secret: required, the client_secret of POST /api/v1/oauth-clients.');
    }
    let p;
    try {
      p = await auth.authenticateClient(clientId, clientSecret, req.ip);
    } catch (err) {
      if (err instanceof AppError && err.code === 'unauthorized') throw new CsError(401, 'INVALID_CLIENT', 'Unknown client_id or wrong client_secret.');
      throw err;
    }
    const { token, expiresIn } = issuer.issue({ credentialId: p.credentialId!, accountId: p.accountId, clientId }, now());
    return reply.header('Cache-Control', 'no-store').send({ access_token: token, token_type: 'Bearer', expires_in: expiresIn, endpoint: baseUrl(req) });
  });

  app.post('/v1/exports', {
    schema: {
      summary: 'Contentsquare: create an export job', tags, security,
      description: 'Body: {"name", "format": "CSV"|"JSONL", "scope": "sessions"|"views", "frequency": {"value": "once"|"daily"|"hourly", "dateRange": {"from", "to"}}, ' +
        '"fields": [{"fieldName", "aliasName"}], "deviceLabel": "all"|"desktop"|"mobile"|"tablet", "segmentId"?}. dateRange is required for once and refused ' +
        `otherwise: ISO 8601 dates (00:00 UTC) or date-times, the window [from, to), to after from and at most ${MAX_RANGE_DAYS} days after it, from not before ` +
        'the raw-event retention. fieldName: a name of GET /v1/exportable-fields (snake_case; the camelCase names of GET /api/v1/fields work too), each once; ' +
        'aliasName renames the CSV column / JSONL key. deviceLabel filters by platform (mobile = smartphone). segmentId is kept and ignored (no segments: every ' +
        'viewer is exported). A once job runs at once, or queues behind the running once job of the same account (at most REELSTAT_EXPORT_WORKERS runs are written at once); a daily job runs every day at 04:00 UTC for the previous UTC day; an ' +
        `hourly job every hour for the previous hour. Answers 201 {"success": true, "payload": <job>}. ${JOB_DOC} ${ERRORS_DOC}`,
      body: { type: 'object' },
      response: { 201: { description: 'The job created: {"success": true, "payload": <job>}', type: 'object', additionalProperties: true } },
    },
  }, async (req, reply) => {
    const { accountId } = await principal(req);
    const account = (await store.accounts.get(accountId))!;
    const r = parseCreate(req.body, { nowMs: now(), rawRetentionDays: account.rawRetentionDays });
    const { job, run } = await exportService.createJob(accountId, r.kind, r.spec, r.once);
    return reply.code(201).send({ success: true, payload: jobView(job, run?.status ?? null) });
  });

  app.get('/v1/exports', {
    schema: {
      summary: 'Contentsquare: list export jobs', tags, security,
      description: `Answers {"success": true, "payload": [<job>…], "pagination": {"page", "limit", "total"}}, newest first unless order=asc. ${JOB_DOC} ${ERRORS_DOC}`,
      querystring: {
        type: 'object',
        properties: {
          format: { type: 'string', enum: [...CS_FORMATS] }, frequency: { type: 'string', enum: [...FREQUENCIES] }, scope: { type: 'string', enum: [...CS_SCOPES] },
          state: { type: 'string', enum: [...JOB_STATES] }, ...pageProps,
        },
      },
    },
  }, async (req) => {
    const { accountId } = await principal(req);
    const q = parseJobsQuery(req.query as Record<string, unknown>);
    const all = (await store.jobs.listDialectJobs(accountId, DIALECT))
      .map((j) => ({ j, view: jobView(j, j.lastRunStatus) }))
      .filter(({ j, view }) => {
        const s = j.spec as unknown as CsJobSpec;
        return (!q.format || s.csFormat === q.format) && (!q.frequency || j.kind === q.frequency) && (!q.scope || s.scope === q.scope) && (!q.state || view.state === q.state);
      });
    if (q.order === 'desc') all.reverse();
    const start = (q.page - 1) * q.limit;
    return { success: true, payload: all.slice(start, start + q.limit).map((x) => x.view), pagination: { page: q.page, limit: q.limit, total: all.length } };
  });

  app.get('/v1/exports/successful-runs', {
    schema: {
      summary: 'Contentsquare: every successful run of the account\'s export jobs', tags, security,
      description: `Answers {"success": true, "payload": [<run>…], "pagination"}, newest first unless order=asc. ${RUN_DOC} ${ERRORS_DOC}`,
      querystring: { type: 'object', properties: { ...pageProps } },
    },
  }, async (req) => {
    const { accountId } = await principal(req);
    const q = parseSuccessfulRunsQuery(req.query as Record<string, unknown>);
    const { items, total } = await store.jobs.listRuns(accountId, { dialect: DIALECT, status: 'completed', order: q.order, limit: q.limit, offset: (q.page - 1) * q.limit });
    return { success: true, payload: items.map(runView), pagination: { page: q.page, limit: q.limit, total } };
  });

  app.get('/v1/exports/:jobId', {
    schema: { summary: 'Contentsquare: an export job', tags, security, params: jobIdParam, description: `Answers {"success": true, "payload": <job>}. ${JOB_DOC} ${ERRORS_DOC}` },
  }, async (req) => {
    const { accountId } = await principal(req);
    const job = await csJob(accountId, (req.params as { jobId: string }).jobId);
    return { success: true, payload: jobView(job, await lastRunOf(accountId, job.id)) };
  });

  app.get('/v1/exports/:jobId/runs', {
    schema: {
      summary: 'Contentsquare: the runs of an export job', tags, security, params: jobIdParam,
      description: `Answers {"success": true, "payload": [<run>…], "pagination"}, newest first unless order=asc; state filters. ${RUN_DOC} ${ERRORS_DOC}`,
      querystring: { type: 'object', properties: { state: { type: 'string', enum: [...RUN_STATES] }, ...pageProps } },
    },
  }, async (req) => {
    const { accountId } = await principal(req);
    const job = await csJob(accountId, (req.params as { jobId: string }).jobId);
    const q = parseRunsQuery(req.query as Record<string, unknown>);
    const status = q.state ? RUN_STATUS[q.state] : undefined;
    if (q.state && !status) return { success: true, payload: [], pagination: { page: q.page, limit: q.limit, total: 0 } };
    const { items, total } = await store.jobs.listRuns(accountId, { jobId: job.id, status, order: q.order, limit: q.limit, offset: (q.page - 1) * q.limit });
    return { success: true, payload: items.map(runView), pagination: { page: q.page, limit: q.limit, total } };
  });

  app.get('/v1/exports/:jobId/runs/:runId', {
    schema: {
      summary: 'Contentsquare: a run of an export job, with its parts and their download links', tags, security,
      params: { type: 'object', properties: { jobId: { type: 'string', maxLength: 64 }, runId: { type: 'string', maxLength: 64 } } },
      description: `Answers {"success": true, "payload": <run>}. ${RUN_DOC} ${ERRORS_DOC}`,
    },
  }, async (req) => {
    const { accountId } = await principal(req);
    const { jobId, runId } = req.params as { jobId: string; runId: string };
    const job = await csJob(accountId, jobId);
    const run = await store.jobs.getRun(runId);
    if (!run || run.accountId !== accountId || run.jobId !== job.id) throw notFound(`No run ${shown(runId)} of export job ${shown(jobId)}.`);
    return { success: true, payload: runView(run) };
  });

  app.get('/v1/exportable-fields', {
    schema: {
      summary: 'Contentsquare: the fields a job of a scope can export', tags, security,
      description: `Answers {"success": true, "payload": [{"name", "type", "description"}]}. ${ERRORS_DOC}`,
      querystring: { type: 'object', required: ['scope'], properties: { scope: { type: 'string', enum: [...CS_SCOPES] } } },
    },
  }, async (req) => {
    await principal(req);
    const scope = parseScope(req.query as Record<string, unknown>);
    return { success: true, payload: csFields(scope) };
  });
}
