/** Event ids, the persistent anonymous viewer id and the tab session (30 minutes of inactivity ends it). */
import type { Env, Kv } from './env.ts';

export const VIEWER_KEY = 'reelstat_vid';
export const SESSION_KEY = 'reelstat_sid';
/** A session ends after this long without an event. */
export const SESSION_IDLE_MS = 30 * 60 * 1000;

/** 32 hex digits from 16 random bytes. */
export function randomId(env: Env): string {
  return env.random().map((b) => (b < 16 ? '0' : '') + b.toString(16)).join('');
}

/** The viewer id kept in `kv`, made on first use. */
export function viewerId(env: Env, kv: Kv): string {
  let id = kv.get(VIEWER_KEY);
  if (!id || id.length > 64) {
    id = randomId(env);
    kv.set(VIEWER_KEY, id);
  }
  return id;
}

/**
 * The tab's session id: the stored one while its last event is under 30 minutes old, else a new
 * one. Each call marks the session active now.
 */
export function sessionId(env: Env, kv: Kv): string {
  const now = env.now();
  let id: string | null = null;
  try {
    const s = JSON.parse(kv.get(SESSION_KEY) || 'null') as { id?: unknown; at?: unknown } | null;
    if (s && typeof s.id === 'string' && typeof s.at === 'number' && now - s.at < SESSION_IDLE_MS && s.id.length <= 64) id = s.id;
  } catch {
    /* unreadable: a new session */
  }
  if (!id) id = randomId(env);
  kv.set(SESSION_KEY, JSON.stringify({ id, at: now }));
  return id;
}
