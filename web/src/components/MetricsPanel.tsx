/**
 * The headline metrics of a period (workspace or one video) as tabs with their totals, the chart of
 * the chosen one by day or hour, and "watching now", refreshed every 10 seconds.
 */
import { useMemo } from 'preact/hooks';
import { qs } from '../api';
import { fmtDuration, fmtInt, fmtPercent, percent } from '../format';
import { useApi, useInterval } from '../hooks';
import { granularity, periodParams, type Period } from '../period';
import { Chart } from './Chart';
import { ErrorNote } from './ui';

export const HEADLINE = [
  { id: 'views', label: 'Views', hint: 'Starts with 5 s of continuous playback', color: '#4f46e5' },
  { id: 'player_loads', label: 'Player loads', hint: 'Times a player loaded on a page', color: '#0891b2' },
  { id: 'view_rate', label: 'View rate', hint: 'Views ÷ player loads', color: '#059669' },
  { id: 'unique_views', label: 'Unique views', hint: 'Sessions that started the video', color: '#d97706' },
  { id: 'total_watch_time', label: 'Watch time', hint: 'Seconds watched, repeats once per view', color: '#db2777' },
] as const;
type MetricId = (typeof HEADLINE)[number]['id'];

export type StatsRow = Record<string, number | string | null>;
export interface StatsAnswer {
  data: StatsRow[];
  meta: { total: number; from: string; to: string; tz: string };
}

export function formatMetric(id: string, v: number | string | null | undefined): string {
  if (typeof v !== 'number') return v === null || v === undefined ? '—' : String(v);
  if (id === 'view_rate' || id === 'watch_depth' || id === 'completion_rate') return fmtPercent(v);
  if (id === 'total_watch_time' || id === 'avg_watch_time') return fmtDuration(v);
  return fmtInt(v);
}

/** A date or hour key as unix seconds in the browser's zone (the zone the server was asked to use). */
function keyTime(key: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(key)) {
    const [y, m, d] = key.split('-').map(Number);
    return new Date(y, m - 1, d).getTime() / 1000;
  }
  return Date.parse(key) / 1000;
}

const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
const hourFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

export function MetricsPanel({ period, filters, metric, onMetric }: {
  period: Period;
  filters: Record<string, string>;
  metric: string | null;
  onMetric: (m: string) => void;
}) {
  const grain = granularity(period);
  const base = { ...periodParams(period), ...filters };
  const totals = useApi<StatsAnswer>(`/api/v1/stats${qs({ ...base, metrics: [...HEADLINE.map((m) => m.id), 'avg_watch_time', 'watch_depth', 'completion_rate'].join(',') })}`);
  const series = useApi<StatsAnswer>(`/api/v1/stats${qs({ ...base, dimensions: grain, limit: 1000, metrics: HEADLINE.map((m) => m.id).join(',') })}`);
  const live = useApi<{ watching_now: number }>(`/api/v1/realtime${qs({ video_id: filters.video_id })}`);
  useInterval(live.reload, 10_000);
  const selected = (HEADLINE.find((m) => m.id === metric) ?? HEADLINE[0]) as (typeof HEADLINE)[number];
  const t = totals.data?.data[0];

  const chart = useMemo(() => {
    const rows = series.data?.data ?? [];
    const x = rows.map((r) => keyTime(String(r[grain])));
    const values = rows.map((r) => {
      const v = r[selected.id] as number | null;
      return selected.id === 'view_rate' ? percent(v) : v;
    });
    return { x, series: [{ label: selected.label, values, color: selected.color }] };
  }, [series.data, selected, grain]);

  return (
    <section class="card metrics-panel" aria-busy={totals.loading || series.loading || !totals.data || !series.data}>
      <div class="metric-tabs" role="tablist">
        {HEADLINE.map((m) => (
          <button
            type="button" role="tab" key={m.id} aria-selected={m.id === selected.id}
            class={`metric-tab${m.id === selected.id ? ' selected' : ''}`} style={{ '--accent': m.color }}
            data-metric={m.id} data-value={t ? String(t[m.id] ?? '') : ''} onClick={() => onMetric(m.id)}
          >
            <span class="metric-label">{m.label}</span>
            <span class="metric-value">{t ? formatMetric(m.id, t[m.id]) : <span class="skeleton" />}</span>
            <span class="metric-hint">{m.hint}</span>
          </button>
        ))}
        <div class="metric-tab live" data-metric="watching_now" data-value={live.data ? String(live.data.watching_now) : ''}>
          <span class="metric-label"><span class="pulse" aria-hidden="true" /> Watching now</span>
          <span class="metric-value">{live.data ? fmtInt(live.data.watching_now) : <span class="skeleton" />}</span>
          <span class="metric-hint">Sessions playing in the last 60 s</span>
        </div>
      </div>
      <ErrorNote error={totals.error ?? series.error} />
      <div class="chart-head">
        <h3>{selected.label} by {grain === 'hour' ? 'hour' : 'day'}</h3>
        {t && (
          <p class="muted small">
            Avg. watch time {formatMetric('avg_watch_time', t.avg_watch_time)} · Watch depth {formatMetric('watch_depth', t.watch_depth)} · Completion {formatMetric('completion_rate', t.completion_rate)}
          </p>
        )}
      </div>
      {series.data && (
        <Chart
          testId="metric-chart" time x={chart.x} series={chart.series} bars={chart.x.length <= 2}
          yMax={selected.id === 'view_rate' ? 100 : undefined}
          xLegend={(v) => (grain === 'hour' ? hourFmt : dayFmt).format(new Date(v * 1000))}
          yFormat={(v) => (selected.id === 'view_rate' ? `${Math.round(v)}%` : selected.id === 'total_watch_time' ? fmtDuration(v) : fmtInt(v))}
        />
      )}
    </section>
  );
}
