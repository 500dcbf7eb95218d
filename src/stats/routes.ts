/** The native stats API: metrics × dimensions × filters over a period, heatmaps, realtime, referrers. */
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/service.ts';
import { AppError } from '../errors.ts';
import { requireToken } from '../http/auth.ts';
import { METRICS } from '../metrics/registry.ts';
import { StatsService } from '../metrics/stats.ts';
import { DIMENSIONS, type Store } from '../storage/types.ts';
import { DOWNLOAD_FORMATS, sendTable, type DownloadFormat } from '../http/download.ts';
import { Offset } from '../http/schemas.ts';
import { checkHourSpan, filterQuerySchema, parseDimensions, parseFilters, parseMetrics, parseOrder, parsePeriodParams, PERIOD_PRESETS } from './params.ts';
import { shown } from '../util/shown.ts';

const periodQuery = {
  period: { type: 'string', description: `A named period instead of from/to: ${PERIOD_PRESETS.join(', ')} (whole local days in tz at the moment of the request; weeks start on Monday)` },
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
        'Groups are ranked by views, then player_loads, then id unless order=field.asc|desc is given. With dimensions=date every day of the period is listed ' +
        '(for all_time, from the first day with data); with dimensions=hour every local hour (2026-03-29T01:00:00+01:00; at most 31 days). ' +
        'With dimensions=video_id each row also carries the catalog title.',
      tags: ['stats'],
      querystring: {
        type: 'object',
        properties: {
          ...periodQuery, ...filterQuerySchema,
          metrics: { type: 'string', description: 'comma-separated metric names' },
          dimensions: { type: 'string', description: 'comma-separated dimensions' },
          order: { type: 'string', description: 'field.direction, e.g. views.desc' },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          offset: Offset,
        },
      },
    },
  }, async (req) => {
    const p = await requireToken(req, auth);
    const q = req.query as Record<string, string | undefined> & { limit: number; offset: number };
    const period = parsePeriodParams(q, now());
    const metrics = parseMetrics(q.metrics);
    const groupBy = parseDimensions(q.dimensions);
    checkHourSpan(groupBy, period);
    const order = parseOrder(q.order, [...metrics, ...groupBy]);
    const rows = await stats.query({ accountId: p.accountId, ...period, groupBy, filters: parseFilters(q), metrics, fillDates: true });
    const time = groupBy.length === 1 && !order ? ({ date: (k: string) => k, hour: (k: string) => new Date(k).toISOString() } as Record<string, (k: string) => string>)[groupBy[0]] : undefined;
    const sorted = time
      ? rows.sort((a, b) => time(String(a.key[groupBy[0]])).localeCompare(time(String(b.key[groupBy[0]]))))
      : StatsService.sort(rows, order);
    const page = sorted.slice(q.offset, q.offset + q.limit);
    const titles = groupBy.includes('video_id')
      ? new Map((await deps.store.catalog.getVideos(p.accountId, page.map((r) => r.key.video_id).filter((v): v is string => !!v))).map((v) => [v.contentId, v.title]))
      : null;
    return {
      data: page.map((r) => ({
        ...r.key, ...(titles ? { title: titles.get(r.key.video_id ?? '') ?? null } : {}), ...Object.fromEntries(metrics.map((m) => [m, r.metrics[m]])),
      })),
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
    if (!video) throw new AppError('not_found', `No video ${shown(contentId)} in this account.`);
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

  app.get('/api/v1/referrers/export', {
    schema: {
      summary: 'Referrers as a CSV or XLSX file: each domain\'s total row (url empty), then its pages',
      description: 'Columns domain, url, views, player_loads, view_rate (views / player_loads, a fraction; empty without loads).',
      tags: ['stats'],
      querystring: { type: 'object', properties: { ...periodQuery, ...filterQuerySchema, format: { type: 'string', enum: DOWNLOAD_FORMATS, default: 'csv' } } },
    },
  }, async (req, reply) => {
    const p = await requireToken(req, auth);
    const q = req.query as Record<string, string | undefined> & { format: DownloadFormat };
    const period = parsePeriodParams(q, now());
    const domains = await stats.referrers({ accountId: p.accountId, ...period, filters: parseFilters(q) });
    const rows = domains.flatMap((d) => [
      [d.domain, null, d.views, d.player_loads, d.view_rate],
      ...d.pages.map((pg) => [d.domain, pg.url, pg.views, pg.player_loads, pg.view_rate]),
    ]);
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const columns = [
      { name: 'domain', type: 'string' }, { name: 'url', type: 'string' }, { name: 'views', type: 'integer' },
      { name: 'player_loads', type: 'integer' }, { name: 'view_rate', type: 'number' },
    ] as const;
    return sendTable(reply, `referrers-${day(period.fromMs)}-${day(Math.min(period.toMs, now()) - 1)}`, q.format, [...columns], rows);
  });
}
