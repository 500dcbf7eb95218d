/**
 * De-duplication by event id per account, without a key index in the store.
 *
 * Every client-given id has a 53-bit fingerprint of (account, id). The writer keeps the
 * fingerprints of all stored events in an open-addressing hash set (8 bytes an event). A
 * fingerprint not in the set is certainly new; one in the set is checked against the store by
 * exact id, so a fingerprint collision costs one lookup and never drops an event.
 */

/** cyrb53: a fast 53-bit string hash. Never 0 (0 marks "server-made id, not de-duplicated"). */
export function fingerprint(accountId: string, id: string): number {
  const s = accountId + '\u0000' + id;
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const fp = 4294967296 * (2097151 & h2) + (h1 >>> 0);
  return fp === 0 ? 1 : fp;
}

export class FingerprintSet {
  private slots: Float64Array;
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1 << 16) {
    let cap = 1 << 4;
    while (cap < initialCapacity * 2) cap <<= 1;
    this.slots = new Float64Array(cap);
    this.mask = cap - 1;
  }

  private slot(fp: number): number {
    // Mix the low 32 bits and the high 21 bits into a start slot.
    const lo = fp >>> 0;
    const hi = (fp / 4294967296) >>> 0;
    return (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 0) & this.mask;
  }

  has(fp: number): boolean {
    for (let i = this.slot(fp); ; i = (i + 1) & this.mask) {
      const v = this.slots[i];
      if (v === 0) return false;
      if (v === fp) return true;
    }
  }

  add(fp: number): void {
    if ((this.size + 1) * 4 > this.slots.length * 3) this.grow();
    for (let i = this.slot(fp); ; i = (i + 1) & this.mask) {
      const v = this.slots[i];
      if (v === fp) return;
      if (v === 0) {
        this.slots[i] = fp;
        this.size++;
        return;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Float64Array(old.length * 2);
    this.mask = this.slots.length - 1;
    this.size = 0;
    for (const v of old) if (v !== 0) this.add(v);
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.slots.byteLength;
  }
}
