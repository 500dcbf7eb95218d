import type { CatalogRepo, ProjectRow, VideoKind, VideoRow } from '../types.ts';
import type { DbLike, Row } from './db.ts';

const video = (r: Row): VideoRow => ({
  accountId: r.account_id as string,
  contentId: r.content_id as string,
  title: (r.title as string) ?? null,
  duration: (r.duration as number) ?? null,
  seenDuration: (r.seen_duration as number) ?? null,
  kind: r.kind as VideoKind,
  projectId: (r.project_id as string) ?? null,
  folder: (r.folder as string) ?? null,
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
});

const project = (r: Row): ProjectRow => ({
  accountId: r.account_id as string,
  id: r.id as string,
  name: r.name as string,
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
});

const VIDEO_FIELDS = { title: 'title', duration: 'duration', kind: 'kind', projectId: 'project_id', folder: 'folder' } as const;

export function catalogRepo(db: DbLike): CatalogRepo {
  const getVideo = async (accountId: string, contentId: string) => {
    const r = await db.one('SELECT * FROM videos WHERE account_id = ? AND content_id = ?', [accountId, contentId]);
    return r && video(r);
  };
  const getProject = async (accountId: string, id: string) => {
    const r = await db.one('SELECT * FROM projects WHERE account_id = ? AND id = ?', [accountId, id]);
    return r && project(r);
  };
  return {
    getVideo,
    getProject,
    async getVideos(accountId, contentIds) {
      if (!contentIds.length) return [];
      const rows = await db.all('SELECT * FROM videos WHERE account_id = ? AND content_id IN (SELECT unnest(?::JSON::VARCHAR[]))', [accountId, JSON.stringify(contentIds)]);
      return rows.map(video);
    },
    async upsertVideo(accountId, contentId, patch, at) {
      const cols = (Object.keys(VIDEO_FIELDS) as Array<keyof typeof VIDEO_FIELDS>).filter((k) => patch[k] !== undefined);
      const now = new Date(at);
      await db.tx(async (q) => {
        await q.run(
          'INSERT INTO videos (account_id, content_id, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
          [accountId, contentId, now, now],
        );
        if (cols.length) {
          const set = cols.map((k) => `${VIDEO_FIELDS[k]} = ?`).join(', ');
          await q.run(`UPDATE videos SET ${set}, updated_at = ? WHERE account_id = ? AND content_id = ?`, [
            ...cols.map((k) => patch[k] ?? null), now, accountId, contentId,
          ]);
        }
      });
      return (await getVideo(accountId, contentId))!;
    },
    async listVideos(accountId, { limit, offset }) {
      const rows = await db.all('SELECT * FROM videos WHERE account_id = ? ORDER BY content_id LIMIT ? OFFSET ?', [accountId, limit, offset]);
      const total = (await db.one<{ n: number }>('SELECT count(*) AS n FROM videos WHERE account_id = ?', [accountId]))!.n;
      return { items: rows.map(video), total };
    },
    async upsertProject(accountId, id, name, at) {
      const now = new Date(at);
      await db.run(
        `INSERT INTO projects VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (account_id, id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at`,
        [accountId, id, name, now, now],
      );
      return (await getProject(accountId, id))!;
    },
    async listProjects(accountId, { limit, offset }) {
      const rows = await db.all('SELECT * FROM projects WHERE account_id = ? ORDER BY id LIMIT ? OFFSET ?', [accountId, limit, offset]);
      const total = (await db.one<{ n: number }>('SELECT count(*) AS n FROM projects WHERE account_id = ?', [accountId]))!.n;
      return { items: rows.map(project), total };
    },
  };
}
