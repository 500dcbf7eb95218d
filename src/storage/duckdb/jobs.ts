import type { ExportJobRow, ExportRunRow, JobRepo } from '../types.ts';
import type { Db, Querier, Row } from './db.ts';
import { insertDelivery } from './deliveries.ts';

const job = (r: Row): ExportJobRow => ({
  id: r.id as string, accountId: r.account_id as string, kind: r.kind as ExportJobRow['kind'], spec: JSON.parse(r.spec as string),
  state: r.state as ExportJobRow['state'], createdAt: r.created_at as number,
});

export const run = (r: Row): ExportRunRow => ({
  id: r.id as string, jobId: r.job_id as string, accountId: r.account_id as string, periodFrom: r.period_from as number, periodTo: r.period_to as number,
  status: r.status as ExportRunRow['status'], attempts: r.attempts as number, rows: (r.rows as number) ?? null,
  files: r.files ? JSON.parse(r.files as string) : null, error: (r.error as string) ?? null, createdAt: r.created_at as number,
  finishedAt: (r.finished_at as number) ?? null, expiresAt: (r.expires_at as number) ?? null, filesRemoved: (r.files_removed as string) ?? null,
});

const d = (ms: number | null) => (ms === null ? null : new Date(ms));

/** Inserts a run; with `skipExisting`, a run whose (job, period start) exists is skipped. Returns rows added. */
export async function insertRun(q: Querier, r: ExportRunRow, skipExisting = false): Promise<number> {
  return q.run(
    `INSERT INTO export_runs (id, job_id, account_id, period_from, period_to, status, attempts, rows, files, error, created_at, finished_at, expires_at, files_removed)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)${skipExisting ? ' ON CONFLICT DO NOTHING' : ''}`,
    [
      r.id, r.jobId, r.accountId, new Date(r.periodFrom), new Date(r.periodTo), r.status, r.attempts, r.rows,
      r.files === null ? null : JSON.stringify(r.files), r.error, new Date(r.createdAt), d(r.finishedAt), d(r.expiresAt), r.filesRemoved ?? null,
    ],
  );
}

export function jobRepo(db: Db): JobRepo {
  return {
    async createJob(j, first) {
      await db.tx(async (q) => {
        await q.run('INSERT INTO export_jobs VALUES (?, ?, ?, ?, ?, ?)', [j.id, j.accountId, j.kind, JSON.stringify(j.spec), j.state, new Date(j.createdAt)]);
        if (first) await insertRun(q, first);
      });
    },
    async getJob(accountId, id) {
      const r = await db.one("SELECT * FROM export_jobs WHERE account_id = ? AND id = ? AND state <> 'deleted'", [accountId, id]);
      return r && job(r);
    },
    async listJobs(accountId, kind, { limit, offset }) {
      const rows = await db.all(
        `SELECT * FROM export_jobs WHERE account_id = ? AND state <> 'deleted' AND ${kind === 'once' ? "kind = 'once'" : "kind <> 'once'"}
         ORDER BY created_at DESC, id LIMIT ? OFFSET ?`,
        [accountId, limit, offset],
      );
      return rows.map(job);
    },
    async runsOf(accountId, jobId) {
      return (await db.all('SELECT * FROM export_runs WHERE account_id = ? AND job_id = ? ORDER BY period_from DESC, created_at DESC', [accountId, jobId])).map(run);
    },
    async getRun(id) {
      const r = await db.one('SELECT * FROM export_runs WHERE id = ?', [id]);
      return r && run(r);
    },
    async claimRun() {
      return db.tx(async (q) => {
        // A run whose job is gone counts as a once run (it fails at once: ExportService.execute).
        const once = (alias: string) => `coalesce((SELECT j.kind FROM export_jobs j WHERE j.id = ${alias}.job_id), 'once') = 'once'`;
        const r = await q.one(
          `SELECT * FROM export_runs r WHERE r.status = 'pending' AND CASE WHEN ${once('r')}
              THEN NOT EXISTS (SELECT 1 FROM export_runs x WHERE x.status = 'running' AND x.account_id = r.account_id AND ${once('x')})
              ELSE NOT EXISTS (SELECT 1 FROM export_runs x WHERE x.status = 'running' AND NOT ${once('x')}) END
           ORDER BY r.created_at, r.id LIMIT 1`,
        );
        if (!r) return undefined;
        await q.run("UPDATE export_runs SET status = 'running', attempts = attempts + 1 WHERE id = ?", [r.id as string]);
        return { ...run(r), status: 'running' as const, attempts: (r.attempts as number) + 1 };
      });
    },
    async finishRun(id, res, delivery) {
      await db.tx(async (q) => {
        await q.run("UPDATE export_runs SET status = 'completed', rows = ?, files = ?, error = NULL, finished_at = ?, expires_at = ? WHERE id = ?", [
          res.rows, JSON.stringify(res.files), new Date(res.finishedAt), new Date(res.expiresAt), id,
        ]);
        if (delivery) await insertDelivery(q, delivery);
      });
    },
    async failRun(id, error, finishedAt, retry) {
      await db.run('UPDATE export_runs SET status = ?, error = ?, finished_at = ? WHERE id = ?', [retry ? 'pending' : 'failed', error, retry ? null : new Date(finishedAt), id]);
    },
    async requeueRunning() {
      return db.run("UPDATE export_runs SET status = 'pending' WHERE status = 'running'");
    },
    async listDialectJobs(accountId, dialect) {
      const rows = await db.all(
        `SELECT j.*, (SELECT r.status FROM export_runs r WHERE r.job_id = j.id ORDER BY r.created_at DESC, r.id DESC LIMIT 1) AS last_run_status
         FROM export_jobs j WHERE j.account_id = ? AND j.state <> 'deleted' AND json_extract_string(j.spec, '$.dialect') = ?
         ORDER BY j.created_at, j.id`,
        [accountId, dialect],
      );
      return rows.map((r) => ({ ...job(r), lastRunStatus: (r.last_run_status as ExportRunRow['status']) ?? null }));
    },
    async listRuns(accountId, { jobId, dialect, status, order, limit, offset }) {
      const w = ['r.account_id = ?', "j.state <> 'deleted'"];
      const params: Array<string | number> = [accountId];
      if (jobId !== undefined) {
        w.push('r.job_id = ?');
        params.push(jobId);
      }
      if (dialect !== undefined) {
        w.push("json_extract_string(j.spec, '$.dialect') = ?");
        params.push(dialect);
      }
      if (status !== undefined) {
        w.push('r.status = ?');
        params.push(status);
      }
      const from = `export_runs r JOIN export_jobs j ON j.id = r.job_id AND j.account_id = r.account_id WHERE ${w.join(' AND ')}`;
      const dir = order === 'asc' ? 'ASC' : 'DESC';
      const total = Number((await db.one<{ n: number }>(`SELECT count(*) AS n FROM ${from}`, params))?.n ?? 0);
      const rows = await db.all(`SELECT r.* FROM ${from} ORDER BY r.created_at ${dir}, r.period_from ${dir}, r.id ${dir} LIMIT ? OFFSET ?`, [...params, limit, offset]);
      return { items: rows.map(run), total };
    },
  };
}
