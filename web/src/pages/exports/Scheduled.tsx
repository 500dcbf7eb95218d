/** Scheduled exports: create (webhook or email), list, pause/resume/delete, and each one's runs, files and delivery attempts. */
import { useState } from 'preact/hooks';
import { api } from '../../api';
import { Files, type ExportFile } from '../../components/Files';
import { Badge, Empty, ErrorNote, SecretOnce, Section } from '../../components/ui';
import { fmtDateTime, fmtInt } from '../../format';
import { useAction, useApi, useInterval } from '../../hooks';
import { BomField, Field, FORMATS, SCOPES, utcWindow, val } from './form';

interface Schedule {
  id: string; name: string | null; frequency: string; state: string; disabledReason: string | null; createdAt: string;
  scope: string; format: string; delivery: { webhook?: string; email?: string } | null; dialect: string | null; nextRunAt?: string;
}
interface Attempt { deliveryId: string; runId: string; attempt: number; at: string; statusCode: number | null; error: string | null; durationMs: number; outcome: string; nextAttemptAt: string | null }
interface Run {
  id: string; status: string; rows: number | null; period: { from: string; to: string }; files: ExportFile[]; error: string | null;
  delivery: { id: string; channel: string; status: string; attemptCount: number; lastError: string | null; nextAttemptAt: string | null; attempts: Attempt[] } | null;
}

const EVERY: Record<string, string> = { hourly: 'hour', daily: 'day', weekly: 'week' };
// A Contentsquare job has no delivery: its client reads its runs through that API.
const destination = (s: Schedule) => s.delivery?.webhook ?? s.delivery?.email ?? (s.dialect === 'contentsquare' ? 'read through the Contentsquare API' : '—');

function NewSchedule({ onCreated }: { onCreated: (secret: string | null) => void }) {
  const [form, setForm] = useState({ name: '', frequency: 'daily', channel: 'webhook', target: '', scope: 'events', format: 'csv', delayMinutes: '0' });
  const [bom, setBom] = useState(false);
  const { busy, error, run } = useAction();
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: val(e) });
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const made = await api<{ secret?: string }>('/api/v1/scheduled-exports', {
        method: 'POST',
        body: {
          frequency: form.frequency, scope: form.scope, format: form.format, delayMinutes: Number(form.delayMinutes) || 0,
          ...(form.format === 'csv' && bom ? { bom: true } : {}),
          ...(form.name.trim() ? { name: form.name.trim() } : {}), delivery: { [form.channel]: form.target.trim() },
        },
      });
      setForm({ ...form, name: '', target: '' });
      onCreated(made.secret ?? null);
    });
  };
  return (
    <form class="form" onSubmit={submit} data-testid="new-schedule">
      <div class="form-grid">
        <Field label="Name"><input value={form.name} onInput={set('name')} placeholder="Nightly events" maxLength={200} /></Field>
        <Field label="Every" hint="Each run exports the UTC hour, day or Monday–Sunday week that just ended">
          <select value={form.frequency} onChange={set('frequency')}><option value="hourly">Hour</option><option value="daily">Day</option><option value="weekly">Week</option></select>
        </Field>
        <Field label="Deliver by">
          <select value={form.channel} onChange={set('channel')}><option value="webhook">Webhook</option><option value="email">Email</option></select>
        </Field>
        <Field label={form.channel === 'webhook' ? 'Webhook URL' : 'Email address'}>
          {form.channel === 'webhook'
            ? <input required type="url" value={form.target} onInput={set('target')} placeholder="https://hooks.example.com/reelstat" />
            : <input required type="email" value={form.target} onInput={set('target')} placeholder="analyst@example.com" />}
        </Field>
        <Field label="Data"><select value={form.scope} onChange={set('scope')}>{SCOPES.map((s) => <option key={s.id} value={s.id}>{s.label}</option>)}</select></Field>
        <Field label="Format"><select value={form.format} onChange={set('format')}>{FORMATS.map((f) => <option key={f} value={f}>{f.toUpperCase()}</option>)}</select></Field>
        <Field label="Delay (minutes)" hint="Run this long after the period ends"><input type="number" min={0} max={10080} value={form.delayMinutes} onInput={set('delayMinutes')} /></Field>
        {form.format === 'csv' && <BomField checked={bom} onChange={setBom} />}
      </div>
      <ErrorNote error={error} />
      <button class="btn primary" type="submit" disabled={busy}>Create schedule</button>
    </form>
  );
}

