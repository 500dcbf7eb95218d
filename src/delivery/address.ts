/**
 * Where a webhook may be sent (spec/exports.md "Scheduled exports", quality R19).
 *
 * Two gates, both needed:
 * - `checkWebhookUrl` looks at the URL alone (scheme, host name, literal addresses). WHATWG URL
 *   parsing already turns decimal, octal and hex IPv4 forms (`2130706433`, `0x7f.1`, `0177.0.0.1`)
 *   into dotted quads, so every literal is classified in its canonical form.
 * - `guardedLookup` is handed to node:http as the socket's `lookup`: the addresses it returns are
 *   the ones the socket connects to, so a name that resolves to a public address when a schedule
 *   is created and to a private one later (DNS rebinding) is still refused, before any connect.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, isIPv4, isIPv6 } from 'node:net';

export const ALLOW_PRIVATE_HINT = 'set REELSTAT_ALLOW_PRIVATE_WEBHOOKS=1 to allow it';

/** Resolves a host name to every address it has (tests inject one; the default is dns.lookup). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export class BlockedAddressError extends Error {
  readonly code = 'ERR_WEBHOOK_ADDRESS_REFUSED';
}

// --- classification -----------------------------------------------------------------------------

const V4_RANGES: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'a "this network" address (0.0.0.0/8)'],
  ['10.0.0.0', 8, 'a private address (10.0.0.0/8)'],
  ['100.64.0.0', 10, 'a carrier-grade NAT address (100.64.0.0/10)'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local address (169.254.0.0/16)'],
  ['172.16.0.0', 12, 'a private address (172.16.0.0/12)'],
  ['192.0.0.0', 24, 'an IETF protocol address (192.0.0.0/24)'],
  ['192.0.2.0', 24, 'a documentation address (192.0.2.0/24)'],
  ['192.88.99.0', 24, 'a 6to4 relay address (192.88.99.0/24)'],
  ['192.168.0.0', 16, 'a private address (192.168.0.0/16)'],
  ['198.18.0.0', 15, 'a benchmarking address (198.18.0.0/15)'],
  ['198.51.100.0', 24, 'a documentation address (198.51.100.0/24)'],
  ['203.0.113.0', 24, 'a documentation address (203.0.113.0/24)'],
  ['224.0.0.0', 4, 'a multicast address (224.0.0.0/4)'],
  ['240.0.0.0', 4, 'a reserved or broadcast address (240.0.0.0/4)'],
];
const V4_EXACT: Record<string, string> = {
  '0.0.0.0': 'the unspecified address',
  '169.254.169.254': 'the cloud metadata address',
  '168.63.129.16': 'the Azure platform (metadata) address',
};

function v4ToInt(a: string): number {
  return a.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}
const V4_TABLE = V4_RANGES.map(([base, bits, label]) => ({ base: v4ToInt(base), bits, label }));

function classifyV4(a: string): string | null {
  if (V4_EXACT[a]) return V4_EXACT[a];
  const n = v4ToInt(a);
  for (const r of V4_TABLE) {
    if (Math.floor(n / 2 ** (32 - r.bits)) === Math.floor(r.base / 2 ** (32 - r.bits))) return r.label;
  }
  return null;
}

/** The 16 bytes of a valid IPv6 address (zone id dropped), or null. */
export function ipv6Bytes(input: string): number[] | null {
  const a = input.replace(/%.*$/, '');
  if (!isIPv6(a)) return null;
  const groups = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const n = v4ToInt(g);
        out.push(n >>> 16, n & 0xffff);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = groups(head!);
  const t = tail === undefined ? [] : groups(tail);
  const words = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

const hex = (b: number[], from: number, to: number): string => b.slice(from, to).map((x) => x.toString(16).padStart(2, '0')).join('');
const v4At = (b: number[], i: number): string => b.slice(i, i + 4).join('.');

function embedded(b: number[], i: number, kind: string): string | null {
  const inner = classifyV4(v4At(b, i));
  return inner ? `${kind} form of ${v4At(b, i)}, ${inner}` : null;
}

function classifyV6(a: string): string | null {
  const b = ipv6Bytes(a);
  if (!b) return 'not a valid IPv6 address';
  const top = hex(b, 0, 2);
  if (hex(b, 0, 10) === '00000000000000000000' && hex(b, 10, 12) === 'ffff') return embedded(b, 12, 'an IPv4-mapped');
  if (hex(b, 0, 12) === '000000000000000000000000') {
    const last = hex(b, 12, 16);
    if (last === '00000000') return 'the unspecified address';
    if (last === '00000001') return 'a loopback address';
    return 'an IPv4-compatible address (::/96, deprecated)';
  }
  if (hex(b, 0, 12) === '0064ff9b0000000000000000') return embedded(b, 12, 'a NAT64');
  if (hex(b, 0, 6) === '0064ff9b0001') return 'a local-use NAT64 address (64:ff9b:1::/48)';
  if (hex(b, 0, 8) === '0100000000000000') return 'a discard-only address (100::/64)';
  if (hex(b, 0, 16) === 'fd000ec2000000000000000000000254') return 'the cloud metadata address';
  if ((b[0]! & 0xfe) === 0xfc) return 'a unique-local address (fc00::/7)';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'a link-local address (fe80::/10)';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return 'a site-local address (fec0::/10)';
  if (b[0] === 0xff) return 'a multicast address (ff00::/8)';
  if (top === '2002') return embedded(b, 2, 'a 6to4');
  if (hex(b, 0, 4) === '20010db8' || (top === '3fff' && b[2]! < 0x10)) return 'a documentation address';
  if (top === '2001' && b[2]! < 0x02) return 'an IETF special-purpose address (2001::/23, e.g. Teredo)';
  if ((b[0]! & 0xe0) !== 0x20) return 'a reserved address (outside 2000::/3)';
  return null;
}

/** Why an address may not receive webhooks (a phrase like "a loopback address"), or null if public. */
export function forbiddenAddressReason(address: string): string | null {
  const a = address.replace(/^\[|\]$/g, '');
  if (isIPv4(a)) return classifyV4(a);
  if (isIPv6(a.replace(/%.*$/, ''))) return classifyV6(a);
  return 'not an IP address';
}

// --- URL check ----------------------------------------------------------------------------------

export type UrlCheck = { ok: true; url: URL } | { ok: false; error: string };

/** Syntax, scheme and literal-address check of a webhook URL; no DNS. For schedule creation. */
export function checkWebhookUrl(input: string, opts: { allowPrivate?: boolean } = {}): UrlCheck {
  if (typeof input !== 'string' || input.trim() === '') return { ok: false, error: 'the webhook URL is empty' };
  if (input.length > 2048) return { ok: false, error: 'the webhook URL is longer than 2048 characters' };
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return { ok: false, error: 'the webhook URL is not a valid absolute URL (expected https://host/path)' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, error: `the webhook URL scheme ${JSON.stringify(url.protocol.slice(0, -1))} is not accepted; use https:// (or http://)` };
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === '') return { ok: false, error: 'the webhook URL has no host' };
  if (url.port === '0') return { ok: false, error: 'the webhook URL has port 0, which nothing listens on; leave the port out or give one from 1 to 65535' };
  if (opts.allowPrivate) return { ok: true, url };
  const name = host.replace(/\.$/, '').toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) {
    return { ok: false, error: `the webhook host ${name} is the local machine; ${ALLOW_PRIVATE_HINT}` };
  }
  if (isIP(host.replace(/%.*$/, ''))) {
    const why = forbiddenAddressReason(host);
    if (why) return { ok: false, error: `the webhook host ${host} is ${why}; such addresses are refused (${ALLOW_PRIVATE_HINT})` };
  }
  return { ok: true, url };
}

