/** Incremental reads: every stored event after a cursor, in arrival order, as NDJSON. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/service.ts';
import { AppError } from '../errors.ts';
import { requireToken } from '../http/auth.ts';
import type { Store } from '../storage/types.ts';
import { publicEvent } from './shape.ts';

export const CURSOR_HEADER = 'x-next-cursor';

function parseCursor(c: string | undefined): number {
  if (c === undefined || c === '') return 0;
  if (!/^\d{1,15}$/.test(c)) throw new AppError('validation_failed', 'cursor: not a cursor this server gave; omit it to start from the beginning, or pass the X-Next-Cursor of the previous answer.');
  return Number(c);
}

export async function eventRoutes(app: FastifyInstance, deps: { auth: AuthService; store: Store }): Promise<void> {
  app.get('/api/v1/events/stream', {
    schema: {
      summary: 'Read stored events after a cursor (NDJSON)',
      description:
        'Every event the account stored after `cursor`, in arrival order (late events included), as NDJSON, at most `limit`. ' +
        'The `X-Next-Cursor` header holds the cursor to pass next; an answer with no lines means nothing new yet. Reading twice from ' +
        'the same cursor gives the same events.',
      tags: ['events'],
      querystring: Type.Object({
        cursor: Type.Optional(Type.String()),
        limit: Type.Integer({ minimum: 1, maximum: 10000, default: 1000 }),
      }),
    },
  }, async (req, reply) => {
    const p = await requireToken(req, deps.auth);
    const q = req.query as { cursor?: string; limit: number };
    const after = parseCursor(q.cursor);
    const events = await deps.store.events.readAfter(p.accountId, after, q.limit);
    const next = events.length ? events[events.length - 1].seq! : after;
    reply.header(CURSOR_HEADER, String(next)).type('application/x-ndjson');
    return events.map((e) => JSON.stringify(publicEvent(e)) + '\n').join('');
  });
}
