/** On-demand exports: the form (POST /api/v1/exports) and the list of runs, refreshed while any is being written. */
import { useState } from 'preact/hooks';
import { api } from '../../api';
import { FieldPicker } from '../../components/FieldPicker';
import { Files, type ExportFile } from '../../components/Files';
import { Badge, Empty, ErrorNote, Section } from '../../components/ui';
import { fmtDateTime, fmtInt } from '../../format';
import { useAction, useApi, useInterval } from '../../hooks';
import { BomField, Field, FORMATS, SCOPES, TYPES, utcDate, utcDays, val } from './form';

interface ExportView {
  id: string; createdAt: string; scope: string; format: string; status: string; rows: number | null;
  period: { from: string; to: string }; files: ExportFile[]; error: string | null;
}

function NewExport({ onCreated }: { onCreated: () => void }) {
  const [scope, setScope] = useState('events');
  const [format, setFormat] = useState('csv');
  const [start, setStart] = useState(utcDate(-6));
  const [end, setEnd] = useState(utcDate());
  const [types, setTypes] = useState<string[]>(TYPES);
  const [fields, setFields] = useState<string[]>([]);
  const [packing, setPacking] = useState('none');
  const [bom, setBom] = useState(false);
  const [filters, setFilters] = useState({ contentId: '', projectId: '', folder: '', country: '' });
  const { busy, error, run } = useAction();

  // XLSX and Parquet files are compressed already: the server refuses gzip for them.
  const packed = format === 'xlsx' || format === 'parquet';

  async function submit(e: Event) {
    e.preventDefault();
    const ok = await run(() => api('/api/v1/exports', {
        method: 'POST',
        body: {
          startDate: start, endDate: end, scope, format, fields,
          ...(scope === 'events' ? { types } : {}),
          filters: Object.fromEntries(Object.entries(filters).filter(([, v]) => v.trim())),
          gzip: packing === 'gzip' && !packed, zip: packing === 'zip',
          ...(format === 'csv' && bom ? { bom: true } : {}),
        },
      }));
    if (ok) onCreated();
  }

  return (
    <form class="form" onSubmit={submit} data-testid="new-export">
      <div class="form-grid">
        <Field label="Data">
          <select value={scope} onChange={(e) => { setScope(val(e)); setFields([]); }}>{SCOPES.map((s) => <option key={s.id} value={s.id}>{s.label}</option>)}</select>
        </Field>
        <Field label="Format">
          <select value={format} onChange={(e) => setFormat(val(e))}>{FORMATS.map((f) => <option key={f} value={f}>{f.toUpperCase()}</option>)}</select>
        </Field>
        <Field label="From (UTC day)"><input type="date" required max={utcDate()} value={start} onInput={(e) => setStart(val(e))} /></Field>
        <Field label="To (UTC day, included)" hint="At most 30 days after the start, and not after today"><input type="date" required max={utcDate()} value={end} onInput={(e) => setEnd(val(e))} /></Field>
        <Field label="Compression">
          <select value={packing} onChange={(e) => setPacking(val(e))}>
            <option value="none">None</option>{!packed && <option value="gzip">gzip each file</option>}<option value="zip">One ZIP</option>
          </select>
        </Field>
        {format === 'csv' && <BomField checked={bom} onChange={setBom} />}
      </div>
      {scope === 'events' && (
        <fieldset class="inline-checks">
          <legend>Event types</legend>
          {TYPES.map((t) => (
            <label key={t} class="check"><input type="checkbox" checked={types.includes(t)} onChange={() => setTypes(types.includes(t) ? types.filter((x) => x !== t) : [...types, t])} /> {t}</label>
          ))}
        </fieldset>
      )}
      <FieldPicker scope={scope} value={fields} onChange={setFields} />
      <details class="filters">
        <summary>Filters</summary>
        <div class="form-grid">
          {(['contentId', 'projectId', 'folder', 'country'] as const).map((k) => (
            <Field key={k} label={k}><input value={filters[k]} onInput={(e) => setFilters({ ...filters, [k]: val(e) })} placeholder="any" /></Field>
          ))}
        </div>
      </details>
      <ErrorNote error={error} />
      <button class="btn primary" type="submit" disabled={busy}>{busy ? 'Starting…' : 'Start export'}</button>
    </form>
  );
}

export function OnDemand() {
  const list = useApi<{ data: ExportView[] }>('/api/v1/exports?limit=50');
  const runs = list.data?.data ?? [];
  useInterval(list.reload, 2000, runs.some((r) => r.status === 'pending' || r.status === 'running'));
  return (
    <>
      <Section title="New export"><NewExport onCreated={list.reload} /></Section>
      <Section title="Recent exports">
        <ErrorNote error={list.error} />
        {list.data && !runs.length && <Empty title="No export yet." >Start one above; its files appear here with download links valid for 7 days.</Empty>}
        {runs.length > 0 && (
          <div class="table-wrap">
            <table class="table" data-testid="exports">
              <thead><tr><th>Created</th><th>Data</th><th>Period (UTC)</th><th>Status</th><th class="num">Rows</th><th>Files</th></tr></thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.id} data-id={r.id} data-status={r.status}>
                    <td>{fmtDateTime(r.createdAt)}</td>
                    <td>{r.scope} · {r.format.toUpperCase()}</td>
                    <td>{utcDays(r.period)}</td>
                    <td><Badge status={r.status} />{r.error && <div class="small error-text">{r.error}</div>}</td>
                    <td class="num">{fmtInt(r.rows)}</td>
                    <td><Files files={r.files} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </>
  );
}
