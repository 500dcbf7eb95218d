/**
 * Per-viewer data (spec/exports.md "Per-user data"): the export of a viewer's profile and events,
 * and erasure. A viewer is a userId; the data attributed to them is every event with that userId and
 * the events without one in the sessions where it appears (the viewer of an event without userId is
 * its session), and the view records built from them.
 */
import type { Principal } from '../auth/service.ts';
import { AppError } from '../errors.ts';
import type { ExportService } from '../exports/service.ts';
import type { Logger } from '../logger.ts';
import type { Materializer } from '../metrics/materializer.ts';
import { METRIC_NAMES } from '../metrics/registry.ts';
import type { StatsService } from '../metrics/stats.ts';
import type { Store } from '../storage/types.ts';
import type { AuditLog } from './audit.ts';
import { holdsViewer, scrubSpec } from './holding.ts';
import type { ViewerPolicy } from './policy.ts';

const ALL_TIME = { fromMs: 0, toMs: Date.UTC(9999, 0, 1) };
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function checkUserId(userId: string): string {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 128) {
    throw new AppError('validation_failed', 'userId: expected the viewer\'s userId as sent on events (1 to 128 characters, URL-encoded in the path)');
  }
  return userId;
}

export interface PrivacyDeps {
  store: Store;
  materializer: Materializer;
  exports: ExportService;
  stats: StatsService;
  policy: ViewerPolicy;
  audit: AuditLog;
  log: Logger;
  now: () => number;
  /** Resolves once the events submitted before the call are committed (EventWriter.barrier). */
  drainWrites: () => Promise<void>;
  /** How long an erasure waits for the database to be free to purge deleted bytes before leaving it to the sweeper. */
  purgeWaitMs: number;
}

export class PrivacyService {
  constructor(private readonly d: PrivacyDeps) {}

  /** The profile written as profile.json in a per-viewer export. */
  async profile(accountId: string, userId: string) {
    const [facts, totals] = await Promise.all([
      this.d.store.privacy.viewerFacts(accountId, userId),
      this.d.stats.query({ accountId, ...ALL_TIME, tz: 'UTC', groupBy: [], filters: { attributedTo: userId }, metrics: METRIC_NAMES }),
    ]);
    const devices = new Map<string, { deviceType: string | null; platform: string | null; os: string | null; browser: string | null; sessions: number }>();
    for (const s of facts.sessions) {
      const k = JSON.stringify([s.deviceType, s.platform, s.os, s.browser]);
      const d = devices.get(k) ?? { deviceType: s.deviceType, platform: s.platform, os: s.os, browser: s.browser, sessions: 0 };
      d.sessions++;
      devices.set(k, d);
    }
    return {
      userId,
      generatedAt: new Date(this.d.now()).toISOString(),
      attribution: 'events with this userId, and events without a userId in the sessions where it appears',
      firstSeen: iso(facts.firstSeen),
      lastSeen: iso(facts.lastSeen),
      details: { emails: facts.emails, viewerAccountIds: facts.viewerAccountIds, viewerNames: facts.viewerNames },
      sessions: { count: facts.sessions.length, items: facts.sessions.map((s) => ({ ...s, firstEventAt: iso(s.firstEventAt), lastEventAt: iso(s.lastEventAt) })) },
      devices: [...devices.values()].sort((a, b) => b.sessions - a.sessions),
      totals: { events: facts.events, viewRecords: facts.records, ...totals[0].metrics },
    };
  }

  async requestExport(who: Principal, userId: string, body: Record<string, unknown>) {
    checkUserId(userId);
    const out = await this.d.exports.createViewerExport(who.accountId, userId, body);
    await this.d.audit.record(who, 'viewer.export', this.d.policy.subject(who.accountId, userId), { exportId: out.id });
    return out;
  }

