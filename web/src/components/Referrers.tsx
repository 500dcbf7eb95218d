/** Referrers: the pages the player loaded on, grouped by domain (collapsible), with CSV/XLSX export. */
import { useState } from 'preact/hooks';
import { qs } from '../api';
import { fmtInt, fmtPercent } from '../format';
import { useApi } from '../hooks';
import { periodParams, type Period } from '../period';
import { Empty, ErrorNote, Section } from './ui';

interface Row { views: number; player_loads: number; view_rate: number | null }
interface Domain extends Row { domain: string | null; pages: Array<Row & { url: string | null }> }

export function Referrers({ period, filters = {} }: { period: Period; filters?: Record<string, string> }) {
  const params = { ...periodParams(period), ...filters };
  const r = useApi<{ data: Domain[] }>(`/api/v1/referrers${qs(params)}`);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const domains = (r.data?.data ?? []).filter((d) => d.player_loads > 0 || d.views > 0);
  const toggle = (d: string) => setOpen((o) => {
    const n = new Set(o);
    if (n.has(d)) n.delete(d);
    else n.add(d);
    return n;
  });
  const allOpen = domains.length > 0 && domains.every((d) => open.has(d.domain ?? ''));
  const exportUrl = (format: string) => `/api/v1/referrers/export${qs({ ...params, format })}`;

  return (
    <Section
      title="Referrers" id="referrers" busy={r.loading}
      actions={<>
        {domains.length > 0 && <button type="button" class="btn small ghost" onClick={() => setOpen(allOpen ? new Set() : new Set(domains.map((d) => d.domain ?? '')))}>{allOpen ? 'Collapse all' : 'Expand all'}</button>}
        <a class="btn small" href={exportUrl('csv')} download data-testid="referrers-csv">Export CSV</a>
        <a class="btn small" href={exportUrl('xlsx')} download data-testid="referrers-xlsx">Export XLSX</a>
      </>}
    >
      <ErrorNote error={r.error} />
      {r.data && !domains.length && <Empty title="No player loads with a page address in this period." />}
      {domains.length > 0 && (
        <div class="table-wrap">
          <table class="table" data-testid="referrers">
            <thead><tr><th>Domain / page</th><th class="num">Views</th><th class="num">Player loads</th><th class="num">View rate</th></tr></thead>
            <tbody>
              {domains.flatMap((d) => {
                const key = d.domain ?? '';
                const isOpen = open.has(key);
                return [
                  <tr key={`d:${key}`} class="group-row" data-domain={key}>
                    <td>
                      <button type="button" class="disclosure" aria-expanded={isOpen} onClick={() => toggle(key)}>
                        <span class="chev" aria-hidden="true">{isOpen ? '▾' : '▸'}</span> {d.domain ?? 'Unknown domain'}
                        <span class="muted small"> · {d.pages.length} page{d.pages.length === 1 ? '' : 's'}</span>
                      </button>
                    </td>
                    <td class="num" data-col="views">{fmtInt(d.views)}</td>
                    <td class="num" data-col="player_loads">{fmtInt(d.player_loads)}</td>
                    <td class="num">{fmtPercent(d.view_rate)}</td>
                  </tr>,
                  ...(isOpen ? d.pages.map((p) => (
                    <tr key={`p:${key}:${p.url}`} class="page-row" data-url={p.url ?? ''}>
                      <td class="url-cell">{p.url ? <a href={p.url} target="_blank" rel="noopener noreferrer">{p.url}</a> : <span class="muted">Unknown page</span>}</td>
                      <td class="num">{fmtInt(p.views)}</td>
                      <td class="num">{fmtInt(p.player_loads)}</td>
                      <td class="num">{fmtPercent(p.view_rate)}</td>
                    </tr>
                  )) : []),
                ];
              })}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
