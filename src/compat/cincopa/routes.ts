/**
 * The Cincopa dialect (spec/compat.md): `GET /ohm_get_v3.aspx?t=by_uid_csv&uid=UID&p=D-K`, the raw
 * played view records of a window of UTC days as a CSV attachment, oldest first.
 *
 * - The export UID alone grants access; a missing, unknown or disabled UID is 401.
 * - The body is streamed: records are read 5000 at a time and written as they come.
 * - Every error of this route is plain text (`text/plain; charset=utf-8`) saying what is accepted:
 *   the scripts this dialect serves save the answer as a .csv file, not JSON.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError } from '../../errors.ts';
import { producerStream } from '../../http/stream.ts';
import { csvRow } from '../csv.ts';
import type { CompatDeps } from '../deps.ts';
import { CINCOPA_COLUMNS, CincopaParamError, EXPORT_TYPE, MAX_DAYS, checkType, cincopaRow, fileName, parseWindow } from './columns.ts';


type Query = Record<string, string | string[] | undefined>;

export async function cincopaRoutes(app: FastifyInstance, deps: CompatDeps): Promise<void> {
  const { auth, stats, now } = deps;

  // Parameters are checked by hand (columns.ts) so that every refusal is a plain-text sentence.
  app.setValidatorCompiler(() => () => true);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    let status: number;
    let message: string;
    if (err instanceof CincopaParamError) {
      status = 400;
      message = err.message;
    } else if (err instanceof AppError) {
      status = err.status;
      message = err.message;
      if (err.extra.retryAfter) reply.header('Retry-After', String(err.extra.retryAfter));
      for (const [k, v] of Object.entries(err.extra.headers ?? {})) reply.header(k, v);
    } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      message = err.message;
    } else {
      req.log.error({ err }, 'unhandled error');
      status = 500;
      message = 'Internal error.';
    }
    return reply.code(status).type('text/plain; charset=utf-8').send(message + '\n');
  });

  app.get('/ohm_get_v3.aspx', {
    schema: {
      summary: 'Cincopa: raw played view records of a period as CSV',
      description:
        `t must be ${EXPORT_TYPE}; uid is the account's export UID (POST /api/v1/export-uid), which alone grants access; ` +
        `p=D-K is D days (1–${MAX_DAYS}) ending K days before today (UTC), both ends included (6-0: the last 6 days including today). ` +
        `Answers a CSV attachment, one row per played view record started in the window, oldest first, columns ${CINCOPA_COLUMNS.join(',')}. ` +
        'Errors are plain text: 400 for a malformed t or p, 401 for a missing, unknown or disabled uid, 429 after repeated failures.',
      tags: ['cincopa'],
      security: [],
      querystring: {
        type: 'object',
        properties: {
          t: { type: 'string', enum: [EXPORT_TYPE] },
          uid: { type: 'string', description: 'The export UID' },
          p: { type: 'string', pattern: '^\\d+-\\d+$', description: 'D-K, e.g. 6-0' },
        },
      },
    },
  }, async (req, reply) => {
    const q = req.query as Query;
    checkType(q.t);
    const window = parseWindow(q.p, now());
    const uid = q.uid;
    if (typeof uid !== 'string' || uid === '') {
      auth.failures.check(req.ip);
      throw new AppError('unauthorized', 'uid is required: the account\'s export UID.');
    }
    const { accountId } = await auth.authenticateUid(uid, req.ip);

    const set = { accountId, fromMs: Math.max(0, window.fromMs), toMs: window.toMs, tz: 'UTC', filters: {} };
    reply
      .type('text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${fileName(window)}"`)
      .header('Cache-Control', 'no-store')
      .header('X-Content-Type-Options', 'nosniff');
    // One consistent snapshot, streamed: memory stays flat whatever the window holds.
    return reply.send(producerStream(async (push) => {
      await push(csvRow(CINCOPA_COLUMNS));
      if (window.toMs <= 0) return;
      await stats.streamRecords(set, { playedOnly: true, order: 'asc' }, (batch) => push(batch.map((r) => csvRow(cincopaRow(r))).join('')));
    }));
  });
}
