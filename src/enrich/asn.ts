/**
 * Organisations by address: the ASN ranges of @ip-location-db/asn (CSV, parsed straight from the
 * bytes into sorted Uint32Arrays and binary-searched). asn-cache.ts keeps a parsed copy (build/cache/).
 */
import { ipv4ToInt, ipv6Groups } from './ip.ts';

/**
 * Address ranges with an organisation each, sorted by start. A bound is W unsigned 32-bit words,
 * most significant first (W = 1 for IPv4, 4 for IPv6), so both families share one plain-number
 * binary search: no BigInt when loading or looking up.
 */
export class AsnTable {
  private readonly key: Uint32Array;
  constructor(
    readonly v6: boolean,
    readonly starts: Uint32Array,
    readonly ends: Uint32Array,
    readonly org: Uint32Array,
    readonly names: readonly string[],
  ) {
    this.key = new Uint32Array(v6 ? 4 : 1);
  }
  get size(): number {
    return this.org.length;
  }
  /** The organisation of a normalized address of this table's family; null outside every range. */
  find(ip: string): string | null {
    const key = this.key, w = key.length, starts = this.starts;
    if (w === 1) key[0] = ipv4ToInt(ip);
    else {
      const g = ipv6Groups(ip);
      for (let x = 0; x < 4; x++) key[x] = g[2 * x] * 0x10000 + g[2 * x + 1];
    }
    let lo = 0, hi = this.org.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(starts, mid * w, key, 0, w) <= 0) lo = mid + 1;
      else hi = mid - 1;
    }
    // The last range starting at or before the key; a few before it too, for a range nested in a larger one.
    for (let x = hi; x >= 0 && x > hi - 4; x--) if (cmp(key, 0, this.ends, x * w, w) <= 0) return this.names[this.org[x]] || null;
    return null;
  }
}

function cmp(a: Uint32Array, ai: number, b: Uint32Array, bi: number, w: number): number {
  for (let x = 0; x < w; x++) if (a[ai + x] !== b[bi + x]) return a[ai + x] < b[bi + x] ? -1 : 1;
  return 0;
}

const C_QUOTE = 34, C_COMMA = 44, C_NL = 10, C_CR = 13, C_0 = 48, C_9 = 57;
const TWO32 = 0x1_0000_0000;

/**
 * Reads "start,end,asn,organisation" lines (decimal addresses; the organisation optionally quoted
 * with "" escapes, RFC 4180). Lines that do not start with a digit (a header, blanks) are skipped, as
 * are ranges that are reversed or out of the family's range. Names are decoded from the bytes
 * (fresh strings: nothing keeps the file's text alive) once per distinct (AS number, raw bytes).
 */
