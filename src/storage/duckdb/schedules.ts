/** Scheduled export jobs: their settings, the runs the scheduler adds, pause, resume, delete. */
import type { ExportJobRow, ScheduleRepo, ScheduleSettings } from '../types.ts';
import type { Db, Row } from './db.ts';
import { insertRun } from './jobs.ts';

const KINDS = "('hourly', 'daily', 'weekly')";

const jobOf = (r: Row): ExportJobRow => ({
  id: r.id as string, accountId: r.account_id as string, kind: r.kind as ExportJobRow['kind'], spec: JSON.parse(r.spec as string),
  state: r.state as ExportJobRow['state'], createdAt: r.created_at as number,
});

export function scheduleRepo(db: Db): ScheduleRepo {
  return {
    async create(job, s) {
      await db.tx(async (q) => {
        await q.run('INSERT INTO export_jobs VALUES (?, ?, ?, ?, ?, ?)', [job.id, job.accountId, job.kind, JSON.stringify(job.spec), job.state, new Date(job.createdAt)]);
        await q.run('INSERT INTO export_schedules VALUES (?, ?, ?, ?, ?)', [job.id, job.accountId, s.secret, new Date(s.origin), s.disabledReason]);
      });
    },
    async active() {
      const rows = await db.all(
        `SELECT j.*, coalesce(s.origin, j.created_at) AS origin, r.last_from
         FROM export_jobs j
         LEFT JOIN export_schedules s ON s.job_id = j.id
         LEFT JOIN (SELECT job_id, max(period_from) AS last_from FROM export_runs GROUP BY job_id) r ON r.job_id = j.id
         WHERE j.state = 'active' AND j.kind IN ${KINDS}
         ORDER BY j.created_at, j.id`,
      );
      return rows.map((r) => ({ job: jobOf(r), origin: r.origin as number, lastPeriodFrom: (r.last_from as number) ?? null }));
    },
    async addRuns(runs) {
      if (runs.length === 0) return 0;
      return db.tx(async (q) => {
        let added = 0;
        for (const r of runs) {
          added += await insertRun(q, r, true);
        }
        return added;
      });
    },
    async settings(jobId) {
      const r = await db.one('SELECT * FROM export_schedules WHERE job_id = ?', [jobId]);
      return r && ({ secret: (r.secret as string) ?? null, origin: r.origin as number, disabledReason: (r.disabled_reason as string) ?? null } satisfies ScheduleSettings);
    },
    async pause(accountId, id) {
      const r = await db.one<{ state: string }>(`SELECT state FROM export_jobs WHERE account_id = ? AND id = ? AND state <> 'deleted' AND kind IN ${KINDS}`, [accountId, id]);
      if (!r) return false;
      await db.run("UPDATE export_jobs SET state = 'paused' WHERE id = ? AND state = 'active'", [id]);
      return true;
    },
    async resume(accountId, id, at) {
      return db.tx(async (q) => {
        const r = await q.one(`SELECT * FROM export_jobs WHERE account_id = ? AND id = ? AND state <> 'deleted' AND kind IN ${KINDS}`, [accountId, id]);
        if (!r) return false;
        if (r.state === 'active') return true;
        await q.run("UPDATE export_jobs SET state = 'active' WHERE id = ?", [id]);
        await q.run(
          `INSERT INTO export_schedules VALUES (?, ?, NULL, ?, NULL)
           ON CONFLICT (job_id) DO UPDATE SET origin = excluded.origin, disabled_reason = NULL`,
          [id, accountId, new Date(at)],
        );
        return true;
      });
    },
    async remove(accountId, id, at) {
      return db.tx(async (q) => {
        const r = await q.one(`SELECT id FROM export_jobs WHERE account_id = ? AND id = ? AND state <> 'deleted' AND kind IN ${KINDS}`, [accountId, id]);
        if (!r) return false;
        await q.run("UPDATE export_jobs SET state = 'deleted' WHERE id = ?", [id]);
        await q.run('UPDATE export_schedules SET secret = NULL WHERE job_id = ?', [id]);
        await q.run("UPDATE export_runs SET status = 'failed', error = 'the schedule was deleted', finished_at = ? WHERE job_id = ? AND status = 'pending'", [new Date(at), id]);
        await q.run(
          "UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, last_error = 'the schedule was deleted', finished_at = ? WHERE job_id = ? AND status = 'pending'",
          [new Date(at), id],
        );
        return true;
      });
    },
  };
}
