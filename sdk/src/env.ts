/**
 * What the tracker needs from the page, behind one interface so that the tracker and transport run
 * in Node tests with a fake clock, fake timers and a fake network. `browserEnv()` is the real one.
 */

/** A small string store (localStorage, sessionStorage, a cookie, or memory). */
export interface Kv {
  get(key: string): string | null;
  set(key: string, value: string): void;
  del(key: string): void;
}

export interface PostResult {
  status: number;
  /** Seconds from a Retry-After header, when there was one. */
  retryAfter: number | null;
}

export interface Env {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** POSTs `body` as text/plain (no CORS preflight); rejects on a network failure. */
  post(url: string, body: string): Promise<PostResult>;
  /** navigator.sendBeacon; false when the browser did not queue it (or has no beacons). */
  beacon(url: string, body: string): boolean;
  /** Where the anonymous viewer id lives: localStorage, else a first-party cookie, else memory. */
  ids: Kv;
  /** Per-tab store for the session: sessionStorage, else memory. */
  tab: Kv;
  /** Where unsent events wait for the next page: localStorage, else memory (never a cookie). */
  outbox: Kv;
  /** Calls `fn` when the page is hidden or unloaded; returns the unsubscribe function. */
  onHide(fn: () => void): () => void;
  /** 16 random bytes (crypto.getRandomValues, else Math.random). */
  random(): number[];
  page(): { url: string | null; referrer: string | null };
}

export function memoryKv(): Kv {
  const m: Record<string, string> = {};
  return {
    get: (k) => (k in m ? m[k]! : null),
    set: (k, v) => void (m[k] = v),
    del: (k) => void delete m[k],
  };
}

/** A Web Storage area when it exists and can be written (it throws in sandboxed frames and some private modes). */
function webStorage(which: 'localStorage' | 'sessionStorage'): Kv | null {
  try {
    if (typeof window === 'undefined') return null;
    const s = window[which];
    s.setItem('reelstat_t', '1');
    s.removeItem('reelstat_t');
    return {
      get: (k) => { try { return s.getItem(k); } catch { return null; } },
      set: (k, v) => { try { s.setItem(k, v); } catch { /* full or blocked */ } },
      del: (k) => { try { s.removeItem(k); } catch { /* blocked */ } },
    };
  } catch {
    return null;
  }
}

/** First-party cookies as a store of last resort for the viewer id (a year, SameSite=Lax). */
function cookieKv(): Kv | null {
  try {
    if (typeof document === 'undefined') return null;
    document.cookie = 'reelstat_t=1; path=/; SameSite=Lax';
    if (document.cookie.indexOf('reelstat_t=1') < 0) return null;
    document.cookie = 'reelstat_t=; path=/; max-age=0';
  } catch {
    return null;
  }
  const write = (k: string, v: string, age: number) => {
    document.cookie = `${k}=${encodeURIComponent(v)}; path=/; max-age=${age}; SameSite=Lax${location.protocol === 'https:' ? '; Secure' : ''}`;
  };
  return {
    get(k) {
      const m = document.cookie.match(new RegExp('(?:^|; )' + k + '=([^;]*)'));
      return m ? decodeURIComponent(m[1]!) : null;
    },
    set: (k, v) => write(k, v, 31536000),
    del: (k) => write(k, '', 0),
  };
}

export function browserEnv(persist: boolean): Env {
  const hasWindow = typeof window !== 'undefined';
  const local = webStorage('localStorage');
  return {
    now: () => Date.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as number),
    post: (url, body) =>
      fetch(url, { method: 'POST', body, keepalive: body.length < 60000, headers: { 'content-type': 'text/plain;charset=UTF-8' }, credentials: 'omit' })
        .then((r) => {
          const ra = Number(r.headers.get('retry-after'));
          return { status: r.status, retryAfter: ra > 0 ? ra : null };
        }),
    beacon(url, body) {
      try {
        return typeof navigator !== 'undefined' && !!navigator.sendBeacon && navigator.sendBeacon(url, body);
      } catch {
        return false;
      }
    },
    ids: (persist && (local || cookieKv())) || memoryKv(),
    tab: (persist && webStorage('sessionStorage')) || memoryKv(),
    outbox: (persist && local) || memoryKv(),
    onHide(fn) {
      const vis = () => document.visibilityState === 'hidden' && fn();
      document.addEventListener('visibilitychange', vis);
      window.addEventListener('pagehide', fn);
      return () => {
        document.removeEventListener('visibilitychange', vis);
        window.removeEventListener('pagehide', fn);
      };
    },
    random() {
      const a = new Uint8Array(16);
      try {
        crypto.getRandomValues(a);
      } catch {
        for (let i = 0; i < 16; i++) a[i] = (Math.random() * 256) | 0;
      }
      return Array.prototype.slice.call(a);
    },
    page: () => (hasWindow ? { url: location.href.slice(0, 2048), referrer: document.referrer.slice(0, 2048) || null } : { url: null, referrer: null }),
  };
}
