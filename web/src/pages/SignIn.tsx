/** Sign in with a user's email and password (POST /api/v1/session sets the session cookie). */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { useAction } from '../hooks';
import type { SessionInfo } from '../app';

export function SignIn({ onSignedIn }: { onSignedIn: (s: SessionInfo) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, run } = useAction();

  async function submit(e: Event) {
    e.preventDefault();
    const ok = await run(async () => onSignedIn(await api<SessionInfo>('/api/v1/session', { method: 'POST', body: { email: email.trim(), password } })));
    if (!ok) setPassword('');
  }

  return (
    <main class="signin">
      <form class="card signin-card" onSubmit={submit}>
        <div class="brand big"><span class="logo" aria-hidden="true">▶</span> Reelstat</div>
        <h1>Sign in</h1>
        <p class="muted">Video analytics for your workspace.</p>
        <label class="field">
          <span class="field-label">Email</span>
          <input type="email" name="email" autocomplete="username" required autofocus value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span class="field-label">Password</span>
          <input type="password" name="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        {error && <p class="note error" role="alert">{error.status === 401 ? 'Wrong email or password.' : error.message}</p>}
        <button class="btn primary wide" type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        <p class="muted small">
          The first start of the server printed the login of the <code>default</code> workspace (also in <code>data/credentials.json</code>).
        </p>
      </form>
    </main>
  );
}
