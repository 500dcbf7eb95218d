/** Reports (Kinescope's "Export report"): one row a video of the chosen folders, as CSV or XLSX in a ZIP, optionally emailed. */
import { useState } from 'preact/hooks';
import { api } from '../../api';
import { Badge, Empty, ErrorNote, Section } from '../../components/ui';
import { fmtBytes, fmtDateTime, fmtInt } from '../../format';
import { useAction, useApi, useInterval } from '../../hooks';
import { localToday, TZ } from '../../period';
import { BomField, Field, val } from './form';

const PERIODS = [
  ['all_time', 'All time'], ['today', 'Today'], ['yesterday', 'Yesterday'], ['this_week', 'This week'], ['last_week', 'Last week'],
  ['this_month', 'This month'], ['last_month', 'Last month'], ['last_year', 'Last year'], ['custom', 'Custom period'],
] as const;
/** The report's columns (spec: Kinescope's report fields), in the file's order. */
const FIELDS = [
  ['project_id', 'Project ID'], ['project_name', 'Project name'], ['video_id', 'Video ID'], ['stream_id', 'Stream ID'], ['event_id', 'Event ID'],
  ['title', 'Title'], ['duration', 'Duration'], ['folder_name', 'Folder'], ['folder_id', 'Folder ID'], ['player_loads', 'Player loads'],
  ['unique_views', 'Unique views'], ['views', 'Views'], ['total_watch_time', 'Total watch time'], ['view_rate', 'View rate (watch depth)'],
  ['peak_concurrent_viewers', 'Peak concurrent viewers'],
] as const;

interface Report {
  id: string; status: string; createdAt: string; period: { preset: string; from: string | null; to: string | null; tz: string };
  folders: string[]; format: string; rows: number | null; error: string | null;
  file: { name: string; url: string; size: number } | null; email: { to: string; status: string; error: string | null } | null;
}

function NewReport({ onCreated }: { onCreated: () => void }) {
  const [period, setPeriod] = useState('last_month');
  const [from, setFrom] = useState(localToday(-30));
  const [to, setTo] = useState(localToday());
  const [folders, setFolders] = useState('');
  const [fields, setFields] = useState<string[]>(FIELDS.map(([f]) => f));
  const [format, setFormat] = useState('xlsx');
  const [bom, setBom] = useState(false);
  const [email, setEmail] = useState('');
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const list = folders.split(',').map((f) => f.trim()).filter(Boolean);
    void run(async () => {
      await api('/api/v1/reports', {
        method: 'POST',
        body: {
          period, tz: TZ, format, fields, ...(period === 'custom' ? { from, to } : {}),
          ...(format === 'csv' && bom ? { bom: true } : {}),
          ...(list.length ? { folders: list } : {}), ...(email.trim() ? { email: email.trim() } : {}),
        },
      });
      onCreated();
    });
  };
  return (
    <form class="form" onSubmit={submit} data-testid="new-report">
      <div class="form-grid">
        <Field label="Period" hint={`Whole days in ${TZ}`}>
          <select value={period} onChange={(e) => setPeriod(val(e))}>{PERIODS.map(([id, l]) => <option key={id} value={id}>{l}</option>)}</select>
        </Field>
        {period === 'custom' && <Field label="From"><input type="date" required value={from} onInput={(e) => setFrom(val(e))} /></Field>}
        {period === 'custom' && <Field label="To (included)"><input type="date" required value={to} onInput={(e) => setTo(val(e))} /></Field>}
        <Field label="Folders" hint="Comma-separated; nested folders included. Empty: the whole catalog">
          <input value={folders} onInput={(e) => setFolders(val(e))} placeholder="courses, webinars/2026" />
        </Field>
        <Field label="File"><select value={format} onChange={(e) => setFormat(val(e))}><option value="xlsx">XLSX</option><option value="csv">CSV</option></select></Field>
        {format === 'csv' && <BomField checked={bom} onChange={setBom} />}
        <Field label="Email the link to" hint="Optional; needs outgoing mail configured on the server">
          <input type="email" value={email} onInput={(e) => setEmail(val(e))} placeholder="me@example.com" />
        </Field>
      </div>
      <details class="field-picker">
        <summary>Columns: {fields.length === FIELDS.length ? 'all' : `${fields.length} chosen`}</summary>
        <div class="field-grid">
          {FIELDS.map(([f, label]) => (
            <label key={f} class="check">
              <input type="checkbox" checked={fields.includes(f)} onChange={() => setFields(fields.includes(f) ? fields.filter((x) => x !== f) : FIELDS.map(([x]) => x).filter((x) => x === f || fields.includes(x)))} /> {label}
            </label>
          ))}
        </div>
      </details>
      <ErrorNote error={error} />
      <button class="btn primary" type="submit" disabled={!fields.length || busy}>Generate report</button>
    </form>
  );
}

export function Reports() {
  const list = useApi<{ data: Report[] }>('/api/v1/reports?limit=50');
  const items = list.data?.data ?? [];
  useInterval(list.reload, 2000, items.some((r) => r.status === 'pending' || r.status === 'running' || r.email?.status === 'pending'));
  return (
    <>
      <Section title="Export report"><NewReport onCreated={list.reload} /></Section>
      <Section title="Reports">
        <ErrorNote error={list.error} />
        {list.data && !items.length && <Empty title="No report yet.">A report is a ZIP holding one CSV or XLSX file with a row for every video of the chosen folders.</Empty>}
        {items.length > 0 && (
          <div class="table-wrap">
            <table class="table" data-testid="reports">
              <thead><tr><th>Created</th><th>Period</th><th>Folders</th><th>Status</th><th class="num">Rows</th><th>File</th><th>Email</th></tr></thead>
              <tbody>{items.map((r) => (
                <tr key={r.id} data-id={r.id} data-status={r.status}>
                  <td>{fmtDateTime(r.createdAt)}</td>
                  <td>{PERIODS.find(([id]) => id === r.period.preset)?.[1] ?? r.period.preset}{r.period.from && <div class="muted small">{r.period.from} – {r.period.to}</div>}</td>
                  <td>{r.folders.length ? r.folders.join(', ') : <span class="muted">all</span>}</td>
                  <td><Badge status={r.status} />{r.error && <div class="small error-text">{r.error}</div>}</td>
                  <td class="num">{fmtInt(r.rows)}</td>
                  <td>{r.file ? <><a href={r.file.url} download data-testid="download">{r.file.name}</a> <span class="muted small">{fmtBytes(r.file.size)}</span></> : <span class="muted">—</span>}</td>
                  <td>{r.email ? <>{r.email.to} <Badge status={r.email.status} /></> : <span class="muted">—</span>}</td>
                </tr>
              ))}</tbody>
            </table>
          </div>
        )}
      </Section>
    </>
  );
}