// --- connect-time lookup ------------------------------------------------------------------------

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, family: 0 }, (err, addrs) => (err ? reject(err) : resolve(addrs))));

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for node:net that resolves every address of the name and refuses the connection if
 * ANY of them is not public (unless allowPrivate). The socket connects only to what this returns.
 */
export function guardedLookup(opts: { allowPrivate?: boolean; resolve?: Resolver } = {}) {
  const resolve = opts.resolve ?? systemResolver;
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname).then(
      (addrs) => {
        if (addrs.length === 0) {
          const e: NodeJS.ErrnoException = new Error(`the webhook host ${hostname} has no address`);
          e.code = 'ENOTFOUND';
          return callback(e, '');
        }
        if (!opts.allowPrivate) {
          for (const a of addrs) {
            const why = forbiddenAddressReason(a.address);
            if (why) return callback(new BlockedAddressError(`the webhook host ${hostname} resolves to ${a.address}, ${why}; refused before connecting (${ALLOW_PRIVATE_HINT})`), '');
          }
        }
        const usable = options.family === 4 || options.family === 6 ? addrs.filter((a) => a.family === options.family) : addrs;
        if (usable.length === 0) {
          const e: NodeJS.ErrnoException = new Error(`the webhook host ${hostname} has no IPv${options.family} address`);
          e.code = 'ENOTFOUND';
          return callback(e, '');
        }
        if (options.all) callback(null, usable);
        else callback(null, usable[0]!.address, usable[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}
