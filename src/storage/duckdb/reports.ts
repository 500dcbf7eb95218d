/** Reports in DuckDB: their state rows, and the catalog entries a report lists. */
import type { CatalogItem, ReportRepo, ReportRow, VideoKind } from '../types.ts';
import type { DbLike, Param, Row } from './db.ts';

export const report = (r: Row): ReportRow => ({
  id: r.id as string, accountId: r.account_id as string, spec: JSON.parse(r.spec as string), status: r.status as ReportRow['status'],
  attempts: r.attempts as number, periodFrom: r.period_from as number, periodTo: r.period_to as number, rows: (r.rows as number) ?? null,
  file: r.file ? JSON.parse(r.file as string) : null, error: (r.error as string) ?? null, email: (r.email as string) ?? null,
  emailStatus: r.email_status as ReportRow['emailStatus'], emailError: (r.email_error as string) ?? null, createdAt: r.created_at as number,
  finishedAt: (r.finished_at as number) ?? null, expiresAt: (r.expires_at as number) ?? null,
});

const item = (r: Row): CatalogItem => ({
  contentId: r.content_id as string, title: (r.title as string) ?? null, duration: (r.duration as number) ?? null, kind: r.kind as VideoKind,
  projectId: (r.project_id as string) ?? null, projectName: (r.project_name as string) ?? null, folder: (r.folder as string) ?? null,
});

const d = (ms: number | null) => (ms === null ? null : new Date(ms));

export function reportRepo(db: DbLike): ReportRepo {
  return {
    async items(accountId, filter, page) {
      const w = ['v.account_id = ?'];
      const params: Param[] = [accountId];
      if (filter.folders?.length) {
        w.push(`(${filter.folders.map(() => "v.folder = ? OR starts_with(v.folder, ? || '/')").join(' OR ')})`);
        for (const f of filter.folders) params.push(f, f);
      }
      if (filter.projectId !== undefined) {
        w.push('v.project_id = ?');
        params.push(filter.projectId);
      }
      if (filter.contentIds) {
        w.push('v.content_id IN (SELECT unnest(?::JSON::VARCHAR[]))');
        params.push(JSON.stringify(filter.contentIds));
      }
      if (page?.after !== undefined) {
        w.push('v.content_id > ?');
        params.push(page.after);
      }
      const rows = await db.all(
        `SELECT v.content_id, v.title, coalesce(v.duration, v.seen_duration) AS duration, v.kind, v.project_id, p.name AS project_name, v.folder
         FROM videos v LEFT JOIN projects p ON p.account_id = v.account_id AND p.id = v.project_id
         WHERE ${w.join(' AND ')} ORDER BY v.content_id${page ? ` LIMIT ${Math.max(1, Math.trunc(page.limit))}` : ''}`,
        params,
      );
      return rows.map(item);
    },
    async folders(accountId) {
      const rows = await db.all<{ folder: string }>('SELECT DISTINCT folder FROM videos WHERE account_id = ? AND folder IS NOT NULL', [accountId]);
      return rows.map((r) => r.folder);
    },
    async create(r) {
      await db.run('INSERT INTO reports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        r.id, r.accountId, JSON.stringify(r.spec), r.status, r.attempts, new Date(r.periodFrom), new Date(r.periodTo), r.rows,
        r.file === null ? null : JSON.stringify(r.file), r.error, r.email, r.emailStatus, r.emailError, new Date(r.createdAt), d(r.finishedAt), d(r.expiresAt),
      ]);
    },
    async get(accountId, id) {
      const r = await db.one('SELECT * FROM reports WHERE account_id = ? AND id = ?', [accountId, id]);
      return r && report(r);
    },
    async getById(id) {
      const r = await db.one('SELECT * FROM reports WHERE id = ?', [id]);
      return r && report(r);
    },
    async list(accountId, { limit, offset }) {
      return (await db.all('SELECT * FROM reports WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?', [accountId, limit, offset])).map(report);
    },
    async claim() {
      return db.tx(async (q) => {
        const r = await q.one("SELECT * FROM reports WHERE status = 'pending' ORDER BY created_at, id LIMIT 1");
        if (!r) return undefined;
        await q.run("UPDATE reports SET status = 'running', attempts = attempts + 1 WHERE id = ?", [r.id as string]);
        return { ...report(r), status: 'running' as const, attempts: (r.attempts as number) + 1 };
      });
    },
    async finish(id, res) {
      await db.run(
        "UPDATE reports SET status = 'completed', rows = ?, file = ?, error = NULL, finished_at = ?, expires_at = ?, email_status = ? WHERE id = ?",
        [res.rows, JSON.stringify(res.file), new Date(res.finishedAt), new Date(res.expiresAt), res.emailStatus, id],
      );
    },
    async fail(id, error, finishedAt, retry) {
      await db.run('UPDATE reports SET status = ?, error = ?, finished_at = ? WHERE id = ?', [retry ? 'pending' : 'failed', error, retry ? null : new Date(finishedAt), id]);
    },
    async setEmailStatus(id, status, error) {
      await db.run('UPDATE reports SET email_status = ?, email_error = ? WHERE id = ?', [status, error, id]);
    },
    async pendingEmails() {
      return (await db.all("SELECT * FROM reports WHERE status = 'completed' AND email_status = 'pending' ORDER BY created_at, id")).map(report);
    },
    async requeueRunning() {
      return db.run("UPDATE reports SET status = 'pending' WHERE status = 'running'");
    },
  };
}
