/** The enrichment step of ingest: geo from the full address, then the IP mode, UA, domain. Cached. */
import type { DeviceType, Enrichment } from '../events/types.ts';
import type { GeoInfo, GeoLookup } from './geo.ts';
import { applyIpMode, type IpMode } from './ip.ts';
import { parseUserAgent, type UaInfo } from './ua.ts';

/**
 * A small cache with least-recently-used eviction, approximated by two generations of Maps so that a
 * hit is one Map lookup (an exact LRU re-inserts on every hit, which made enrich() ~3× slower). New
 * and re-used entries go to the current generation; when it holds max/2 entries it becomes the old
 * one and the previous old one is dropped. So at most `max` entries are held, and anything used
 * within the last max/2 insertions is still there.
 */
export class Lru<K, V> {
  private cur = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly gen: number;
  constructor(max: number) {
    this.gen = Math.max(1, Math.ceil(max / 2));
  }
  get size(): number {
    return this.cur.size + this.old.size;
  }
  get(k: K): V | undefined {
    const v = this.cur.get(k);
    if (v !== undefined) return v;
    const o = this.old.get(k);
    if (o !== undefined) this.set(k, o);
    return o;
  }
  set(k: K, v: V): void {
    if (this.cur.size >= this.gen && !this.cur.has(k)) {
      this.old = this.cur;
      this.cur = new Map();
    }
    this.cur.set(k, v);
  }
}

/** The page's host, lower-case, without a leading "www." or a trailing dot; null when there is none. */
export function domainOf(url: string | null): string | null {
  if (!url) return null;
  try {
    const host = new URL(url).hostname.toLowerCase().replace(/^www\./, '').replace(/\.$/, '');
    return host || null;
  } catch {
    return null;
  }
}

/**
 * What decides a URL's host: the text up to the end of the authority (the first "/", "?" or "#"
 * after "://"; a backslash stays inside, where the URL parser reads it as it would in the whole
 * URL). A cache keyed by it spares the URL parse for a new path or query on a known host.
 * A cut that would leave trailing whitespace (which the parser trims) keeps the whole URL.
 */
function hostPart(url: string): string {
  const s = url.indexOf('://');
  if (s < 0) return url;
  for (let i = s + 3; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) return url.charCodeAt(i - 1) > 32 ? url.slice(0, i) : url;
  }
  return url;
}

/** Longer user agents are parsed by their first this many characters (ua-parser-js reads 500). */
const UA_MAX = 1000;
/** Longer cache keys are not cached: an entry should stay small. */
const KEY_MAX = 1000;

export interface EnrichInput {
  ip: string | null;
  userAgent: string | null;
  url: string | null;
}

export interface Enricher {
  /** The server's additions for one event, plus the deviceType to use when the event gives none. */
  enrich(input: EnrichInput): Enrichment & { deviceType: DeviceType };
}

export function createEnricher(deps: { geo: GeoLookup; ipMode: IpMode; cacheSize?: number }): Enricher {
  const size = deps.cacheSize ?? 10_000;
  // Per raw address: its geo (from the full address) and what the IP mode keeps of it.
  const ipCache = new Lru<string, { geo: GeoInfo; ip: string | null }>(size);
  const uaCache = new Lru<string, UaInfo>(size);
  const urlCache = new Lru<string, string | null>(size);
  const hostCache = new Lru<string, string | null>(size);
  const nullGeo = deps.geo.lookup('0.0.0.0');
  const noUa = parseUserAgent(null);
  return {
    enrich(input: EnrichInput): Enrichment & { deviceType: DeviceType } {
      let geo = nullGeo;
      let ip: string | null = null;
      if (input.ip) {
        let hit = ipCache.get(input.ip);
        if (!hit) {
          hit = { geo: deps.geo.lookup(input.ip), ip: applyIpMode(input.ip, deps.ipMode) };
          if (input.ip.length <= KEY_MAX) ipCache.set(input.ip, hit);
        }
        geo = hit.geo;
        ip = hit.ip;
      }
      let ua = noUa;
      if (input.userAgent) {
        const key = input.userAgent.length > UA_MAX ? input.userAgent.slice(0, UA_MAX) : input.userAgent;
        const hit = uaCache.get(key);
        if (hit) ua = hit;
        else uaCache.set(key, (ua = parseUserAgent(key)));
      }
      let domain: string | null = null;
      if (input.url) {
        // By the whole URL first (one lookup for pages seen again), then by its host part (no URL parse
        // for a new path or query on a known host).
        const url = input.url;
        const hit = urlCache.get(url);
        if (hit !== undefined) domain = hit;
        else {
          const key = hostPart(url);
          const byHost = hostCache.get(key);
          domain = byHost !== undefined ? byHost : domainOf(key);
          if (byHost === undefined && key.length <= KEY_MAX) hostCache.set(key, domain);
          if (url.length <= KEY_MAX) urlCache.set(url, domain);
        }
      }
      return {
        // Field by field: spreading the geo object was the slowest part of enrich().
        country: geo.country,
        region: geo.region,
        city: geo.city,
        lat: geo.lat,
        lon: geo.lon,
        org: geo.org,
        ip,
        userAgent: input.userAgent,
        browser: ua.browser,
        os: ua.os,
        platform: ua.platform,
        isBot: ua.isBot,
        deviceType: ua.deviceType,
        domain,
      };
    },
  };
}
