/** The app shell: the session (or the sign-in page), the navigation and the page of the address. */
import { useEffect, useState } from 'preact/hooks';
import { api, onUnauthorized, setCsrfToken } from './api';
import { Link } from './components/Link';
import { Exports } from './pages/Exports';
import { Overview } from './pages/Overview';
import { Settings } from './pages/Settings';
import { SignIn } from './pages/SignIn';
import { Video } from './pages/Video';
import { Videos } from './pages/Videos';
import { match, navigate, useLocation, type Location } from './router';

export interface SessionInfo {
  id: string;
  user: { email: string };
  account: { id: string; name: string };
  csrfToken: string;
  expiresAt: string;
}

const NAV = [
  { href: '/', label: 'Analytics', icon: '◔' },
  { href: '/videos', label: 'Videos', icon: '▶' },
  { href: '/exports', label: 'Exports', icon: '⇩' },
  { href: '/settings', label: 'Settings', icon: '⚙' },
];

function Page({ loc }: { loc: Location }) {
  const video = match('/videos/:id', loc.path);
  if (video) return <Video key={video.id} id={video.id} loc={loc} />;
  if (match('/videos', loc.path)) return <Videos loc={loc} />;
  if (match('/exports', loc.path)) return <Exports loc={loc} />;
  if (match('/settings', loc.path)) return <Settings />;
  return <Overview loc={loc} />;
}

export function App() {
  const loc = useLocation();
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);

  useEffect(() => {
    onUnauthorized(() => setSession(null));
    api<SessionInfo>('/api/v1/session').then(setSession, () => setSession(null));
  }, []);
  useEffect(() => {
    if (session) setCsrfToken(session.csrfToken);
    if (session === null && loc.path !== '/sign-in') navigate(`/sign-in${loc.path === '/' ? '' : `?next=${encodeURIComponent(loc.path + location.search)}`}`, { replace: true });
    if (session && loc.path === '/sign-in') navigate(loc.query.get('next')?.startsWith('/') ? loc.query.get('next')! : '/', { replace: true });
  }, [session, loc.path]);

  if (session === undefined) return <div class="boot" aria-busy="true" />;
  if (session === null) return <SignIn onSignedIn={setSession} />;

  const signOut = async () => {
    await api('/api/v1/session', { method: 'DELETE' }).catch(() => undefined);
    setSession(null);
  };
  const current = (href: string) => (href === '/' ? loc.path === '/' : loc.path.startsWith(href));
  return (
    <div class="shell">
      <aside class="sidebar">
        <Link class="brand" href="/"><span class="logo" aria-hidden="true">▶</span> Reelstat</Link>
        <nav class="nav" aria-label="Main">
          {NAV.map((n) => (
            <Link key={n.href} href={n.href} class={`nav-link${current(n.href) ? ' active' : ''}`} current={current(n.href)}>
              <span class="nav-icon" aria-hidden="true">{n.icon}</span>{n.label}
            </Link>
          ))}
        </nav>
        <div class="who">
          <div class="who-text">
            <span class="who-account">{session.account.name}</span>
            <span class="muted small" data-testid="user-email">{session.user.email}</span>
          </div>
          <button type="button" class="btn small ghost" onClick={signOut} data-testid="sign-out">Sign out</button>
        </div>
      </aside>
      <main class="main">
        <Page loc={loc} />
        <footer class="foot muted small">
          Reelstat · <a href="/api/v1/docs">API reference</a> · <a href="https://db-ip.com">IP Geolocation by DB-IP</a>
        </footer>
      </main>
    </div>
  );
}
