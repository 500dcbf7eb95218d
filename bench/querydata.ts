/** Seeded generator of a realistic month of player events, written straight into a store. */
import { fingerprint } from '../src/collector/dedupe.ts';
import type { StoredEvent } from '../src/events/types.ts';
import type { Logger } from '../src/logger.ts';
import { Materializer } from '../src/metrics/materializer.ts';
import type { Store } from '../src/storage/types.ts';

export function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'IN', 'BR', 'JP', 'CA', 'AU', 'ES', 'IT', 'NL', 'SE', 'PL', 'MX', 'KR', 'RU', 'TR', 'ZA', 'AR'];
const DEVICES: Array<[StoredEvent['platform'], string, string, StoredEvent['deviceType']]> = [
  ['desktop', 'Windows', 'Chrome', 'web'], ['desktop', 'Mac OS', 'Safari', 'web'], ['smartphone', 'iOS', 'Mobile Safari', 'ios'],
  ['smartphone', 'Android', 'Chrome', 'android'], ['tablet', 'iOS', 'Mobile Safari', 'ios'], ['tv', 'Tizen', 'Samsung Browser', 'tv'],
];

export const VIDEOS = 200;
export const PROJECTS = 10;

export async function seedCatalog(store: Store, accountId: string, now: number): Promise<void> {
  for (let p = 0; p < PROJECTS; p++) await store.catalog.upsertProject(accountId, `p${p}`, `Project ${p}`, now);
  for (let v = 0; v < VIDEOS; v++) {
    await store.catalog.upsertVideo(accountId, `video-${v}`, { title: `Video ${v}`, duration: 60 + (v % 20) * 30, projectId: `p${v % PROJECTS}`, folder: `f${v % 5}/sub${v % 3}` }, now);
  }
}

/** Writes about `total` events spread over the 30 days before `now`; returns the count written. */
export async function seedEvents(store: Store, accountId: string, total: number, now: number, seed = 7): Promise<number> {
  const r = rng(seed);
  let batch: StoredEvent[] = [];
  let seq = await store.events.maxSeq();
  let written = 0;
  let session = 0;
  const push = (e: Omit<StoredEvent, 'id' | 'seq' | 'fp' | 'clientId' | 'accountId' | 'receivedAt'>) => {
    const id = `ev${seq + 1}`;
    batch.push({ ...e, accountId, id, clientId: true, fp: fingerprint(accountId, id), seq: ++seq, receivedAt: e.timestamp + 200 });
  };
  while (written + batch.length < total) {
    const s = session++;
    const video = Math.floor(Math.pow(r(), 2) * VIDEOS);
    const duration = 60 + (video % 20) * 30;
    const t0 = now - Math.floor(r() * 30 * 86_400_000) - 3_600_000;
    const [platform, os, browser, deviceType] = DEVICES[Math.floor(r() * DEVICES.length)];
    const page = Math.floor(r() * 50);
    const base = {
      contentId: `video-${video}`, sessionId: `s${s}`, userId: r() < 0.6 ? `u${Math.floor(r() * 200_000)}` : null, email: null, viewerAccountId: null, viewerName: null,
      deviceType, currentTime: null, url: `https://site${page % 10}.example/page/${page}`, referrer: null, domain: `site${page % 10}.example`, title: null, duration,
      ip: `203.0.${s % 256}.${(s >> 8) % 256}`, userAgent: `bench-${platform}`, country: COUNTRIES[Math.floor(r() * COUNTRIES.length)], region: null, city: null,
      lat: null, lon: null, org: null, browser, os, platform, isBot: false,
    };
    push({ ...base, event: 'impression', timestamp: t0, data: null });
    if (r() < 0.8) {
      push({ ...base, event: 'playStart', timestamp: t0 + 1000, data: null });
      const segs = Math.min(Math.floor(r() * 16), Math.ceil(duration / 10));
      for (let i = 0; i < segs; i++) {
        push({ ...base, event: 'watchProgress', timestamp: t0 + 1000 + (i + 1) * 10_000, data: { from: i * 10, to: Math.min(duration, i * 10 + 10) } });
      }
      if (segs * 10 >= duration) push({ ...base, event: 'completion', timestamp: t0 + 1000 + segs * 10_000, data: null });
      if (r() < 0.05) push({ ...base, event: 'rebuffer', timestamp: t0 + 3000, data: { duration: 1.5 } });
    }
    if (batch.length >= 50_000) {
      await store.events.insert(batch, []);
      written += batch.length;
      batch = [];
    }
  }
  if (batch.length) await store.events.insert(batch, []);
  return written + batch.length;
}

/** Builds the view records (and rollup) of everything seeded; returns the seconds it took. */
export async function materializeAll(store: Store, log: Logger): Promise<number> {
  const t0 = performance.now();
  const mat = new Materializer(store, log);
  await mat.start();
  mat.committed(await store.events.maxSeq());
  await mat.settle();
  await mat.stop();
  return (performance.now() - t0) / 1000;
}
