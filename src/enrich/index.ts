/** The enrichment step of ingest: geo from the full address, then the IP mode, UA, domain. Cached. */
import type { DeviceType, Enrichment } from '../events/types.ts';
import type { GeoInfo, GeoLookup } from './geo.ts';
import { applyIpMode, type IpMode } from './ip.ts';
import { parseUserAgent, type UaInfo } from './ua.ts';

/** A Map kept in insertion order; the oldest entry goes when full. Hits are re-inserted. */
export class Lru<K, V> {
  private map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    if (this.map.size >= this.max && !this.map.has(k)) this.map.delete(this.map.keys().next().value as K);
    this.map.set(k, v);
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

export interface EnrichInput {
  ip: string | null;
  userAgent: string | null;
  url: string | null;
}

export function createEnricher(deps: { geo: GeoLookup; ipMode: IpMode; cacheSize?: number }) {
  // Per raw address: its geo (from the full address) and what the IP mode keeps of it.
  const ipCache = new Lru<string, { geo: GeoInfo; ip: string | null }>(deps.cacheSize ?? 10_000);
  const uaCache = new Lru<string, UaInfo>(deps.cacheSize ?? 10_000);
  const domainCache = new Lru<string, string | null>(deps.cacheSize ?? 10_000);
  const nullGeo = deps.geo.lookup('0.0.0.0');
  return {
    enrich(input: EnrichInput): Enrichment & { deviceType: DeviceType } {
      let geo = nullGeo;
      let ip: string | null = null;
      if (input.ip) {
        let hit = ipCache.get(input.ip);
        if (!hit) {
          hit = { geo: deps.geo.lookup(input.ip), ip: applyIpMode(input.ip, deps.ipMode) };
          ipCache.set(input.ip, hit);
        }
        geo = hit.geo;
        ip = hit.ip;
      }
      const uaKey = input.userAgent ?? '';
      let ua = uaCache.get(uaKey);
      if (!ua) {
        ua = parseUserAgent(input.userAgent);
        uaCache.set(uaKey, ua);
      }
      let domain: string | null = null;
      if (input.url) {
        const hit = domainCache.get(input.url);
        domain = hit !== undefined ? hit : domainOf(input.url);
        if (hit === undefined) domainCache.set(input.url, domain);
      }
      return {
        ...geo,
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

export type Enricher = ReturnType<typeof createEnricher>;
