/** Settings: the account and its users, write keys, API tokens, OAuth clients, the export UID, retention, the audit log. */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { PageHead } from '../components/PageHead';
import { Badge, Empty, ErrorNote, SecretOnce, Section, sdkSnippet } from '../components/ui';
import { fmtDateTime } from '../format';
import { useAction, useApi } from '../hooks';

interface Account { id: string; name: string; createdAt: string; exportUidEnabled: boolean; users: Array<{ email: string }> }
interface Credential { id: string; name: string | null; prefix: string; createdAt: string; clientId?: string }

const KINDS = [
  { path: 'write-keys', title: 'Write keys', one: 'write key', field: 'writeKey', what: 'Public keys for web pages: they can only send events (the SDK snippet needs one).' },
  { path: 'tokens', title: 'API tokens', one: 'API token', field: 'token', what: 'Full access to this workspace\'s API (stats, exports, settings). Keep them on servers.' },
  { path: 'oauth-clients', title: 'OAuth clients', one: 'OAuth client', field: 'client_secret', what: 'Client credentials for the Contentsquare-compatible export API (POST /v1/oauth/token).' },
] as const;

function Credentials({ kind }: { kind: (typeof KINDS)[number] }) {
  const list = useApi<{ data: Credential[] }>(`/api/v1/${kind.path}`);
  const [name, setName] = useState('');
  const [made, setMade] = useState<{ secret: string; clientId?: string } | null>(null);
  const action = useAction();
  const run = (fn: () => Promise<unknown>) => action.run(async () => {
    await fn();
    list.reload();
  });
  const create = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const r = await api<Record<string, string>>(`/api/v1/${kind.path}`, { method: 'POST', body: name.trim() ? { name: name.trim() } : {} });
      setMade({ secret: r[kind.field], clientId: r.client_id });
      setName('');
    });
  };
  const items = list.data?.data ?? [];
  return (
    <Section title={kind.title} id={kind.path}>
      <p class="muted">{kind.what}</p>
      {made && (
        <>
          {made.clientId && <p>client_id: <code data-testid="client-id">{made.clientId}</code></p>}
          <SecretOnce label={kind.path === 'oauth-clients' ? 'client_secret' : `New ${kind.one}`} value={made.secret} onDone={() => setMade(null)} />
          {kind.path === 'write-keys' && <pre class="code"><code>{sdkSnippet(made.secret)}</code></pre>}
        </>
      )}
      <ErrorNote error={list.error ?? action.error} />
      {list.data && !items.length && <Empty title={`No ${kind.one} yet.`}>Create one below; its secret is shown once.</Empty>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table compact" data-testid={kind.path}>
            <thead><tr><th>Name</th><th>{kind.path === 'oauth-clients' ? 'client_id' : 'Starts with'}</th><th>Created</th><th /></tr></thead>
            <tbody>{items.map((c) => (
              <tr key={c.id} data-id={c.id}>
                <td>{c.name ?? <span class="muted">unnamed</span>}</td>
                <td><code>{c.clientId ?? `${c.prefix}…`}</code></td>
                <td>{fmtDateTime(c.createdAt)}</td>
                <td class="num">
                  <button type="button" class="btn small danger" onClick={() => confirm(`Revoke “${c.name ?? c.prefix}”? Anything using it stops working at once.`) && run(() => api(`/api/v1/${kind.path}/${c.id}`, { method: 'DELETE' }))}>Revoke</button>
                </td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
      <form class="inline-form" onSubmit={create}>
        <input aria-label="Name" placeholder="Name (optional)" value={name} maxLength={200} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <button class="btn" type="submit">Create</button>
      </form>
    </Section>
  );
}

function ExportUid({ account, reload }: { account: Account; reload: () => void }) {
  const [uid, setUid] = useState<string | null>(null);
  const { error, run } = useAction();
  const act = (method: 'POST' | 'DELETE') => run(async () => {
    const r = await api<{ uid: string } | undefined>('/api/v1/export-uid', { method });
    setUid(r?.uid ?? null);
    reload();
  });
  return (
    <Section title="Export UID" id="export-uid">
      <p class="muted">The secret in the link of the Cincopa-compatible CSV (<code>/ohm_get_v3.aspx?t=by_uid_csv&amp;uid=…</code>); it reads nothing else.</p>
      <p data-testid="uid-state">Status: <Badge status={account.exportUidEnabled ? 'active' : 'disabled'} /></p>
      {uid && <SecretOnce label="New export UID" value={uid} onDone={() => setUid(null)} />}
      <ErrorNote error={error} />
      <div class="row-actions">
        <button type="button" class="btn" onClick={() => confirm('Rotate the export UID? Links with the old one stop working.') && act('POST')}>{account.exportUidEnabled ? 'Rotate' : 'Enable with a new UID'}</button>
        {account.exportUidEnabled && <button type="button" class="btn danger" onClick={() => confirm('Disable the export UID?') && act('DELETE')}>Disable</button>}
      </div>
    </Section>
  );
}

function Users({ account, reload }: { account: Account; reload: () => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { error, run } = useAction();
  const add = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await api('/api/v1/account/users', { method: 'POST', body: { email, password } });
      setEmail('');
      setPassword('');
      reload();
    });
  };
  return (
    <Section title="Workspace" id="account">
      <dl class="facts">
        <dt>Name</dt><dd>{account.name}</dd>
        <dt>Id</dt><dd><code>{account.id}</code></dd>
        <dt>Created</dt><dd>{fmtDateTime(account.createdAt)}</dd>
        <dt>Users</dt><dd>{account.users.map((u) => u.email).join(', ')}</dd>
      </dl>
      <form class="inline-form" onSubmit={add}>
        <input type="email" required aria-label="Email" placeholder="colleague@example.com" value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
        <input type="password" required minLength={8} aria-label="Password" placeholder="Password (8+ characters)" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        <button class="btn" type="submit">Add user</button>
      </form>
      <ErrorNote error={error} />
    </Section>
  );
}

interface RetentionSettings { rawDays: number; aggregateDays: number; exportFileDays: number }
const RETENTION_FIELDS: Array<{ key: keyof RetentionSettings; label: string; what: string }> = [
  { key: 'rawDays', label: 'Raw events', what: 'Older events are deleted and refused by the collector; aggregates keep answering.' },
  { key: 'aggregateDays', label: 'Aggregates', what: 'View records and daily rollups (views, watch time, heatmaps); at least the raw days.' },
  { key: 'exportFileDays', label: 'Export files', what: 'Files of exports and reports; their download links end with them.' },
];

function Retention() {
  const current = useApi<RetentionSettings>('/api/v1/retention');
  const [draft, setDraft] = useState<Partial<Record<keyof RetentionSettings, string>>>({});
  const [saved, setSaved] = useState(false);
  const { error, run } = useAction();
  const value = (k: keyof RetentionSettings) => draft[k] ?? String(current.data?.[k] ?? '');
  const save = (e: Event) => {
    e.preventDefault();
    setSaved(false);
    const body: Partial<RetentionSettings> = {};
    for (const { key } of RETENTION_FIELDS) if (draft[key] !== undefined) body[key] = Number(draft[key]);
    void run(async () => {
      await api('/api/v1/retention', { method: 'PUT', body });
      setDraft({});
      setSaved(true);
      current.reload();
    });
  };
  return (
    <Section title="Retention" id="retention">
      <p class="muted small">How long this workspace keeps its data. An hourly sweep deletes what is older; every change is in the audit log below.</p>
      <ErrorNote error={current.error ?? error} />
      {current.data && (
        <form class="form" onSubmit={save} data-testid="retention-form">
          <div class="form-grid">
            {RETENTION_FIELDS.map((f) => (
              <label key={f.key} class="field">
                <span class="field-label">{f.label} (days)</span>
                <input type="number" min={1} max={36500} required name={f.key} data-testid={`retention-${f.key}`} value={value(f.key)}
                  onInput={(e) => setDraft({ ...draft, [f.key]: (e.target as HTMLInputElement).value })} />
                <span class="muted small">{f.what}</span>
              </label>
            ))}
          </div>
          <div class="row-actions">
            <button class="btn" type="submit" disabled={!Object.keys(draft).length}>Save retention</button>
            {saved && <span data-testid="retention-saved"><Badge status="active" /> Saved</span>}
          </div>
        </form>
      )}
    </Section>
  );
}

interface AuditEntry { id: string; at: string; actor: { kind: string; id: string | null }; action: string; details: Record<string, unknown> }
const ACTIONS: Record<string, string> = {
  'viewer.export': 'Exported a viewer\'s data', 'viewer.erase': 'Erased a viewer', 'viewer.unsuppress': 'Lifted a viewer\'s suppression', 'retention.update': 'Changed retention',
};

function AuditLog() {
  const log = useApi<{ data: AuditEntry[] }>('/api/v1/audit-log?limit=20');
  const items = log.data?.data ?? [];
  return (
    <Section title="Audit log" id="audit-log">
      <p class="muted small">Who exported or erased a viewer's data, lifted a suppression or changed retention. Viewers appear only as a keyed hash.</p>
      <ErrorNote error={log.error} />
      {log.data && !items.length && <Empty title="Nothing yet.">Per-viewer exports, erasures (<code>DELETE /api/v1/users/…</code>) and retention changes show here.</Empty>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table compact" data-testid="audit-log">
            <thead><tr><th>When</th><th>What</th><th>Who</th><th>Details</th></tr></thead>
            <tbody>{items.map((a) => (
              <tr key={a.id}>
                <td>{fmtDateTime(a.at)}</td>
                <td>{ACTIONS[a.action] ?? a.action}</td>
                <td><code>{a.actor.kind}{a.actor.id ? ` ${a.actor.id}` : ''}</code></td>
                <td class="muted small"><code>{JSON.stringify(a.details)}</code></td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
    </Section>
  );
}

export function Settings() {
  const account = useApi<Account>('/api/v1/account');
  return (
    <>
      <PageHead title="Settings" subtitle="Credentials and data of this workspace" />
      <ErrorNote error={account.error} />
      {account.data && <Users account={account.data} reload={account.reload} />}
      {KINDS.map((k) => <Credentials key={k.path} kind={k} />)}
      {account.data && <ExportUid account={account.data} reload={account.reload} />}
      <Retention />
      <AuditLog />
    </>
  );
}
