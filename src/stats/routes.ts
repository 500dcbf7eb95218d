/** The native stats API: metrics × dimensions × filters over a period, heatmaps, realtime, referrers. */
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/service.ts';
import { AppError } from '../errors.ts';
import { requireToken } from '../http/auth.ts';
import { METRICS } from '../metrics/registry.ts';
import { StatsService } from '../metrics/stats.ts';
import { DIMENSIONS, type Store } from '../storage/types.ts';
import { filterQuerySchema, parseDimensions, parseFilters, parseMetrics, parseOrder, parsePeriodParams } from './params.ts';

const periodQuery = {
  from: { type: 'string', description: 'YYYY-MM-DD (whole local day) or RFC 3339; default 29 days before today' },
  to: { type: 'string', description: 'YYYY-MM-DD (included) or RFC 3339; default today' },
  tz: { type: 'string', description: 'IANA time zone naming the days; default UTC' },
};

export async function statsRoutes(app: FastifyInstance, deps: { auth: AuthService; stats: StatsService; store: Store; now: () => number }): Promise<void> {
  const { auth, stats, now } = deps;

  app.get('/api/v1/stats', {
    schema: {
      summary: 'Metrics over a period, optionally grouped by dimensions and filtered',
      description: `metrics: ${Object.entries(METRICS).map(([k, v]) => `${k} (${v})`).join('; ')}. dimensions: ${DIMENSIONS.join(', ')}. ` +
        'Groups are ranked by views, then player_loads, then id unless order=field.asc|desc is given. With dimensions=date every day of the period is listed.',
      tags: ['stats'],
      querystring: {
        type: 'object',
        properties: {
          ...periodQuery, ...filterQuerySchema,
          metrics: { type: 'string', description: 'comma-separated metric names' },
          dimensions: { type: 'string', description: 'comma-separated dimensions' },
          order: { type: 'string', description: 'field.direction, e.g. views.desc' },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          offset: { type: 'integer', minimum: 0, default: 0 },
        },
      },
    },
  }, async (req) => {
    const p = await requireToken(req, auth);
    const q = req.query as Record<string, string | undefined> & { limit: number; offset: number };
    const period = parsePeriodParams(q, now());
    const metrics = parseMetrics(q.metrics);
    const groupBy = parseDimensions(q.dimensions);
    const order = parseOrder(q.order, [...metrics, ...groupBy]);
    const rows = await stats.query({ accountId: p.accountId, ...period, groupBy, filters: parseFilters(q), metrics, fillDates: true });
    const sorted = groupBy.length === 1 && groupBy[0] === 'date' && !order
      ? rows.sort((a, b) => String(a.key.date).localeCompare(String(b.key.date)))
      : StatsService.sort(rows, order);
    const page = sorted.slice(q.offset, q.offset + q.limit);
    return {
      data: page.map((r) => ({ ...r.key, ...Object.fromEntries(metrics.map((m) => [m, r.metrics[m]])) })),
      meta: {
        total: sorted.length, limit: q.limit, offset: q.offset, tz: period.tz,
        from: new Date(period.fromMs).toISOString(), to: new Date(period.toMs).toISOString(), metrics, dimensions: groupBy,
      },
    };
  });

  app.get('/api/v1/videos/:contentId/heatmap', {
    schema: {
      summary: 'Per-second heatmap (views of each second, repeats included) and audience retention of a video',
      tags: ['stats'],
      params: { type: 'object', properties: { contentId: { type: 'string', maxLength: 128 } } },
      querystring: { type: 'object', properties: periodQuery },
    },
  }, async (req) => {
    const p = await requireToken(req, auth);
    const contentId = (req.params as { contentId: string }).contentId;
    const video = await deps.store.catalog.getVideo(p.accountId, contentId);
    if (!video) throw new AppError('not_found', `No video ${JSON.stringify(contentId)} in this account.`);
    const period = parsePeriodParams(req.query as Record<string, string | undefined>, now());
    const duration = video.duration ?? video.seenDuration;
    const h = await stats.heatmap({ accountId: p.accountId, ...period, filters: { contentIds: [contentId] } }, duration === null ? null : Math.round(duration));
    return { video_id: contentId, duration, from: new Date(period.fromMs).toISOString(), to: new Date(period.toMs).toISOString(), tz: period.tz, ...h };
  });

  app.get('/api/v1/realtime', {
    schema: {
      summary: 'Watching now: distinct sessions playing in the last 60 seconds',
      tags: ['stats'],
      querystring: { type: 'object', properties: { video_id: { type: 'string' } } },
    },
  }, async (req) => {
    const p = await requireToken(req, auth);
    const v = (req.query as { video_id?: string }).video_id;
    return { watching_now: await stats.watchingNow(p.accountId, v ? v.split(',') : undefined), at: new Date(now()).toISOString() };
  });

  app.get('/api/v1/referrers', {
    schema: {
      summary: 'Referrers: pages grouped by domain, with views, player loads and view rate',
      tags: ['stats'],
      querystring: { type: 'object', properties: { ...periodQuery, ...filterQuerySchema } },
    },
  }, async (req) => {
    const p = await requireToken(req, auth);
    const q = req.query as Record<string, string | undefined>;
    const period = parsePeriodParams(q, now());
    return { data: await stats.referrers({ accountId: p.accountId, ...period, filters: parseFilters(q) }) };
  });
}
