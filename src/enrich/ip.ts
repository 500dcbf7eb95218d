/** Client addresses: normalization and the privacy modes applied before anything is stored. */
import { isIP } from 'node:net';

/** REELSTAT_IP_MODE: what is kept of the client address (the same union as config.ts's). */
export type IpMode = 'full' | 'truncate' | 'drop';

/**
 * One spelling per address: plain IPv4 for IPv4-mapped IPv6 (::ffff:1.2.3.4 and ::ffff:102:304),
 * IPv6 lower-case and compressed (RFC 5952), without brackets or a zone id; null for anything that
 * is not an address.
 */
export function normalizeIp(ip: string | null | undefined): string | null {
  if (!ip) return null;
  let v = ip.trim();
  if (v.charCodeAt(0) === 91 /* [ */ && v.endsWith(']')) v = v.slice(1, -1);
  const kind = isIP(v);
  if (kind === 4) return v;
  if (kind !== 6) return null;
  const zone = v.indexOf('%');
  const g = ipv6Groups(zone < 0 ? v : v.slice(0, zone));
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
  }
  return compressV6(g);
}

/** The eight 16-bit groups of a valid IPv6 address (a dotted IPv4 tail counts as two groups). */
export function ipv6Groups(ip: string): number[] {
  let head = ip;
  const tail: number[] = [];
  if (ip.includes('.')) {
    const c = ip.lastIndexOf(':');
    const o = ip.slice(c + 1).split('.').map(Number);
    tail.push((o[0] << 8) | o[1], (o[2] << 8) | o[3]);
    head = ip.slice(0, c + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const part = (s: string) => (s ? s.split(':').map((h) => parseInt(h, 16)) : []);
  const dbl = head.indexOf('::');
  if (dbl < 0) return [...part(head), ...tail];
  const left = part(head.slice(0, dbl));
  const right = part(head.slice(dbl + 2));
  return [...left, ...Array(8 - tail.length - left.length - right.length).fill(0), ...right, ...tail];
}

function compressV6(groups: number[]): string {
  // Longest run of zero groups (length ≥ 2) becomes "::".
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** full: as is; truncate: last IPv4 octet or last 80 IPv6 bits zeroed; drop: nothing kept. */
export function applyIpMode(ip: string | null, mode: IpMode): string | null {
  const v = normalizeIp(ip);
  if (v === null || mode === 'drop') return null;
  if (mode === 'full') return v;
  if (isIP(v) === 4) return v.replace(/\.\d+$/, '.0');
  const g = ipv6Groups(v);
  for (let i = 3; i < 8; i++) g[i] = 0; // keep the first 48 bits
  return compressV6(g);
}

const PRIVATE_V4: Array<[number, number]> = [
  [0x00000000, 8], [0x0a000000, 8], [0x64400000, 10], [0x7f000000, 8], [0xa9fe0000, 16],
  [0xac100000, 12], [0xc0a80000, 16], [0xe0000000, 4], [0xf0000000, 4],
];

export function ipv4ToInt(ip: string): number {
  const o = ip.split('.');
  return ((+o[0] << 24) >>> 0) + (+o[1] << 16) + (+o[2] << 8) + +o[3];
}

/** Loopback, private, link-local, multicast and reserved ranges: no place on a map. */
export function isPrivateIp(ip: string): boolean {
  if (isIP(ip) === 4) {
    const n = ipv4ToInt(ip);
    return PRIVATE_V4.some(([net, bits]) => n >>> (32 - bits) === net >>> (32 - bits));
  }
  const g = ipv6Groups(ip);
  const first = g[0];
  return g.every((x) => x === 0) || (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) ||
    (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xff00) === 0xff00;
}

/** An IPv6 address as a BigInt (for range lookups). */
export function ipv6ToBigInt(ip: string): bigint {
  return ipv6Groups(ip).reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}
