/** Exports: on-demand exports, scheduled exports (webhook or email) and reports, each with its runs. */
import { Link } from '../components/Link';
import { PageHead } from '../components/PageHead';
import type { Location } from '../router';
import { OnDemand } from './exports/OnDemand';
import { Reports } from './exports/Reports';
import { Scheduled } from './exports/Scheduled';

const TABS = [
  { id: 'on-demand', label: 'On-demand' },
  { id: 'scheduled', label: 'Scheduled' },
  { id: 'reports', label: 'Reports' },
] as const;

export function Exports({ loc }: { loc: Location }) {
  const tab = TABS.find((t) => t.id === loc.query.get('tab'))?.id ?? 'on-demand';
  return (
    <>
      <PageHead title="Exports" subtitle="Raw events, view records, sessions and per-video tables as files, once or on a schedule" />
      <nav class="tabs" aria-label="Export kinds">
        {TABS.map((t) => (
          <Link key={t.id} href={`/exports?tab=${t.id}`} class={`tab${t.id === tab ? ' active' : ''}`} current={t.id === tab}>{t.label}</Link>
        ))}
      </nav>
      {tab === 'on-demand' && <OnDemand />}
      {tab === 'scheduled' && <Scheduled />}
      {tab === 'reports' && <Reports />}
    </>
  );
}
