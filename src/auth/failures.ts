/** Counts failed authentications per client address; past the limit, the address gets 429 for a window. */
import { AppError } from '../errors.ts';

export class FailureLimiter {
  private readonly byIp = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private entry(ip: string): { count: number; since: number } | undefined {
    const e = this.byIp.get(ip);
    if (e && this.now() - e.since >= this.windowMs) {
      this.byIp.delete(ip);
      return undefined;
    }
    return e;
  }

  /** Throws 429 when this address has failed too often recently. */
  check(ip: string): void {
    const e = this.entry(ip);
    if (e && e.count >= this.max) {
      const retryAfter = Math.max(1, Math.ceil((e.since + this.windowMs - this.now()) / 1000));
      throw new AppError('too_many_failures', `Too many failed authentication attempts from this address; retry after ${retryAfter} s.`, { retryAfter });
    }
  }

  fail(ip: string): void {
    if (this.byIp.size > 100_000) this.prune();
    const e = this.entry(ip);
    if (e) e.count++;
    else this.byIp.set(ip, { count: 1, since: this.now() });
  }

  private prune(): void {
    for (const [ip] of this.byIp) this.entry(ip);
    if (this.byIp.size > 100_000) this.byIp.clear();
  }
}
