/**
 * The Kinescope analytics dialect (spec/compat.md): `GET /v1/analytics/overview` and
 * `GET /v1/analytics`, a thin translation over StatsService. Errors use Kinescope's shape
 * `{"error": {"code": <number>, "message"}}`: 400400 an invalid parameter, 400216 an invalid sort
 * field, otherwise the HTTP status as the code (401 without a valid API token).
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError } from '../../errors.ts';
import { requireToken } from '../../http/auth.ts';
import { METRICS, type Metric } from '../../metrics/registry.ts';
import { StatsService, type StatsRow } from '../../metrics/stats.ts';
import type { CompatDeps } from '../deps.ts';
import {
  CODE_INVALID, CODE_SORT_FIELD, DEFAULT_PER_PAGE, GROUP_BY, KINESCOPE_METRICS, KinescopeError, MAX_PER_PAGE,
  parseGrouped, parseOverview, type GroupedRequest, type Query,
} from './request.ts';

const metricList = KINESCOPE_METRICS.map((m) => `${m} (${METRICS[m]})`).join('; ');
const ERRORS_DOC =
  `Errors: {"error": {"code": <number>, "message": "…"}} — 400 with code ${CODE_INVALID} for a missing or invalid parameter, ` +
  `400 with code ${CODE_SORT_FIELD} for an invalid sort field, 401 with code 401 without a valid API token ` +
  '(Authorization: Bearer …), 429 with code 429 after repeated authentication failures.';

const periodQuery = {
  from: { type: 'string', description: 'Required. Period start: YYYY-MM-DD (the whole day) or RFC 3339 (YYYY-MM-DDTHH:MM:SSZ)' },
  to: { type: 'string', description: 'Required. Period end, included: YYYY-MM-DD (the whole day) or RFC 3339 (YYYY-MM-DDTHH:MM:SSZ)' },
  project_id: { type: 'string', description: 'Only videos of this project' },
  video_id: { type: 'string', description: 'Only this video' },
  tz: { type: 'string', description: 'Extension: IANA time zone naming the days of YYYY-MM-DD bounds and of group_by=date; default UTC' },
};

const pick = (r: StatsRow) => Object.fromEntries(KINESCOPE_METRICS.map((m: Metric) => [m, r.metrics[m]]));

/** Ranked as asked; by default the registry's ranking (views, player_loads, id), dates in calendar order. */
function arrange(rows: StatsRow[], req: GroupedRequest): StatsRow[] {
  const order = req.order ?? (req.groupBy === 'date' ? { field: 'date', dir: 'asc' as const } : undefined);
  return StatsService.sort(rows, order);
}

export async function kinescopeRoutes(app: FastifyInstance, deps: CompatDeps): Promise<void> {
  const { auth, stats } = deps;

  // The query schemas below document the API; the parameters are checked in request.ts so that
  // every refusal carries Kinescope's code and a message naming the parameter.
  app.setValidatorCompiler(() => () => true);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    let status: number;
    let code: number;
    let message: string;
    if (err instanceof KinescopeError) {
      status = 400;
      code = err.kcode;
      message = err.message;
    } else if (err instanceof AppError) {
      status = err.status;
      code = status === 400 ? CODE_INVALID : status;
      message = err.message;
      if (err.extra.retryAfter) reply.header('Retry-After', String(err.extra.retryAfter));
      for (const [k, v] of Object.entries(err.extra.headers ?? {})) reply.header(k, v);
    } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      code = status === 400 ? CODE_INVALID : status;
      message = err.message;
    } else {
      req.log.error({ err }, 'unhandled error');
      status = 500;
      code = 500;
      message = 'Internal error.';
    }
    return reply.code(status).send({ error: { code, message } });
  });

  app.get('/v1/analytics/overview', {
    schema: {
      summary: 'Kinescope: overall statistics for a period',
      description: `Answers {"data": {${KINESCOPE_METRICS.join(', ')}}} over the view records of the period (UTC unless tz is given), ` +
        `optionally of one project or video. Metrics: ${metricList}. Ratios are fractions (0.5), null when undefined. ${ERRORS_DOC}`,
      tags: ['kinescope'],
      querystring: { type: 'object', required: ['from', 'to'], properties: periodQuery },
    },
  }, async (req) => {
    const p = await requireToken(req, auth);
    const r = parseOverview(req.query as Query);
    const [row] = await stats.query({ accountId: p.accountId, ...r.period, groupBy: [], filters: r.filters, metrics: [...KINESCOPE_METRICS] });
    return { data: pick(row) };
  });

  app.get('/v1/analytics', {
    schema: {
      summary: 'Kinescope: statistics grouped by video, project, day or country',
      description: `Answers {"data": [{"<group_by>": key, ${KINESCOPE_METRICS.join(', ')}}], "meta": {"pagination": {"page", "per_page", "total"}}}; ` +
        'total counts the groups. A group key is null for records without one (no project, unknown country). group_by=date lists every day of ' +
        'the period (zeros where nothing happened) as YYYY-MM-DD. Default order: by views, then player_loads (both descending), then the key; ' +
        'for group_by=date by date ascending. order=field.direction sorts by that field first (ties as by default; rows without a value go last in either direction' +
        `), field one of the metrics or the group key. Metrics: ${metricList}. ${ERRORS_DOC}`,
      tags: ['kinescope'],
      querystring: {
        type: 'object',
        required: ['from', 'to', 'group_by'],
        properties: {
          ...periodQuery,
          group_by: { type: 'string', enum: [...GROUP_BY], description: 'Required. One grouping: video_id, project_id, date (by day) or country (ISO 3166-1 alpha-2)' },
          page: { type: 'integer', minimum: 1, default: 1, description: 'Page number, from 1' },
          per_page: { type: 'integer', minimum: 1, maximum: MAX_PER_PAGE, default: DEFAULT_PER_PAGE, description: `Groups per page, 1–${MAX_PER_PAGE}` },
          order: { type: 'string', description: 'field.direction, e.g. views.desc; field a metric or the group key, direction asc or desc' },
        },
      },
    },
  }, async (req) => {
    const p = await requireToken(req, auth);
    const r = parseGrouped(req.query as Query);
    const rows = await stats.query({
      accountId: p.accountId, ...r.period, groupBy: [r.groupBy], filters: r.filters, metrics: [...KINESCOPE_METRICS], fillDates: r.groupBy === 'date',
    });
    const sorted = arrange(rows, r);
    const start = (r.page - 1) * r.perPage;
    return {
      data: sorted.slice(start, start + r.perPage).map((row) => ({ [r.groupBy]: row.key[r.groupBy] ?? null, ...pick(row) })),
      meta: { pagination: { page: r.page, per_page: r.perPage, total: sorted.length } },
    };
  });
}
