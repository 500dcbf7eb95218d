/** The catalog: every video, stream and event, with its views and player loads in the period. */
import { useMemo, useState } from 'preact/hooks';
import { qs } from '../api';
import { Link } from '../components/Link';
import type { StatsAnswer } from '../components/MetricsPanel';
import { PageHead } from '../components/PageHead';
import { PeriodPicker } from '../components/PeriodPicker';
import { Empty, ErrorNote, InstallSdk, Section } from '../components/ui';
import { fmtDuration, fmtInt, fmtPercent } from '../format';
import { useApi } from '../hooks';
import { periodOf, periodParams } from '../period';
import type { Location } from '../router';

interface VideoEntry { contentId: string; title: string | null; duration: number | null; kind: string; folder: string | null; updatedAt: string }
const PAGE = 100;

export function Videos({ loc }: { loc: Location }) {
  const period = periodOf(loc.query);
  const [page, setPage] = useState(0);
  const [filter, setFilter] = useState('');
  const list = useApi<{ data: VideoEntry[]; meta: { total: number } }>(`/api/v1/videos${qs({ limit: PAGE, offset: page * PAGE })}`);
  const stats = useApi<StatsAnswer>(`/api/v1/stats${qs({ ...periodParams(period), dimensions: 'video_id', limit: 1000, metrics: 'views,player_loads,view_rate' })}`);
  const byId = useMemo(() => new Map((stats.data?.data ?? []).map((r) => [String(r.video_id), r])), [stats.data]);
  const f = filter.trim().toLowerCase();
  const rows = (list.data?.data ?? []).filter((v) => !f || v.contentId.toLowerCase().includes(f) || (v.title ?? '').toLowerCase().includes(f) || (v.folder ?? '').toLowerCase().includes(f));
  const total = list.data?.meta.total ?? 0;
  const q = loc.query.toString() ? `?${loc.query}` : '';

  return (
    <>
      <PageHead title="Videos" subtitle={list.data ? `${fmtInt(total)} in the catalog` : undefined} actions={<PeriodPicker period={period} />} />
      <Section
        title="Catalog" busy={list.loading || stats.loading}
        actions={<input class="search" type="search" placeholder="Filter by title, id or folder" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />}
      >
        <ErrorNote error={list.error ?? stats.error} />
        {list.data && total === 0 && (
          <Empty title="No videos yet">
            <p>Videos are added to the catalog by their first event (or with <code>PUT /api/v1/videos/&#123;id&#125;</code>).</p>
            <InstallSdk />
          </Empty>
        )}
        {rows.length > 0 && (
          <div class="table-wrap">
            <table class="table" data-testid="videos">
              <thead><tr><th>Video</th><th>Kind</th><th class="num">Duration</th><th>Folder</th><th class="num">Views</th><th class="num">Player loads</th><th class="num">View rate</th></tr></thead>
              <tbody>
                {rows.map((v) => {
                  const s = byId.get(v.contentId);
                  return (
                    <tr key={v.contentId} data-key={v.contentId}>
                      <td class="title-cell">
                        <Link href={`/videos/${encodeURIComponent(v.contentId)}${q}`}>{v.title ?? v.contentId}</Link>
                        {v.title && <span class="muted small id">{v.contentId}</span>}
                      </td>
                      <td>{v.kind}</td>
                      <td class="num">{v.duration ? fmtDuration(v.duration) : '—'}</td>
                      <td>{v.folder ?? <span class="muted">—</span>}</td>
                      <td class="num" data-col="views">{fmtInt((s?.views as number) ?? 0)}</td>
                      <td class="num">{fmtInt((s?.player_loads as number) ?? 0)}</td>
                      <td class="num">{fmtPercent((s?.view_rate as number | null) ?? null)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {total > PAGE && (
          <div class="pager">
            <button type="button" class="btn small" disabled={page === 0} onClick={() => setPage(page - 1)}>Previous</button>
            <span class="muted small">{page * PAGE + 1}–{Math.min(total, (page + 1) * PAGE)} of {fmtInt(total)}</span>
            <button type="button" class="btn small" disabled={(page + 1) * PAGE >= total} onClick={() => setPage(page + 1)}>Next</button>
          </div>
        )}
      </Section>
    </>
  );
}
