/** A viewer's footprint and erasure, suppression, the audit log and the purge of deleted bytes, in DuckDB. */
import type { AuditEntry, PrivacyRepo } from '../types.ts';
import type { Db, Param, Row } from './db.ts';
import { run } from './jobs.ts';
import { attributedSql, VIEWER_SESSIONS } from './recordsql.ts';
import { refreshSessionStarts } from './sessionstarts.ts';
import { addToRollupDelta, foldRollupDelta } from './views.ts';

const HOUR = 3_600_000;
const list = (xs: string[]) => JSON.stringify(xs);
const IN_LIST = 'IN (SELECT unnest(?::JSON::VARCHAR[]))';

const entry = (r: Row): AuditEntry => ({
  id: r.id as string, accountId: r.account_id as string, at: r.occurred_at as number, actorKind: r.actor_kind as string,
  actorId: (r.actor_id as string) ?? null, action: r.action as AuditEntry['action'], subject: (r.subject as string) ?? null,
  details: JSON.parse(r.details as string) as Record<string, unknown>,
});

export function privacyRepo(db: Db): PrivacyRepo {
  return {
    async footprint(accountId, userId) {
      return db.tx(async (q) => {
        const sessions = (await q.all<{ session_id: string }>(`SELECT DISTINCT session_id FROM ${VIEWER_SESSIONS} s ORDER BY 1`, [accountId, userId, accountId, userId]))
          .map((r) => r.session_id);
        const ep: Param[] = [accountId];
        const ew = attributedSql('e', accountId, userId, ep);
        const vp: Param[] = [accountId];
        const vw = attributedSql('v', accountId, userId, vp);
        // Counted by hour and content in one scan of each table: the hours, the sums and the content ids.
        const rows = await q.all<{ kind: string; h: number; c: string | null; n: number }>(
          `SELECT 'e' AS kind, epoch_ms(e.ts) // ${HOUR} AS h, e.content_id AS c, count(*) AS n FROM events e WHERE e.account_id = ? AND ${ew} GROUP BY ALL
           UNION ALL
           SELECT 'v', epoch_ms(v.started_at) // ${HOUR}, v.content_id, count(*) FROM view_records v WHERE v.account_id = ? AND ${vw} GROUP BY ALL
           UNION ALL
           SELECT DISTINCT 's', epoch_ms(v.session_started_at) // ${HOUR}, NULL, 0 FROM view_records v WHERE v.account_id = ? AND v.session_id IN (SELECT unnest(?::JSON::VARCHAR[]))`,
          [...ep, ...vp, accountId, JSON.stringify(sessions)],
        );
        const sum = (k: string) => rows.filter((r) => r.kind === k).reduce((a, r) => a + Number(r.n), 0);
        const hours = (kinds: string[]) => [...new Set(rows.filter((r) => kinds.includes(r.kind)).map((r) => Number(r.h)))].sort((a, b) => a - b);
        const contentIds = [...new Set(rows.flatMap((r) => (r.c === null ? [] : [r.c])))].sort();
        return { events: sum('e'), records: sum('v'), sessions, hours: hours(['e', 'v']), sessionHours: hours(['s']), contentIds };
      });
    },

    async viewerFacts(accountId, userId) {
      const ep: Param[] = [accountId];
      const ew = attributedSql('e', accountId, userId, ep);
      const vp: Param[] = [accountId];
      const vw = attributedSql('v', accountId, userId, vp);
      const cols = 'content_id, device_type, platform, os, browser, country, city, email, viewer_account_id, viewer_name';
      const x = `(SELECT 'e' AS src, session_id, ts AS t0, ts AS t1, ${cols} FROM events e WHERE e.account_id = ? AND ${ew}
        UNION ALL SELECT 'v', session_id, started_at, last_event_at, ${cols} FROM view_records v WHERE v.account_id = ? AND ${vw}) x`;
      const first = (c: string) => `arg_min(${c}, t0) FILTER (WHERE ${c} IS NOT NULL) AS ${c}`;
      return db.tx(async (q) => {
        const sessions = await q.all(
          `SELECT session_id, min(t0) AS first_at, max(t1) AS last_at, list_sort(list(DISTINCT content_id)) AS content_ids,
             ${['device_type', 'platform', 'os', 'browser', 'country', 'city'].map(first).join(', ')}
           FROM ${x} GROUP BY session_id ORDER BY first_at, session_id`,
          [...ep, ...vp],
        );
        const t = await q.one(
          `SELECT count(*) FILTER (WHERE src = 'e') AS events, count(*) FILTER (WHERE src = 'v') AS records, min(t0) AS first_seen, max(t1) AS last_seen,
             list_sort(list(DISTINCT email) FILTER (WHERE email IS NOT NULL)) AS emails,
             list_sort(list(DISTINCT viewer_account_id) FILTER (WHERE viewer_account_id IS NOT NULL)) AS ids,
             list_sort(list(DISTINCT viewer_name) FILTER (WHERE viewer_name IS NOT NULL)) AS names
           FROM ${x}`,
          [...ep, ...vp],
        );
        const s = (v: unknown) => (v as string | null) ?? null;
        return {
          events: Number(t?.events ?? 0), records: Number(t?.records ?? 0), firstSeen: (t?.first_seen as number) ?? null, lastSeen: (t?.last_seen as number) ?? null,
          emails: (t?.emails as string[]) ?? [], viewerAccountIds: (t?.ids as string[]) ?? [], viewerNames: (t?.names as string[]) ?? [],
          sessions: sessions.map((r) => ({
            sessionId: r.session_id as string, firstEventAt: r.first_at as number, lastEventAt: r.last_at as number, contentIds: r.content_ids as string[],
            deviceType: s(r.device_type), platform: s(r.platform), os: s(r.os), browser: s(r.browser), country: s(r.country), city: s(r.city),
          })),
        };
      });
    },

    async erase(accountId, userId, sessions) {
      return db.tx(async (q) => {
        const s = list(sessions);
        const events = await q.run(`DELETE FROM events WHERE account_id = ? AND (user_id = ? OR (user_id IS NULL AND session_id ${IN_LIST}))`, [accountId, userId, s]);
        // Every record of these sessions goes, but a final one (started before the raw horizon:
        // it cannot be rebuilt) of another viewer stays.
        const where = `account_id = ? AND session_id ${IN_LIST} AND (user_id = ? OR user_id IS NULL OR started_at >= coalesce(
          (SELECT raw_horizon FROM retention_state WHERE account_id = ?), '-infinity'::TIMESTAMP))`;
        const params: Param[] = [accountId, s, userId, accountId];
        await addToRollupDelta(q, where, params, -1);
        const viewRecords = await q.run(`DELETE FROM view_records WHERE ${where}`, params);
        // Final records of other viewers left in these sessions: their session's first record may be gone.
        await refreshSessionStarts(q, accountId, 'SELECT unnest(?::JSON::VARCHAR[])', [s]);
        await foldRollupDelta(q, accountId);
        const rebuild = (await q.all<{ session_id: string }>(`SELECT DISTINCT session_id FROM events WHERE account_id = ? AND session_id ${IN_LIST} ORDER BY 1`, [accountId, s]))
          .map((r) => r.session_id);
        return { events, viewRecords, rebuild };
      });
    },

    async jobsNaming(accountId, userId) {
      const rows = await db.all<{ id: string; kind: string; spec: string }>(
        `SELECT id, kind, spec FROM export_jobs WHERE account_id = ?
           AND (json_extract_string(spec, '$.viewer') = ? OR json_extract_string(spec, '$.filters.userId') = ?)`,
        [accountId, userId, userId],
      );
      return rows.map((r) => ({ id: r.id, kind: r.kind, spec: JSON.parse(r.spec) as Record<string, unknown> }));
    },

    async setJobSpec(accountId, id, spec) {
      await db.run('UPDATE export_jobs SET spec = ? WHERE account_id = ? AND id = ?', [JSON.stringify(spec), accountId, id]);
    },

    async runsWithFiles(accountId) {
      const rows = await db.all(
        `SELECT r.*, j.kind AS job_kind, j.spec AS job_spec FROM export_runs r JOIN export_jobs j ON j.id = r.job_id
         WHERE r.account_id = ? AND r.status = 'completed' AND r.files_removed IS NULL ORDER BY r.created_at, r.id`,
        [accountId],
      );
      return rows.map((r) => ({ run: run(r), jobKind: r.job_kind as string, spec: JSON.parse(r.job_spec as string) as Record<string, unknown> }));
    },

    async removeRunFiles(runIds, reason, at) {
      if (!runIds.length) return;
      await db.tx(async (q) => {
        const when = new Date(at);
        await q.run(`UPDATE export_runs SET files_removed = ?, expires_at = least(coalesce(expires_at, ?), ?) WHERE id ${IN_LIST}`, [reason, when, when, list(runIds)]);
        await q.run(`UPDATE deliveries SET status = 'cancelled', finished_at = ?, last_error = ? WHERE status = 'pending' AND run_id ${IN_LIST}`, [when, reason, list(runIds)]);
      });
    },

    async suppress(accountId, subject, at) {
      await db.run('INSERT INTO suppressed_viewers VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [accountId, subject, new Date(at)]);
    },
    async unsuppress(accountId, subject) {
      return (await db.run('DELETE FROM suppressed_viewers WHERE account_id = ? AND subject = ?', [accountId, subject])) > 0;
    },
    async suppressed(accountId) {
      return (await db.all<{ subject: string }>('SELECT subject FROM suppressed_viewers WHERE account_id = ?', [accountId])).map((r) => r.subject);
    },

    async audit(e) {
      await db.run('INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
        e.id, e.accountId, new Date(e.at), e.actorKind, e.actorId, e.action, e.subject, JSON.stringify(e.details),
      ]);
    },
    async auditLog(accountId, { limit, offset }) {
      const total = Number((await db.one<{ n: number }>('SELECT count(*) AS n FROM audit_log WHERE account_id = ?', [accountId]))?.n ?? 0);
      const rows = await db.all('SELECT * FROM audit_log WHERE account_id = ? ORDER BY occurred_at DESC, id DESC LIMIT ? OFFSET ?', [accountId, limit, offset]);
      return { items: rows.map(entry), total };
    },

    purge: (waitMs) => db.compact(waitMs),
    async purgePending() {
      return ((await db.one<{ value: number }>("SELECT value FROM worker_state WHERE name = 'purge_pending'"))?.value ?? 0) === 1;
    },
    async setPurgePending(pending) {
      await db.run("INSERT INTO worker_state VALUES ('purge_pending', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [pending ? 1 : 0]);
    },
    async pendingErasure(accountId, subject) {
      const r = await db.one<{ footprint: string }>('SELECT footprint FROM pending_erasures WHERE account_id = ? AND subject = ?', [accountId, subject]);
      if (!r) return null;
      const fp = JSON.parse(r.footprint) as { sessions: string[]; hours: number[]; sessionHours?: number[]; contentIds?: string[] };
      // Kept before sessionHours: none; before contentIds: not known.
      return { sessions: fp.sessions, hours: fp.hours, sessionHours: fp.sessionHours ?? [], contentIds: fp.contentIds ?? null };
    },
    async startErasure(accountId, subject, where, at) {
      await db.run(
        `INSERT INTO pending_erasures VALUES (?, ?, ?, ?)
         ON CONFLICT (account_id, subject) DO UPDATE SET footprint = excluded.footprint`,
        [accountId, subject, JSON.stringify({ sessions: where.sessions, hours: where.hours, sessionHours: where.sessionHours, ...(where.contentIds ? { contentIds: where.contentIds } : {}) }), new Date(at)],
      );
    },
    async endErasure(accountId, subject) {
      await db.run('DELETE FROM pending_erasures WHERE account_id = ? AND subject = ?', [accountId, subject]);
    },
  };
}
