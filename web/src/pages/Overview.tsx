/** Workspace analytics: headline metrics and chart, top 25 videos, audience breakdowns, referrers. */
import { useState } from 'preact/hooks';
import { Breakdowns, TopVideos } from '../components/Breakdowns';
import { Link } from '../components/Link';
import { MetricsPanel, type StatsAnswer } from '../components/MetricsPanel';
import { PageHead } from '../components/PageHead';
import { PeriodPicker } from '../components/PeriodPicker';
import { Referrers } from '../components/Referrers';
import { InstallSdk, Section } from '../components/ui';
import { useApi } from '../hooks';
import { periodOf } from '../period';
import type { Location } from '../router';

export function Overview({ loc }: { loc: Location }) {
  const period = periodOf(loc.query);
  const [metric, setMetric] = useState<string | null>(null);
  const ever = useApi<StatsAnswer>('/api/v1/stats?period=all_time&metrics=player_loads,views');
  const first = ever.data?.data[0];
  const empty = first !== undefined && !first.player_loads && !first.views;
  return (
    <>
      <PageHead
        title="Analytics" subtitle="Every video of the workspace"
        actions={<><PeriodPicker period={period} /><Link class="btn" href="/exports?tab=reports">Export report</Link></>}
      />
      {empty && (
        <Section title="No data yet">
          <InstallSdk />
        </Section>
      )}
      <MetricsPanel period={period} filters={{}} metric={metric} onMetric={setMetric} />
      <TopVideos period={period} query={loc.query.toString() ? `?${loc.query}` : ''} />
      <h2 class="section-title">Audience</h2>
      <Breakdowns period={period} />
      <Referrers period={period} />
    </>
  );
}
