/** A small read-through cache: a loaded value (found or not) is kept `ttlMs`; cleared wholesale when it grows past `max`. */
export class TtlCache<V> {
  private readonly map = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly max = 10_000,
  ) {}

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.map.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    const value = await load();
    if (this.map.size > this.max) this.map.clear();
    this.map.set(key, { value, until: this.now() + this.ttlMs });
    return value;
  }

  clear(): void {
    this.map.clear();
  }
}