  /**
   * Erases the viewer: raw events, view records (rollup contributions subtracted; records of other
   * viewers in the same sessions rebuilt from their own events), stored export files holding them,
   * export jobs naming them; optionally suppresses their new events; then purges the deleted bytes
   * from the database files. No export run is written and no record rebuilt meanwhile. Where the
   * viewer's data was is kept (pending_erasures) from before the first deletion until the audit entry,
   * so a retry after a failure half-way finds the files holding events already deleted ("resumed").
   */
  async erase(who: Principal, userId: string, opts: { suppress: boolean }) {
    checkUserId(userId);
    const accountId = who.accountId;
    const subject = this.d.policy.subject(accountId, userId);
    const { store } = this.d;
    if (opts.suppress) {
      // Refused from now on; events accepted just before are committed first, then erased below.
      await store.privacy.suppress(accountId, subject, this.d.now());
      this.d.policy.forget(accountId);
    }
    await this.d.drainWrites();
    return this.d.exports.hold(() => this.d.materializer.exclusive(async () => {
      const at = this.d.now();
      // Where the viewer's data is, joined with where an earlier erasure that failed half-way found
      // it (its events may be gone, the files holding them not), kept until the audit entry is written.
      const fp = await store.privacy.footprint(accountId, userId);
      const earlier = await store.privacy.pendingErasure(accountId, subject);
      if (earlier) {
        fp.sessions = [...new Set([...fp.sessions, ...earlier.sessions])].sort();
        fp.hours = [...new Set([...fp.hours, ...earlier.hours])].sort((a, b) => a - b);
        fp.sessionHours = [...new Set([...fp.sessionHours, ...earlier.sessionHours])].sort((a, b) => a - b);
        fp.contentIds = earlier.contentIds && fp.contentIds ? [...new Set([...fp.contentIds, ...earlier.contentIds])].sort() : null;
      }
      await store.privacy.startErasure(accountId, subject, fp, at);
      // The purge is owed from before the first deletion: a crash before it ends (or during the
      // compaction itself) leaves it to the sweeper, which runs a minute after a restart. Set only
      // after the audit entry, a crash during the compaction left the deleted bytes in the file for good.
      const owed = await store.privacy.purgePending();
      await store.privacy.setPurgePending(true);
      const erased = await store.privacy.erase(accountId, userId, fp.sessions);
      const rebuilt = await this.d.materializer.rebuildSessions(accountId, erased.rebuild);
      const reason = `erasure of a viewer at ${new Date(at).toISOString()}`;
      const holding = (await store.privacy.runsWithFiles(accountId)).filter((r) => holdsViewer(r, fp, userId));
      await store.privacy.removeRunFiles(holding.map((r) => r.run.id), `files deleted by the ${reason}`, at);
      await this.d.exports.deleteFiles(holding.map((r) => r.run.id));
      const jobs = [];
      for (const j of await store.privacy.jobsNaming(accountId, userId)) {
        await store.privacy.setJobSpec(accountId, j.id, scrubSpec(j.spec, userId, `(erased ${subject.slice(0, 12)})`));
        const scheduled = j.kind !== 'once';
        if (scheduled) await store.schedules.remove(accountId, j.id, at);
        jobs.push({ exportId: j.id, action: scheduled ? 'scrubbed and deleted (a schedule for this viewer alone)' : 'scrubbed' });
      }
      const removed = {
        events: erased.events,
        viewRecords: erased.viewRecords,
        sessions: fp.sessions.length,
        rebuiltRecordsOfOtherViewers: rebuilt,
        exportFiles: holding.map((r) => ({ exportId: r.run.jobId, runId: r.run.id, files: (r.run.files ?? []).map((f) => f.name), action: 'deleted' })),
        exportJobs: jobs,
      };
      const auditId = await this.d.audit.record(who, 'viewer.erase', subject, {
        events: removed.events, viewRecords: removed.viewRecords, exportFiles: removed.exportFiles.length, suppress: opts.suppress,
        ...(earlier ? { resumed: true } : {}),
      });
      await store.privacy.endErasure(accountId, subject);
      // Nothing deleted (an unknown viewer, a repeated request): no bytes to purge, unless a purge is owed.
      const nothing = !earlier && !erased.events && !erased.viewRecords && !holding.length && !jobs.length;
      if (nothing && !owed) await store.privacy.setPurgePending(false);
      const purged = nothing && !owed ? true : await this.purge();
      // Whether the collector refuses the viewer now (an earlier ?suppress=true too), not what this request asked.
      const suppressed = opts.suppress || (await store.privacy.suppressed(accountId)).includes(subject);
      return { subject, erasedAt: new Date(at).toISOString(), removed, suppressed, purged, auditId, ...(earlier ? { resumed: true } : {}) };
    }));
  }

  /** Compacts the store so deleted rows' bytes are gone from its files; remembered and retried by the sweeper when it cannot run now. */
  async purge(): Promise<boolean> {
    const ok = await this.d.store.privacy.purge(this.d.purgeWaitMs);
    await this.d.store.privacy.setPurgePending(!ok);
    if (!ok) this.d.log.warn('the database was busy: deleted rows will be purged from its files by the next sweep');
    return ok;
  }

  async unsuppress(who: Principal, userId: string): Promise<void> {
    checkUserId(userId);
    const subject = this.d.policy.subject(who.accountId, userId);
    if (!(await this.d.store.privacy.unsuppress(who.accountId, subject))) {
      throw new AppError('not_found', 'This viewer is not suppressed in this account.');
    }
    this.d.policy.forget(who.accountId);
    await this.d.audit.record(who, 'viewer.unsuppress', subject, {});
  }
}
