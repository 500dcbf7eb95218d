/**
 * Signed download links: `/downloads/{runId}/{file}?expires=…&sig=…`, an HMAC-SHA256 over the path
 * and the expiry with a key kept in the data directory. The link is the only credential a download
 * needs. Altered: 403; past its expiry: 410.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { safeEqual } from '../auth/secrets.ts';

export type LinkCheck = 'ok' | 'expired' | 'forged';

const DAY = 86_400_000;

export class LinkSigner {
  constructor(
    private readonly key: Buffer,
    readonly ttlMs: number,
    private readonly baseUrl: () => string,
  ) {}

  /** The key lives in DATA_DIR/link.key (0600), made on first use. */
  static fromDataDir(dataDir: string, ttlMs: number, baseUrl: () => string): LinkSigner {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'link.key');
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    return new LinkSigner(Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'), ttlMs, baseUrl);
  }

  private mac(path: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${path}\n${expires}`).digest('base64url');
  }

  /**
   * When the links to files written at `now` end (ms): after the link TTL, or after the account's
   * export file retention (days) when that is shorter, since the retention sweeper deletes the files then.
   */
  expiryOf(now: number, retentionDays: number | undefined): number {
    return now + (retentionDays === undefined ? this.ttlMs : Math.min(this.ttlMs, retentionDays * DAY));
  }

  /** An absolute URL for `path`, valid until `expiresAt` (ms; default now + ttl). */
  sign(path: string, expiresAt: number): string {
    const expires = Math.floor(expiresAt / 1000);
    return `${this.baseUrl().replace(/\/$/, '')}${path}?expires=${expires}&sig=${this.mac(path, expires)}`;
  }

  check(path: string, expires: string | undefined, sig: string | undefined, now: number): LinkCheck {
    // The digits exactly as signed: a leading zero is another link (it would pass as the same number).
    if (!expires || !sig || !/^(0|[1-9]\d{0,11})$/.test(expires)) return 'forged';
    if (!safeEqual(this.mac(path, Number(expires)), sig)) return 'forged';
    return Number(expires) * 1000 < now ? 'expired' : 'ok';
  }
}
