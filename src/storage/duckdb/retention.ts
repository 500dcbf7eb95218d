/** Retention in DuckDB: settings, the sweeps of raw events and aggregates, expired files, the sweeper's clock. */
import { DEFAULT_RETENTION, type RetentionRepo } from '../types.ts';
import type { Db, Querier } from './db.ts';
import { run } from './jobs.ts';
import { report } from './reports.ts';
import { refreshSessionStarts } from './sessionstarts.ts';
import { addToRollupDelta, foldRollupDelta } from './views.ts';

async function raiseHorizon(q: Querier, accountId: string, column: 'raw_horizon' | 'aggregate_horizon', at: Date): Promise<void> {
  await q.run(
    `INSERT INTO retention_state (account_id, ${column}) VALUES (?, ?)
     ON CONFLICT (account_id) DO UPDATE SET ${column} = greatest(coalesce(retention_state.${column}, excluded.${column}), excluded.${column})`,
    [accountId, at],
  );
}

export function retentionRepo(db: Db): RetentionRepo {
  return {
    async setSettings(accountId, s) {
      await db.run('UPDATE accounts SET raw_retention_days = ?, aggregate_retention_days = ?, export_file_retention_days = ? WHERE id = ?', [
        s.rawDays, s.aggregateDays, s.exportFileDays, accountId,
      ]);
    },
    async accounts() {
      const rows = await db.all<{ id: string; raw: number; agg: number | null; files: number | null }>(
        'SELECT id, raw_retention_days AS raw, aggregate_retention_days AS agg, export_file_retention_days AS files FROM accounts ORDER BY id',
      );
      return rows.map((r) => ({
        accountId: r.id,
        settings: { rawDays: r.raw, aggregateDays: r.agg ?? DEFAULT_RETENTION.aggregateDays, exportFileDays: r.files ?? DEFAULT_RETENTION.exportFileDays },
      }));
    },
    async expireRaw(accountId, before, uptoSeq) {
      return db.tx(async (q) => {
        await raiseHorizon(q, accountId, 'raw_horizon', new Date(before));
        return q.run('DELETE FROM events WHERE account_id = ? AND ts < ? AND seq <= ?', [accountId, new Date(before), uptoSeq]);
      });
    },
    async expireAggregates(accountId, before) {
      return db.tx(async (q) => {
        const at = new Date(before);
        await raiseHorizon(q, accountId, 'aggregate_horizon', at);
        // The records' contributions to later days (player loads) go too, so the rollup stays equal to the records.
        await addToRollupDelta(q, 'account_id = ? AND started_at < ?', [accountId, at], -1);
        await foldRollupDelta(q, accountId);
        const records = await q.run('DELETE FROM view_records WHERE account_id = ? AND started_at < ?', [accountId, at]);
        // Sessions that began before the horizon and go on after it begin with their first record left.
        await refreshSessionStarts(q, accountId, 'SELECT session_id FROM view_records WHERE account_id = ? AND session_started_at < ?', [accountId, at]);
        const rollupRows = await q.run('DELETE FROM view_rollup_daily WHERE account_id = ? AND day < CAST(? AS DATE)', [accountId, at]);
        return { records, rollupRows };
      });
    },
    async runsFinishedBefore(accountId, before, now) {
      const rows = await db.all(
        "SELECT * FROM export_runs WHERE account_id = ? AND status = 'completed' AND files_removed IS NULL AND (finished_at < ? OR expires_at <= ?) ORDER BY finished_at, id",
        [accountId, new Date(before), new Date(now)],
      );
      return rows.map(run);
    },
    async reportsFinishedBefore(accountId, before, now) {
      const rows = await db.all(
        "SELECT * FROM reports WHERE account_id = ? AND status = 'completed' AND file IS NOT NULL AND (finished_at < ? OR expires_at <= ?) ORDER BY finished_at, id",
        [accountId, new Date(before), new Date(now)],
      );
      return rows.map(report);
    },
    async endReport(id, at) {
      await db.run('UPDATE reports SET file = NULL, expires_at = least(coalesce(expires_at, ?), ?) WHERE id = ?', [new Date(at), new Date(at), id]);
    },
    async newestArrival() {
      return (await db.one<{ m: number | null }>('SELECT max(received_at) AS m FROM events'))?.m ?? null;
    },
    async clock() {
      return (await db.one<{ value: number }>("SELECT value FROM worker_state WHERE name = 'sweep_clock'"))?.value ?? null;
    },
    async setClock(at) {
      await db.run("INSERT INTO worker_state VALUES ('sweep_clock', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [at]);
    },
  };
}
