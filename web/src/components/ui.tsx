/** Small shared pieces: error notes, empty states, badges, copy buttons, a secret shown once, the SDK snippet. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { ApiError } from '../api';
import { Link } from './Link';

export function ErrorNote({ error }: { error: ApiError | Error | undefined | null }) {
  if (!error) return null;
  return <p class="note error" role="alert">{error.message}</p>;
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children && <div class="empty-body">{children}</div>}
    </div>
  );
}

const TONE: Record<string, string> = {
  completed: 'ok', delivered: 'ok', sent: 'ok', active: 'ok', success: 'ok',
  pending: 'wait', running: 'wait', retry: 'wait', paused: 'muted', expired: 'muted', cancelled: 'muted', none: 'muted',
  failed: 'bad', disabled: 'bad',
};
export function Badge({ status }: { status: string }) {
  return <span class={`badge ${TONE[status] ?? 'muted'}`}>{status}</span>;
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button type="button" class="btn small ghost" onClick={() => navigator.clipboard?.writeText(text).then(() => {
      setDone(true);
      setTimeout(() => setDone(false), 1500);
    })}>{done ? 'Copied' : label}</button>
  );
}

/** A secret the server shows only once (a new token, UID, client secret, webhook secret). */
export function SecretOnce({ label, value, onDone }: { label: string; value: string; onDone: () => void }) {
  return (
    <div class="secret" data-testid="secret">
      <p><strong>{label}</strong> — copy it now: it is shown only this once and stored only as a hash.</p>
      <div class="secret-row">
        <code>{value}</code>
        <CopyButton text={value} />
        <button type="button" class="btn small" onClick={onDone}>Done</button>
      </div>
    </div>
  );
}

export function sdkSnippet(writeKey = 'wk_…', contentId = '…'): string {
  return `<script src="${location.origin}/sdk/reelstat.js"></script>\n<script>Reelstat.track(document.querySelector('video'), {writeKey: '${writeKey}', contentId: '${contentId}'})</script>`;
}

/** What to do when nothing has been measured yet: put the SDK on a page. */
export function InstallSdk({ contentId }: { contentId?: string }) {
  const snippet = sdkSnippet('wk_…', contentId ?? '…');
  return (
    <div class="install" data-testid="install-sdk">
      <p>
        Add the Reelstat SDK to the page with your video: paste this before <code>&lt;/body&gt;</code>, with a write key
        of this workspace (<Link href="/settings">Settings → Write keys</Link> makes one) and an id of your choice for the video.
        Views appear here within seconds of playback.
      </p>
      <pre class="code"><code>{snippet}</code></pre>
      <CopyButton text={snippet} label="Copy snippet" />
    </div>
  );
}

export function Section({ title, actions, children, id, busy }: { title: string; actions?: ComponentChildren; children: ComponentChildren; id?: string; busy?: boolean }) {
  return (
    <section class="card" id={id} aria-busy={busy === undefined ? undefined : busy}>
      <header class="card-head">
        <h2>{title}</h2>
        {actions && <div class="card-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

/** A bar showing a share of the largest value, behind a table cell. */
export function ShareBar({ value, max }: { value: number; max: number }) {
  return <span class="share" style={{ width: `${max > 0 ? Math.max(2, (value / max) * 100) : 0}%` }} aria-hidden="true" />;
}
