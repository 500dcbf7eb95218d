/**
 * What the collector asks of an account's privacy settings, cached: its raw retention (older events
 * are refused) and its suppressed viewers (new events of an erased viewer are refused when the
 * account asked for it). A viewer is kept only as a keyed hash of (account, userId), with a key in
 * DATA_DIR/privacy.key, so the suppression list and the audit log never hold the erased id.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../storage/types.ts';

const TTL_MS = 30_000;

export class ViewerPolicy {
  private retention = new Map<string, { days: number; until: number }>();
  private suppressed = new Map<string, { subjects: Set<string>; until: number }>();

  constructor(
    private readonly store: Store,
    private readonly key: Buffer,
    private readonly defaultRawDays: number,
  ) {}

  static fromDataDir(dataDir: string, store: Store, defaultRawDays: number): ViewerPolicy {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'privacy.key');
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    return new ViewerPolicy(store, Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'), defaultRawDays);
  }

  /** The keyed hash standing for a viewer of an account. */
  subject(accountId: string, userId: string): string {
    return createHmac('sha256', this.key).update(`${accountId}\u0000${userId}`).digest('hex');
  }

  async rawDays(accountId: string): Promise<number> {
    const hit = this.retention.get(accountId);
    if (hit && hit.until > Date.now()) return hit.days;
    const days = (await this.store.accounts.get(accountId))?.rawRetentionDays ?? this.defaultRawDays;
    this.retention.set(accountId, { days, until: Date.now() + TTL_MS });
    return days;
  }

  /** A test of userIds against the account's suppression list; null when the list is empty. */
  async refusal(accountId: string): Promise<((userId: string) => boolean) | null> {
    let hit = this.suppressed.get(accountId);
    if (!hit || hit.until <= Date.now()) {
      hit = { subjects: new Set(await this.store.privacy.suppressed(accountId)), until: Date.now() + TTL_MS };
      this.suppressed.set(accountId, hit);
    }
    const subjects = hit.subjects;
    return subjects.size ? (userId) => subjects.has(this.subject(accountId, userId)) : null;
  }

  /** After a change of the account's settings or suppression list. */
  forget(accountId: string): void {
    this.retention.delete(accountId);
    this.suppressed.delete(accountId);
  }
}
