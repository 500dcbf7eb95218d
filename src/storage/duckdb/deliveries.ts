/** Deliveries of completed scheduled runs (the outbox) and every attempt made. */
import type { DeliveryAttemptRow, DeliveryRepo, DeliveryRow } from '../types.ts';
import type { Db, Param, Querier, Row } from './db.ts';

const d = (ms: number | null) => (ms === null ? null : new Date(ms));
const n = (v: unknown) => (v === null || v === undefined ? null : (v as number));

const delivery = (r: Row): DeliveryRow => ({
  id: r.id as string, accountId: r.account_id as string, jobId: r.job_id as string, runId: r.run_id as string,
  channel: r.channel as DeliveryRow['channel'], target: r.target as string, status: r.status as DeliveryRow['status'],
  attempts: r.attempts as number, firstAttemptAt: n(r.first_attempt_at), nextAttemptAt: n(r.next_attempt_at),
  lastError: (r.last_error as string) ?? null, createdAt: r.created_at as number, finishedAt: n(r.finished_at),
});

const attempt = (r: Row): DeliveryAttemptRow => ({
  deliveryId: r.delivery_id as string, n: r.n as number, accountId: r.account_id as string, jobId: r.job_id as string,
  runId: r.run_id as string, at: r.attempted_at as number, statusCode: n(r.status_code), error: (r.error as string) ?? null,
  durationMs: r.duration_ms as number, outcome: r.outcome as DeliveryAttemptRow['outcome'], nextAttemptAt: n(r.next_attempt_at),
});

/** Used by finishRun so that a run and its delivery are committed together; a second one for a run is skipped. */
export async function insertDelivery(q: Querier, x: DeliveryRow): Promise<void> {
  // Not for a job deleted while its run was being written.
  await q.run(
    `INSERT INTO deliveries SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
     WHERE EXISTS (SELECT 1 FROM export_jobs WHERE id = ? AND state <> 'deleted') ON CONFLICT DO NOTHING`,
    [x.id, x.accountId, x.jobId, x.runId, x.channel, x.target, x.status, x.attempts, d(x.firstAttemptAt), d(x.nextAttemptAt),
      x.lastError, new Date(x.createdAt), d(x.finishedAt), x.jobId],
  );
}

const placeholders = (k: number) => new Array(k).fill('?').join(', ');

export function deliveryRepo(db: Db): DeliveryRepo {
  return {
    async due(now, limit) {
      const rows = await db.all(
        "SELECT * FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
        [new Date(now), limit],
      );
      return rows.map(delivery);
    },
    async recordAttempt(a, next, disable) {
      await db.tx(async (q) => {
        await q.run('INSERT INTO delivery_attempts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
          a.deliveryId, a.n, a.accountId, a.jobId, a.runId, new Date(a.at), a.statusCode, a.error, a.durationMs, a.outcome, d(a.nextAttemptAt),
        ]);
        await q.run(
          'UPDATE deliveries SET status = ?, attempts = ?, first_attempt_at = ?, next_attempt_at = ?, last_error = ?, finished_at = ? WHERE id = ?',
          [next.status, a.n, d(next.firstAttemptAt), d(next.nextAttemptAt), next.lastError, d(next.finishedAt), a.deliveryId],
        );
        if (disable) {
          await q.run("UPDATE export_jobs SET state = 'paused' WHERE id = ? AND state = 'active'", [a.jobId]);
          await q.run(
            `INSERT INTO export_schedules (job_id, account_id, secret, origin, disabled_reason)
             SELECT id, account_id, NULL, created_at, ? FROM export_jobs WHERE id = ?
             ON CONFLICT (job_id) DO UPDATE SET disabled_reason = excluded.disabled_reason`,
            [disable.reason, a.jobId],
          );
          await q.run(
            "UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, last_error = ?, finished_at = ? WHERE job_id = ? AND status = 'pending' AND id <> ?",
            [disable.reason, new Date(a.at), a.jobId, a.deliveryId],
          );
        }
      });
    },
    async ofRuns(accountId, runIds) {
      if (runIds.length === 0) return [];
      const rows = await db.all(`SELECT * FROM deliveries WHERE account_id = ? AND run_id IN (${placeholders(runIds.length)}) ORDER BY created_at, id`, [
        accountId, ...runIds,
      ]);
      return rows.map(delivery);
    },
    async attempts(accountId, { jobId, deliveryIds }, { limit, offset }) {
      const where = ['account_id = ?'];
      const params: Param[] = [accountId];
      if (jobId !== undefined) {
        where.push('job_id = ?');
        params.push(jobId);
      }
      if (deliveryIds !== undefined) {
        if (deliveryIds.length === 0) return [];
        where.push(`delivery_id IN (${placeholders(deliveryIds.length)})`);
        params.push(...deliveryIds);
      }
      const rows = await db.all(`SELECT * FROM delivery_attempts WHERE ${where.join(' AND ')} ORDER BY attempted_at DESC, delivery_id, n DESC LIMIT ? OFFSET ?`, [
        ...params, limit, offset,
      ]);
      return rows.map(attempt);
    },
  };
}
