/** Token buckets keyed by account or client address. rate 0 disables a limiter. */
import { AppError } from '../errors.ts';

export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly what: string,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes `cost` tokens or throws 429 with the seconds until they would be there. A cost above the
   * burst (a batch bigger than the bucket holds) passes when the bucket is full and leaves it in
   * debt, which the rate then pays back: else it could never pass, however long the client waited.
   */
  take(key: string, cost = 1): void {
    if (this.ratePerSecond <= 0) return;
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size > 50_000) this.buckets.clear();
      b = { tokens: this.burst, at: t };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.ratePerSecond);
    b.at = t;
    if (b.tokens >= Math.min(cost, this.burst)) {
      b.tokens -= cost;
      return;
    }
    const retryAfter = Math.max(1, Math.ceil((Math.min(cost, this.burst) - b.tokens) / this.ratePerSecond));
    throw new AppError('rate_limited', `Rate limit of ${this.ratePerSecond} ${this.what} a second exceeded; retry after ${retryAfter} s.`, { retryAfter });
  }
}
