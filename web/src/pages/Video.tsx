/** One video: its headline metrics and chart, the per-second heatmap and retention curve, its audience and referrers. */
import { useMemo, useState } from 'preact/hooks';
import { qs } from '../api';
import { Breakdowns } from '../components/Breakdowns';
import { Chart } from '../components/Chart';
import { Link } from '../components/Link';
import { MetricsPanel, type StatsAnswer } from '../components/MetricsPanel';
import { PageHead } from '../components/PageHead';
import { PeriodPicker } from '../components/PeriodPicker';
import { Referrers } from '../components/Referrers';
import { Empty, ErrorNote, InstallSdk, Section } from '../components/ui';
import { fmtClock, fmtDuration, fmtInt } from '../format';
import { useApi } from '../hooks';
import { periodOf, periodParams, type Period } from '../period';
import type { Location } from '../router';

interface VideoEntry { contentId: string; title: string | null; duration: number | null; kind: string; projectId: string | null; folder: string | null }
interface Heatmap { records: number; seconds: number; heatmap: number[]; retention: number[]; duration: number | null }

function HeatmapSection({ id, period }: { id: string; period: Period }) {
  const h = useApi<Heatmap>(`/api/v1/videos/${encodeURIComponent(id)}/heatmap${qs(periodParams(period))}`);
  const charts = useMemo(() => {
    const d = h.data;
    if (!d || !d.records) return null;
    const x = d.heatmap.map((_, i) => i);
    let peak = 0;
    d.heatmap.forEach((v, i) => (v > d.heatmap[peak] ? (peak = i) : 0));
    return {
      x, peak,
      heat: [{ label: 'Views of the second', values: d.heatmap, color: '#4f46e5' }],
      retention: [{ label: 'Still watching', values: d.retention.map((v) => (v / d.records) * 100), color: '#059669' }],
    };
  }, [h.data]);
  return (
    <Section title="Heatmap and retention" id="heatmap" busy={h.loading}>
      <ErrorNote error={h.error} />
      {h.data && !charts && <Empty title="No playback in this period." />}
      {h.data && charts && (
        <>
          <p class="muted small" data-testid="heatmap-summary" data-records={h.data.records} data-seconds={h.data.seconds}>
            {fmtInt(h.data.records)} viewing session{h.data.records === 1 ? '' : 's'} with playback · most watched: {fmtClock(charts.peak)} ({fmtInt(h.data.heatmap[charts.peak])} views)
          </p>
          <div class="grid-2 charts">
            <div>
              <h3>Heatmap</h3>
              <p class="muted small">How often each second was watched, repeats included.</p>
              <Chart testId="heatmap-chart" time={false} x={charts.x} series={charts.heat} xFormat={fmtClock} yFormat={(v) => fmtInt(v)} height={220} />
            </div>
            <div>
              <h3>Audience retention</h3>
              <p class="muted small">Share of the viewing sessions that watched each second.</p>
              <Chart testId="retention-chart" time={false} x={charts.x} series={charts.retention} xFormat={fmtClock} yFormat={(v) => `${Math.round(v)}%`} yMax={100} height={220} />
            </div>
          </div>
        </>
      )}
    </Section>
  );
}

export function Video({ id, loc }: { id: string; loc: Location }) {
  const period = periodOf(loc.query);
  const [metric, setMetric] = useState<string | null>(null);
  const video = useApi<VideoEntry>(`/api/v1/videos/${encodeURIComponent(id)}`);
  const ever = useApi<StatsAnswer>(`/api/v1/stats${qs({ period: 'all_time', video_id: id, metrics: 'player_loads,views' })}`);
  const first = ever.data?.data[0];
  const back = <Link class="back" href={`/${loc.query.toString() ? `?${loc.query}` : ''}`}>← Analytics</Link>;

  if (video.error?.status === 404) {
    return (
      <>
        <PageHead title="Video not found" back={back} />
        <Section title={`No video “${id}” in this workspace`}>
          <p>A video appears here once the SDK has sent its first event with <code>contentId: '{id}'</code>:</p>
          <InstallSdk contentId={id} />
        </Section>
      </>
    );
  }
  const v = video.data;
  const facts = v ? [v.kind, v.duration ? fmtDuration(v.duration) : null, v.folder ? `Folder ${v.folder}` : null, v.projectId ? `Project ${v.projectId}` : null].filter(Boolean) : [];
  return (
    <>
      <PageHead
        back={back} title={<span data-testid="video-title" aria-busy={video.loading}>{v ? (v.title ?? v.contentId) : id}</span>}
        subtitle={<><code>{id}</code>{facts.length > 0 && ` · ${facts.join(' · ')}`}</>}
        actions={<PeriodPicker period={period} />}
      />
      <ErrorNote error={video.error} />
      {first && !first.player_loads && !first.views && (
        <Section title="No data for this video yet"><InstallSdk contentId={id} /></Section>
      )}
      <MetricsPanel period={period} filters={{ video_id: id }} metric={metric} onMetric={setMetric} />
      <HeatmapSection id={id} period={period} />
      <h2 class="section-title">Audience</h2>
      <Breakdowns period={period} filters={{ video_id: id }} />
      <Referrers period={period} filters={{ video_id: id }} />
    </>
  );
}
