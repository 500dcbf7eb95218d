/**
 * The demo's viewers: where they are (real addresses of each country, found in the bundled DB-IP
 * database so the server's own enrichment places them there), what they watch on (browser user
 * agents the server parses), where they come from (referrers) and, for some learners, who they are.
 */
import type { GeoLookup } from '../enrich/geo.ts';
import type { Random } from './random.ts';

/** Country, share of viewers, and its usual UTC offset in hours (for the time of day people watch). */
export const COUNTRIES: ReadonlyArray<readonly [string, number, number]> = [
  ['US', 30, -6], ['GB', 9, 0], ['DE', 8, 1], ['IN', 7, 5.5], ['BR', 6, -3], ['CA', 5, -5], ['FR', 5, 1],
  ['NL', 3, 1], ['ES', 4, 1], ['AU', 3, 10], ['JP', 3, 9], ['MX', 3, -6], ['IT', 3, 1], ['SE', 2, 1],
  ['PL', 2, 1], ['TR', 2, 3], ['ZA', 1.5, 2], ['SG', 1.5, 8], ['KR', 1.5, 9], ['AR', 1.5, -3],
];

export type DeviceKind = 'desktop' | 'mobile' | 'tablet' | 'tv';

export interface Device {
  kind: DeviceKind;
  userAgent: string;
  /** Top picture height the player reaches on it. */
  maxHeight: number;
}

const DEVICES: ReadonlyArray<readonly [Device, number]> = [
  [{ kind: 'desktop', maxHeight: 1080, userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36' }, 26],
  [{ kind: 'desktop', maxHeight: 1080, userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36' }, 8],
  [{ kind: 'desktop', maxHeight: 1080, userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15' }, 9],
  [{ kind: 'desktop', maxHeight: 1080, userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87' }, 7],
  [{ kind: 'desktop', maxHeight: 1080, userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0' }, 5],
  [{ kind: 'desktop', maxHeight: 1080, userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0' }, 1.5],
  [{ kind: 'mobile', maxHeight: 720, userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1' }, 19],
  [{ kind: 'mobile', maxHeight: 720, userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36' }, 9],
  [{ kind: 'mobile', maxHeight: 720, userAgent: 'Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36' }, 5],
  [{ kind: 'tablet', maxHeight: 1080, userAgent: 'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1' }, 4],
  [{ kind: 'tablet', maxHeight: 1080, userAgent: 'Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Safari/537.36' }, 1.5],
  [{ kind: 'tv', maxHeight: 1080, userAgent: 'Mozilla/5.0 (SMART-TV; LINUX; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) 94.0.4606.31/7.0 TV Safari/537.36' }, 1],
];

/** Where a visit comes from: a referrer URL, or null for direct visits (bookmarks, apps, email clients). */
const REFERRERS: ReadonlyArray<readonly [string | null, number]> = [
  [null, 30], ['https://www.google.com/', 28], ['https://www.youtube.com/', 7], ['https://www.facebook.com/', 6],
  ['https://t.co/', 4], ['https://www.linkedin.com/', 5], ['https://www.bing.com/', 3], ['https://duckduckgo.com/', 2],
  ['https://news.ycombinator.com/', 1.5], ['https://www.reddit.com/', 3], ['https://mail.google.com/', 4],
];

const FIRST = ['Ana', 'Ben', 'Chloé', 'Daniel', 'Emma', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kavya', 'Lucas', 'Maya', 'Noah', 'Olga', 'Pedro', 'Quinn', 'Rosa', 'Sven', 'Tara', 'Umar', 'Vera', 'Wei', 'Yara', 'Zoe'];
const LAST = ['Silva', 'Müller', 'Smith', 'Kowalski', 'Tanaka', 'Patel', 'García', 'Rossi', 'Johansson', 'Dubois', 'Kim', 'Yilmaz', 'Nguyen', 'Brown', 'Novak'];

export interface Viewer {
  /** The anonymous id the SDK would keep in localStorage, or a learner's account id. */
  userId: string;
  country: string;
  utcOffset: number;
  ip: string;
  device: Device;
  /** Learners signed in to the academy carry their details. */
  email: string | null;
  viewerName: string | null;
  viewerAccountId: string | null;
}

/**
 * Public IPv4 addresses of each country of COUNTRIES, found by sampling addresses and asking the
 * geo database (the server's own) where they are; at most `per` a country.
 */
export function addressesByCountry(geo: GeoLookup, random: Random, per = 12): Map<string, string[]> {
  const out = new Map<string, string[]>(COUNTRIES.map(([c]) => [c, []]));
  let missing = out.size;
  for (let i = 0; i < 400_000 && missing > 0; i++) {
    const ip = `${random.int(1, 223)}.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}`;
    const list = out.get(geo.lookup(ip).country ?? '');
    if (list && list.length < per) {
      list.push(ip);
      if (list.length === per) missing--;
    }
  }
  return out;
}

/** `count` viewers; about one in five academy learners is signed in. */
export function makeViewers(count: number, random: Random, addresses: Map<string, string[]>, runId: string): Viewer[] {
  const viewers: Viewer[] = [];
  const countries = COUNTRIES.filter(([c]) => addresses.get(c)!.length > 0);
  for (let i = 0; i < count; i++) {
    const [country, , utcOffset] = random.weighted(countries.map((c) => [c, c[1]] as const));
    const signedIn = random.chance(0.2);
    const name = `${random.pick(FIRST)} ${random.pick(LAST)}`;
    viewers.push({
      userId: signedIn ? `learner-${runId}-${i}` : `anon-${runId}-${i}`,
      country,
      utcOffset,
      ip: random.pick(addresses.get(country)!),
      device: random.weighted(DEVICES),
      email: signedIn ? `${name.toLowerCase().normalize('NFD').replace(/[^a-z ]/g, '').replace(' ', '.')}.${i}@example.com` : null,
      viewerName: signedIn ? name : null,
      viewerAccountId: signedIn ? `acct-${1000 + i}` : null,
    });
  }
  return viewers;
}

export function pickReferrer(random: Random): string | null {
  return random.weighted(REFERRERS);
}