export function parseAsnCsv(input: Uint8Array, v6: boolean, path = 'ASN CSV'): AsnTable {
  const buf = new Uint8Array(input.buffer, input.byteOffset, input.length); // not a Buffer subclass: faster indexing
  const n = buf.length, w = v6 ? 4 : 1;
  let cap = 1;
  for (let p = buf.indexOf(C_NL); p !== -1; p = buf.indexOf(C_NL, p + 1)) cap++;
  const starts = new Uint32Array(cap * w), ends = new Uint32Array(cap * w), orgOf = new Uint32Array(cap);
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const byAsn = new Map<number, [number, number, number]>(); // AS number → [name index, offset, length] of its raw name
  const dec = new TextDecoder();
  const digitsEnd = (j: number) => {
    while (j < n && buf[j] >= C_0 && buf[j] <= C_9) j++;
    return j;
  };
  /** Decimal digits [a, b) into w words at out[at…]; false when the number needs more than 32·w bits. */
  const decimal = (a: number, b: number, out: Uint32Array, at: number) => {
    if (w === 1) {
      let v = 0;
      for (let j = a; j < b; j++) v = v * 10 + buf[j] - C_0;
      out[at] = v;
      return b - a < 16 && v < TWO32;
    }
    out.fill(0, at, at + w);
    // Six digits at a time keep word · 10⁶ + carry below 2⁵³.
    for (let j = a; j < b; ) {
      let chunk = 0, mul = 1;
      for (const end = Math.min(b, j + 6); j < end; j++, mul *= 10) chunk = chunk * 10 + buf[j] - C_0;
      let carry = chunk;
      for (let x = at + w - 1; x >= at; x--) {
        const v = out[x] * mul + carry;
        carry = Math.floor(v / TWO32);
        out[x] = v - carry * TWO32;
      }
      if (carry) return false;
    }
    return true;
  };
  const sameBytes = (a: number, b: number, len: number) => {
    for (let x = 0; x < len; x++) if (buf[a + x] !== buf[b + x]) return false;
    return true;
  };
  let k = 0;
  for (let i = 0; i < n; ) {
    const a0 = i, a1 = digitsEnd(i);
    const b0 = a1 + 1, b1 = a1 > a0 && buf[a1] === C_COMMA ? digitsEnd(b0) : -1;
    const c0 = b1 + 1, c1 = b1 > b0 && buf[b1] === C_COMMA ? digitsEnd(c0) : -1;
    if (c1 < 0 || buf[c1] !== C_COMMA) {
      const nl = buf.indexOf(C_NL, i);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    // The raw name [f0, f1) runs to the end of the line (before a CR); a quoted one may hold commas, "" and newlines.
    const f0 = c1 + 1;
    let j = f0;
    if (buf[j] === C_QUOTE) for (j++; j < n; j++) if (buf[j] === C_QUOTE && buf[++j] !== C_QUOTE) break;
    while (j < n && buf[j] !== C_NL) j++;
    const f1 = j > f0 && buf[j - 1] === C_CR ? j - 1 : j;
    i = j + 1;
    if (!decimal(a0, a1, starts, k * w) || !decimal(b0, b1, ends, k * w) || cmp(ends, k * w, starts, k * w, w) < 0) continue;
    let asn = c1 > c0 ? 0 : -1;
    for (let x = c0; x < c1; x++) asn = asn * 10 + buf[x] - C_0;
    const seen = byAsn.get(asn);
    if (seen && seen[2] === f1 - f0 && sameBytes(seen[1], f0, f1 - f0)) orgOf[k++] = seen[0];
    else {
      let name = dec.decode(buf.subarray(f0, f1));
      if (buf[f0] === C_QUOTE) {
        const q = name.lastIndexOf('"');
        name = name.slice(1, q > 0 ? q : undefined).replaceAll('""', '"');
      }
      let ni = nameIndex.get(name);
      if (ni === undefined) nameIndex.set(name, (ni = names.push(name) - 1));
      if (!seen) byAsn.set(asn, [ni, f0, f1 - f0]);
      orgOf[k++] = ni;
    }
  }
  if (k === 0) throw new Error(`${path} holds no ASN ranges; expected CSV lines "start,end,asn,organisation" with numeric addresses`);
  return sortedTable(v6, starts.slice(0, k * w), ends.slice(0, k * w), orgOf.slice(0, k), names);
}

/** The bundled files are in start order; a file from the settings need not be. */
function sortedTable(v6: boolean, starts: Uint32Array, ends: Uint32Array, org: Uint32Array, names: string[]): AsnTable {
  const w = v6 ? 4 : 1, k = org.length;
  let sorted = true;
  for (let x = 1; x < k && sorted; x++) sorted = cmp(starts, (x - 1) * w, starts, x * w, w) <= 0;
  if (sorted) return new AsnTable(v6, starts, ends, org, names);
  const order = Array.from({ length: k }, (_, x) => x).sort((x, y) => cmp(starts, x * w, starts, y * w, w));
  const s = new Uint32Array(k * w), e = new Uint32Array(k * w), o = new Uint32Array(k);
  order.forEach((from, to) => {
    s.set(starts.subarray(from * w, from * w + w), to * w);
    e.set(ends.subarray(from * w, from * w + w), to * w);
    o[to] = org[from];
  });
  return new AsnTable(v6, s, e, o, names);
}
