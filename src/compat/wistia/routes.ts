/**
 * The Wistia dialect (spec/compat.md): `GET /stats/medias/{mediaId}/events.csv` and `…/events.json`,
 * the view records of one media, newest first.
 *
 * - HTTP basic auth: a user's email and password, or the user `api` with an API token as password
 *   (a `%40` in the user name is read as `@`, as the vendor's document asks). Missing or wrong: 401
 *   with `WWW-Authenticate: Basic realm="Reelstat"`.
 * - A media that is not in the caller's account (another account's, or none): 404.
 * - Errors, for both formats, are JSON: `{"error": {"code": "<reelstat code>", "message": "…"}}`
 *   (codes of src/errors.ts: `validation_failed` 400, `unauthorized` 401, `not_found` 404,
 *   `too_many_failures` 429). A CSV body on an error would be read as data by the scripts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.ts';
import { basic } from '../../http/auth.ts';
import type { Principal } from '../../auth/service.ts';
import { csvDocument } from '../csv.ts';
import type { CompatDeps } from '../deps.ts';
import { DEFAULT_LIMIT, MAX_LIMIT, WISTIA_FIELDS, WistiaParamError, parseWistiaQuery, wistiaEvent } from './columns.ts';
import { shown } from '../../util/shown.ts';

const CHALLENGE = { 'WWW-Authenticate': 'Basic realm="Reelstat"' };

const querystring = {
  type: 'object',
  properties: {
    filter: { type: 'string', enum: ['view'], description: 'view: only records where the video was played; absent: every record, loads without a play included' },
    limit: { type: 'integer', minimum: 1, default: DEFAULT_LIMIT, description: `1 to ${MAX_LIMIT}; larger values give ${MAX_LIMIT}` },
    offset: { type: 'integer', minimum: 0, default: 0 },
    start_date: { type: 'string', format: 'date', description: 'YYYY-MM-DD, UTC, included' },
    end_date: { type: 'string', format: 'date', description: 'YYYY-MM-DD, UTC, included' },
  },
} as const;

const params = { type: 'object', properties: { mediaId: { type: 'string', maxLength: 128 } } } as const;

function description(format: 'csv' | 'json'): string {
  return `Wistia: the view records of a media, newest first (received_at descending, then event_key), as ${format === 'csv' ? 'CSV with a header row' : 'a JSON array of objects'}: ` +
    `${WISTIA_FIELDS.join(', ')}. received_at is the record's start (ISO 8601, UTC), event_key its viewId, visitor_key the viewer, ` +
    'percent_viewed 0–1 (empty/null when the duration is unknown), embed_url the page. HTTP basic auth: a user\'s email and password, ' +
    'or user "api" and an API token. Errors are JSON {"error": {"code", "message"}}: 400 invalid parameter, 401 (with WWW-Authenticate), ' +
    '404 a media not in this account, 429 after repeated authentication failures.';
}

/** Basic credentials or 401 with a challenge. */
async function authenticate(req: FastifyRequest, deps: CompatDeps): Promise<Principal> {
  const creds = basic(req);
  if (!creds) {
    deps.auth.failures.check(req.ip);
    throw new AppError('unauthorized', 'Send HTTP basic credentials: your email and password, or "api" and an API token (curl -u you%40example.com:password).', { headers: CHALLENGE });
  }
  try {
    return await deps.auth.authenticateBasic(creds.user, creds.password, req.ip);
  } catch (err) {
    if (err instanceof AppError && err.code === 'unauthorized') throw new AppError('unauthorized', err.message, { headers: CHALLENGE });
    throw err;
  }
}

const safeName = (id: string) => id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);

export async function wistiaRoutes(app: FastifyInstance, deps: CompatDeps): Promise<void> {
  const { stats, store } = deps;

  // Parameters are checked by hand (columns.ts) so that each refusal names the parameter.
  app.setValidatorCompiler(() => () => true);

  async function events(req: FastifyRequest) {
    const principal = await authenticate(req, deps);
    let q;
    try {
      q = parseWistiaQuery(req.query as Record<string, string | string[] | undefined>);
    } catch (err) {
      if (err instanceof WistiaParamError) throw new AppError('validation_failed', err.message);
      throw err;
    }
    const mediaId = (req.params as { mediaId: string }).mediaId;
    if (!(await store.catalog.getVideo(principal.accountId, mediaId))) {
      throw new AppError('not_found', `No media ${shown(mediaId)} in this account.`);
    }
    const set = { accountId: principal.accountId, fromMs: q.fromMs, toMs: q.toMs, tz: 'UTC', filters: { contentIds: [mediaId] } };
    const rows = await stats.records(set, { playedOnly: q.playedOnly, order: 'desc', limit: q.limit, offset: q.offset });
    return { mediaId, events: rows.map(wistiaEvent) };
  }

  app.get('/stats/medias/:mediaId/events.json', {
    schema: { summary: 'Wistia: events of a media as JSON', description: description('json'), tags: ['wistia'], security: [{ basic: [] }], params, querystring },
  }, async (req, reply) => {
    const { events: list } = await events(req);
    return reply.header('Cache-Control', 'no-store').type('application/json; charset=utf-8').send(list);
  });

  app.get('/stats/medias/:mediaId/events.csv', {
    schema: { summary: 'Wistia: events of a media as CSV', description: description('csv'), tags: ['wistia'], security: [{ basic: [] }], params, querystring },
  }, async (req, reply) => {
    const { mediaId, events: list } = await events(req);
    const body = csvDocument(WISTIA_FIELDS, list.map((e) => WISTIA_FIELDS.map((f) => e[f])));
    return reply
      .header('Cache-Control', 'no-store')
      .header('Content-Disposition', `attachment; filename="media_${safeName(mediaId)}_events.csv"`)
      .type('text/csv; charset=utf-8')
      .send(body);
  });
}
