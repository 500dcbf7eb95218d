/**
 * Seeds a server with a realistic workspace through the collector: catalog entries, and sessions
 * over the last two weeks from several countries (client addresses), platforms and browsers (user
 * agents of real browsers; a curl-like agent would be a bot and count nowhere) on several sites.
 * Deterministic for a given seed. Events carry `ip` and `userAgent`, so they go with an API token.
 */

const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
];
/** Addresses DB-IP places in US, GB, DE, FR, JP, BR, CA, NL, SE, AU. */
const IPS = ['8.8.8.8', '81.2.69.142', '85.214.132.117', '62.210.0.1', '133.242.0.1', '200.147.0.1', '103.21.244.1', '91.198.174.192', '130.244.0.1', '1.1.1.1'];
const PAGES = [
  'https://www.acme-academy.test/courses/intro', 'https://www.acme-academy.test/courses/advanced', 'https://acme-academy.test/pricing',
  'https://blog.acme.test/2026/launch', 'https://blog.acme.test/2026/tips', 'https://partner.example/reviews/reelstat',
];

export const SEED_VIDEOS = [
  { id: 'intro-tour', title: 'Product tour in 3 minutes', duration: 180, folder: 'marketing', projectId: 'site' },
  { id: 'onboarding-1', title: 'Onboarding 1: your first dashboard', duration: 420, folder: 'courses/onboarding', projectId: 'academy' },
  { id: 'onboarding-2', title: 'Onboarding 2: exports and reports', duration: 540, folder: 'courses/onboarding', projectId: 'academy' },
  { id: 'webinar-q3', title: 'Webinar: video analytics that add up', duration: 900, folder: 'webinars', projectId: 'academy' },
  { id: 'teaser-15s', title: 'Launch teaser', duration: 15, folder: 'marketing', projectId: 'site' },
  { id: 'customer-story', title: 'Customer story: Northwind Learning', duration: 240, folder: 'marketing', projectId: 'site' },
];

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeedOptions {
  sessions?: number;
  days?: number;
  seed?: number;
  now?: number;
}

export async function seedWorkspace(url: string, token: string, opts: SeedOptions = {}): Promise<{ events: number; sessions: number }> {
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  for (const [id, name] of [['site', 'Website'], ['academy', 'Acme Academy']]) {
    const r = await fetch(`${url}/api/v1/projects/${id}`, { method: 'PUT', headers: auth, body: JSON.stringify({ name }) });
    if (r.status !== 200) throw new Error(`project PUT ${id}: ${r.status} ${await r.text()}`);
  }
  for (const v of SEED_VIDEOS) {
    const r = await fetch(`${url}/api/v1/videos/${v.id}`, { method: 'PUT', headers: auth, body: JSON.stringify({ title: v.title, duration: v.duration, folder: v.folder, projectId: v.projectId }) });
    if (r.status !== 200) throw new Error(`catalog PUT ${v.id}: ${r.status} ${await r.text()}`);
  }
  const rand = rng(opts.seed ?? 42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const now = opts.now ?? Date.now();
  const days = opts.days ?? 14;
  const events: Array<Record<string, unknown>> = [];
  const n = opts.sessions ?? 240;
  for (let i = 0; i < n; i++) {
    // Popular videos first: a skewed pick.
    const video = SEED_VIDEOS[Math.min(SEED_VIDEOS.length - 1, Math.floor(rand() ** 1.8 * SEED_VIDEOS.length))];
    // Ends at least 10 minutes ago, so none of these counts as watching now.
    const start = now - 15 * 60_000 - Math.floor(rand() * days * 86_400_000) - video.duration * 1000;
    const sessionId = `seed-${i}`;
    const common = { contentId: video.id, sessionId, userId: `viewer-${Math.floor(rand() * n * 0.7)}`, ip: pick(IPS), userAgent: pick(UAS), url: pick(PAGES), duration: video.duration, title: video.title };
    let k = 0;
    const add = (event: string, atMs: number, extra: Record<string, unknown> = {}) => events.push({ id: `${sessionId}-${k++}`, event, timestamp: new Date(atMs).toISOString(), ...common, ...extra });
    add('impression', start);
    if (rand() < 0.12) add('impression', start + 20_000); // a page reload
    if (rand() < 0.3) continue; // loaded, never played
    add('playStart', start + 1000);
    const r = rand();
    const watched = r < 0.15 ? Math.min(video.duration, 1 + Math.floor(rand() * 4)) : r < 0.45 ? video.duration : Math.ceil(video.duration * (0.1 + 0.85 * rand()));
    for (let from = 0; from < watched; from += 10) {
      const to = Math.min(watched, from + 10);
      add('watchProgress', start + 1000 + to * 1000, { data: { from, to } });
    }
    if (rand() < 0.25) {
      // Rewatch the opening seconds.
      add('watchProgress', start + 1000 + (watched + 12) * 1000, { data: { from: 0, to: Math.min(10, watched) } });
    }
    if (watched >= video.duration) add('completion', start + 2000 + watched * 1000);
  }
  for (let i = 0; i < events.length; i += 1000) {
    const r = await fetch(`${url}/api/v1/collect`, { method: 'POST', headers: auth, body: JSON.stringify(events.slice(i, i + 1000)) });
    const body = await r.json();
    if (r.status !== 202 || body.rejected.length) throw new Error(`collect: ${r.status} ${JSON.stringify(body).slice(0, 500)}`);
  }
  return { events: events.length, sessions: n };
}

/** Sessions playing right now, sent by a browser with a write key (they count as watching now). */
export async function sendLivePlayback(url: string, writeKey: string, sessions: string[], contentId = SEED_VIDEOS[0].id): Promise<void> {
  const now = Date.now();
  const events = sessions.flatMap((s) => [
    { id: `${s}-imp`, event: 'impression', timestamp: now - 15_000, contentId, sessionId: s, url: PAGES[0] },
    { id: `${s}-play`, event: 'playStart', timestamp: now - 14_000, contentId, sessionId: s, url: PAGES[0] },
    { id: `${s}-p1`, event: 'watchProgress', timestamp: now - 4_000, contentId, sessionId: s, url: PAGES[0], data: { from: 0, to: 10 } },
  ]);
  const r = await fetch(`${url}/api/v1/collect`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-reelstat-key': writeKey, 'user-agent': UAS[0] }, body: JSON.stringify(events) });
  if (r.status !== 202) throw new Error(`live collect: ${r.status} ${await r.text()}`);
}