function Detail({ id }: { id: string }) {
  const d = useApi<Schedule & { runs: Run[] }>(`/api/v1/scheduled-exports/${id}`);
  useInterval(d.reload, 5000);
  const runs = d.data?.runs ?? [];
  const attempts = runs.flatMap((r) => r.delivery?.attempts ?? []).sort((a, b) => b.at.localeCompare(a.at));
  return (
    <div class="detail" data-testid="schedule-detail">
      <ErrorNote error={d.error} />
      <h4>Runs</h4>
      {d.data && !runs.length && <p class="muted small">No run yet. The first one runs when the current period ends{d.data.nextRunAt ? ` (${fmtDateTime(d.data.nextRunAt)})` : ''}.</p>}
      {runs.length > 0 && (
        <div class="table-wrap"><table class="table compact">
          <thead><tr><th>Period (UTC)</th><th>Export</th><th class="num">Rows</th><th>Files</th><th>Delivery</th></tr></thead>
          <tbody>{runs.map((r) => (
            <tr key={r.id}>
              <td>{utcWindow(r.period)}</td>
              <td><Badge status={r.status} />{r.error && <div class="small error-text">{r.error}</div>}</td>
              <td class="num">{fmtInt(r.rows)}</td>
              <td><Files files={r.files} /></td>
              <td>{r.delivery ? <><Badge status={r.delivery.status} /> <span class="muted small">{r.delivery.attemptCount} attempt{r.delivery.attemptCount === 1 ? '' : 's'}</span></> : <span class="muted">—</span>}</td>
            </tr>
          ))}</tbody>
        </table></div>
      )}
      <h4>Delivery attempts</h4>
      {d.data && !attempts.length && <p class="muted small">No delivery attempt yet.</p>}
      {attempts.length > 0 && (
        <div class="table-wrap"><table class="table compact" data-testid="attempts">
          <thead><tr><th>When</th><th>#</th><th>Answer</th><th class="num">Took</th><th>Outcome</th><th>Next attempt</th></tr></thead>
          <tbody>{attempts.map((a) => (
            <tr key={`${a.deliveryId}:${a.attempt}`}>
              <td>{fmtDateTime(a.at)}</td><td>{a.attempt}</td>
              <td>{a.statusCode !== null ? `HTTP ${a.statusCode}` : <span class="small error-text">{a.error ?? 'no answer'}</span>}</td>
              <td class="num">{fmtInt(a.durationMs)} ms</td><td><Badge status={a.outcome} /></td><td>{fmtDateTime(a.nextAttemptAt)}</td>
            </tr>
          ))}</tbody>
        </table></div>
      )}
    </div>
  );
}

export function Scheduled() {
  const list = useApi<{ data: Schedule[] }>('/api/v1/scheduled-exports');
  const [secret, setSecret] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const { error, run } = useAction();
  const act = (path: string, method: 'POST' | 'DELETE') => run(async () => {
    await api(path, { method });
    list.reload();
  });
  const items = list.data?.data ?? [];
  return (
    <>
      <Section title="New scheduled export">
        {secret && <SecretOnce label="Webhook signing secret" value={secret} onDone={() => setSecret(null)} />}
        <NewSchedule onCreated={(s) => { setSecret(s); list.reload(); }} />
      </Section>
      <Section title="Scheduled exports">
        <ErrorNote error={list.error ?? error} />
        {list.data && !items.length && <Empty title="No schedule yet.">A schedule exports each hour, day or week once it ends and sends it to a webhook or an email address.</Empty>}
        {items.map((s) => (
          <div class="schedule" key={s.id} data-id={s.id}>
            <div class="schedule-row">
              <div>
                <strong>{s.name ?? `${s.frequency} ${s.scope}`}</strong> <Badge status={s.state} />
                <div class="muted small">Every {EVERY[s.frequency] ?? s.frequency} · {s.scope} · {s.format.toUpperCase()} → {destination(s)}{s.nextRunAt ? ` · next ${fmtDateTime(s.nextRunAt)}` : ''}</div>
                {s.disabledReason && <div class="small error-text">{s.disabledReason}</div>}
              </div>
              <div class="row-actions">
                <button type="button" class="btn small ghost" onClick={() => setOpen(open === s.id ? null : s.id)}>{open === s.id ? 'Hide runs' : 'Runs & deliveries'}</button>
                {s.state === 'active'
                  ? <button type="button" class="btn small" onClick={() => act(`/api/v1/scheduled-exports/${s.id}/pause`, 'POST')}>Pause</button>
                  : <button type="button" class="btn small" onClick={() => act(`/api/v1/scheduled-exports/${s.id}/resume`, 'POST')}>Resume</button>}
                <button type="button" class="btn small danger" onClick={() => confirm(`Delete “${s.name ?? s.id}”? Pending runs and deliveries are cancelled.`) && act(`/api/v1/scheduled-exports/${s.id}`, 'DELETE')}>Delete</button>
              </div>
            </div>
            {open === s.id && <Detail id={s.id} />}
          </div>
        ))}
      </Section>
    </>
  );
}
