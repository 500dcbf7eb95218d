/** Settings: the account and its users, write keys, API tokens, OAuth clients, the export UID, retention. */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { PageHead } from '../components/PageHead';
import { Badge, Empty, ErrorNote, SecretOnce, Section, sdkSnippet } from '../components/ui';
import { fmtDateTime } from '../format';
import { useAction, useApi } from '../hooks';

interface Account { id: string; name: string; createdAt: string; exportUidEnabled: boolean; rawRetentionDays: number; users: Array<{ email: string }> }
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

function Retention({ account }: { account: Account }) {
  return (
    <Section title="Retention" id="retention">
      <dl class="facts">
        <dt>Raw events</dt><dd data-testid="raw-retention">{account.rawRetentionDays} days</dd>
      </dl>
      <p class="muted small">
        Events older than this are refused by the collector and are not exportable as raw data; views, watch time and the
        other aggregates keep answering from view records and the daily rollup.
      </p>
      {/* PLACEHOLDER (retention API): per-account retention settings are being added on another branch
          (GET/PUT /api/v1/retention {rawDays, aggregateDays, exportFileDays}). Until that is merged, this section only
          shows the account's raw retention (GET /api/v1/account); the form to read and change the three goes here. */}
      <div class="placeholder" data-testid="retention-placeholder">
        <Badge status="pending" /> Editing retention (raw events, aggregates, export files) arrives with the per-account
        retention API. Until then new accounts get <code>REELSTAT_RAW_RETENTION_DAYS</code>.
      </div>
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
      {account.data && <Retention account={account.data} />}
    </>
  );
}
