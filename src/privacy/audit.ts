/** The audit log: who exported or erased a viewer's data or changed retention, and when, per account. */
import type { Principal } from '../auth/service.ts';
import { newId } from '../auth/secrets.ts';
import type { AuditEntry, Page, Store } from '../storage/types.ts';

export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  async record(who: Principal, action: AuditEntry['action'], subject: string | null, details: Record<string, unknown>): Promise<string> {
    const id = newId('aud');
    await this.store.privacy.audit({ id, accountId: who.accountId, at: this.now(), actorKind: who.via, actorId: who.credentialId, action, subject, details });
    return id;
  }

  async list(accountId: string, page: Page) {
    const { items, total } = await this.store.privacy.auditLog(accountId, page);
    return {
      data: items.map((e) => ({
        id: e.id, at: new Date(e.at).toISOString(), actor: { kind: e.actorKind, id: e.actorId }, action: e.action, subject: e.subject, details: e.details,
      })),
      pagination: { limit: page.limit, offset: page.offset, total },
    };
  }
}
