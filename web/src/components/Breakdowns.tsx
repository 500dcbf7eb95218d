/** Top videos and the audience breakdowns (countries, platforms, OS, browsers) of a period, ranked by views. */
import { qs } from '../api';
import type { ComponentChildren } from 'preact';
import { countryName, fmtDuration, fmtInt, fmtPercent, plainLabel, platformLabel } from '../format';
import { useApi } from '../hooks';
import { periodParams, type Period } from '../period';
import { Link } from './Link';
import type { StatsAnswer } from './MetricsPanel';
import { Empty, ErrorNote, Section, ShareBar } from './ui';

const country = (code: string | null): ComponentChildren => (code ? <><span class="cc">{code}</span>{countryName(code)}</> : 'Unknown');

const BREAKDOWNS = [
  { dim: 'country', title: 'Countries', one: 'Country', label: country },
  { dim: 'platform', title: 'Platforms', one: 'Platform', label: platformLabel },
  { dim: 'os', title: 'Operating systems', one: 'Operating system', label: plainLabel },
  { dim: 'browser', title: 'Browsers', one: 'Browser', label: plainLabel },
] as const;

function Breakdown({ dim, title, one, label, params }: { dim: string; title: string; one: string; label: (v: string | null) => ComponentChildren; params: Record<string, string> }) {
  const r = useApi<StatsAnswer>(`/api/v1/stats${qs({ ...params, dimensions: dim, limit: 10, metrics: 'views,player_loads,view_rate' })}`);
  const rows = (r.data?.data ?? []).filter((x) => (x.player_loads as number) > 0 || (x.views as number) > 0);
  const max = Math.max(0, ...rows.map((x) => x.views as number));
  return (
    <div class="breakdown card" data-testid={`breakdown-${dim}`} aria-busy={r.loading}>
      <h3>{title}</h3>
      <ErrorNote error={r.error} />
      {r.data && !rows.length && <p class="muted small">Nothing in this period.</p>}
      {rows.length > 0 && (
        <table class="table compact">
          <thead><tr><th>{one}</th><th class="num">Views</th><th class="num">Loads</th><th class="num">Rate</th></tr></thead>
          <tbody>
            {rows.map((x) => (
              <tr key={String(x[dim])} data-key={String(x[dim] ?? '')}>
                <td class="bar-cell"><ShareBar value={x.views as number} max={max} /><span>{label(x[dim] as string | null)}</span></td>
                <td class="num" data-col="views">{fmtInt(x.views as number)}</td>
                <td class="num" data-col="player_loads">{fmtInt(x.player_loads as number)}</td>
                <td class="num">{fmtPercent(x.view_rate as number | null)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function Breakdowns({ period, filters = {} }: { period: Period; filters?: Record<string, string> }) {
  const params = { ...periodParams(period), ...filters };
  return (
    <div class="grid-2">
      {BREAKDOWNS.map((b) => <Breakdown key={b.dim} {...b} params={params} />)}
    </div>
  );
}

export function TopVideos({ period, query }: { period: Period; query: string }) {
  const r = useApi<StatsAnswer>(`/api/v1/stats${qs({ ...periodParams(period), dimensions: 'video_id', limit: 25, metrics: 'views,player_loads,view_rate,unique_views,total_watch_time' })}`);
  const rows = (r.data?.data ?? []).filter((x) => (x.player_loads as number) > 0 || (x.views as number) > 0);
  return (
    <Section title="Top 25 videos" id="top-videos" busy={r.loading}>
      <ErrorNote error={r.error} />
      {r.data && !rows.length && <Empty title="No video was loaded in this period." />}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="table" data-testid="top-videos">
            <thead><tr><th>#</th><th>Video</th><th class="num">Views</th><th class="num">Player loads</th><th class="num">View rate</th><th class="num">Unique views</th><th class="num">Watch time</th></tr></thead>
            <tbody>
              {rows.map((x, i) => (
                <tr key={String(x.video_id)} data-key={String(x.video_id)}>
                  <td class="muted">{i + 1}</td>
                  <td class="title-cell">
                    <Link href={`/videos/${encodeURIComponent(String(x.video_id))}${query}`}>{(x.title as string | null) ?? String(x.video_id)}</Link>
                    {x.title && <span class="muted small id">{String(x.video_id)}</span>}
                  </td>
                  <td class="num" data-col="views">{fmtInt(x.views as number)}</td>
                  <td class="num" data-col="player_loads">{fmtInt(x.player_loads as number)}</td>
                  <td class="num">{fmtPercent(x.view_rate as number | null)}</td>
                  <td class="num">{fmtInt(x.unique_views as number)}</td>
                  <td class="num">{fmtDuration(x.total_watch_time as number)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
