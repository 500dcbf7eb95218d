/**
 * The metric registry: every aggregate of spec/metrics.md, derived from the base sums the storage
 * adapter computes over view records. Every surface (native API, dialects, exports, dashboard)
 * reads metrics through here.
 */
import type { BaseSums } from '../storage/types.ts';

export const METRICS = {
  player_loads: 'Number of impression events (a player loaded on a page), on the day of the impression',
  views: 'Records with a continuous run of at least 5 s of playback',
  unique_views: 'Played records: sessions in which the content was started',
  view_rate: 'views / player_loads (null when no loads); shown as a percentage rounded half up',
  total_watch_time: 'Sum of uniqueSeconds over played records, in seconds',
  avg_watch_time: 'total_watch_time / views, in seconds (null when no views)',
  watch_depth: 'total_watch_time / (views × duration), summed per content item (null when no duration is known)',
  completion_rate: 'Completed records / played records (null when none played)',
  rebuffer_count: 'Number of rebuffer events',
  rebuffer_time: 'Seconds spent rebuffering',
  error_count: 'Number of error events',
  peak_concurrent_viewers: 'Largest number of distinct sessions with a watchProgress in one UTC minute, among the records of the row (a record belongs to the day of its start, its minutes after midnight too)',
} as const;

export type Metric = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as Metric[];

/** What the registry needs for one group. */
export interface GroupSums {
  base: BaseSums | undefined;
  loads: number;
  peak: number | undefined;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

export function deriveMetrics(g: GroupSums): Record<Metric, number | null> {
  const b = g.base;
  const views = b?.views ?? 0;
  const watch = b?.watchTime ?? 0;
  return {
    player_loads: g.loads,
    views,
    unique_views: b?.played ?? 0,
    view_rate: ratio(views, g.loads),
    total_watch_time: watch,
    avg_watch_time: ratio(watch, views),
    watch_depth: ratio(b?.depthWatchTime ?? 0, b?.depthDenominator ?? 0),
    completion_rate: ratio(b?.completed ?? 0, b?.played ?? 0),
    rebuffer_count: b?.rebufferCount ?? 0,
    rebuffer_time: b?.rebufferTime ?? 0,
    error_count: b?.errorCount ?? 0,
    peak_concurrent_viewers: g.peak ?? 0,
  };
}

/** A ratio shown as a whole percentage, rounded half up: 20 / 85 → 24. */
export function asPercent(r: number | null): number | null {
  return r === null ? null : Math.floor(r * 100 + 0.5 + 1e-9);
}
