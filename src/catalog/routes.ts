/** The catalog: videos (streams, events) and projects. Events fill a title or duration left empty. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/service.ts';
import { AppError } from '../errors.ts';
import { requireToken } from '../http/auth.ts';
import { PageQuery } from '../http/schemas.ts';
import type { ProjectRow, Store, VideoPatch, VideoRow } from '../storage/types.ts';
import { shown } from '../util/shown.ts';
import { FOLDER_PATTERN } from './folders.ts';
import { MAX_MEDIA_SECONDS } from '../events/types.ts';

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()]);

const VideoBody = Type.Object({
  title: Type.Optional(Nullable(Type.String({ maxLength: 1024 }))),
  // Nullable, not a union: with the server's type coercion, a 0 failing the number branch of a
  // union was coerced to null and cleared the duration instead of being refused.
  duration: Type.Optional(Type.Unsafe<number | null>({ type: 'number', nullable: true, exclusiveMinimum: 0, maximum: MAX_MEDIA_SECONDS, description: 'Seconds; null clears it' })),
  kind: Type.Optional(Type.Union([Type.Literal('video'), Type.Literal('stream'), Type.Literal('event')])),
  projectId: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 128 }))),
  folder: Type.Optional(Nullable(Type.String({ maxLength: 1024, pattern: FOLDER_PATTERN, description: 'folder1/folder2' }))),
}, { additionalProperties: false });

const Video = Type.Object({
  contentId: Type.String(),
  title: Type.Union([Type.String(), Type.Null()]),
  duration: Type.Union([Type.Number(), Type.Null()], { description: 'The duration set, else the largest one events reported' }),
  kind: Type.String(),
  projectId: Type.Union([Type.String(), Type.Null()]),
  folder: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const Project = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.String(), updatedAt: Type.String() });

const Page = PageQuery(1000, 100);
const ContentParam = Type.Object({ contentId: Type.String({ minLength: 1, maxLength: 128 }) });
const ProjectParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

const iso = (ms: number) => new Date(ms).toISOString();

export function videoView(v: VideoRow) {
  return {
    contentId: v.contentId, title: v.title, duration: v.duration ?? v.seenDuration, kind: v.kind,
    projectId: v.projectId, folder: v.folder, createdAt: iso(v.createdAt), updatedAt: iso(v.updatedAt),
  };
}

const projectView = (p: ProjectRow) => ({ id: p.id, name: p.name, createdAt: iso(p.createdAt), updatedAt: iso(p.updatedAt) });

export async function catalogRoutes(app: FastifyInstance, deps: { auth: AuthService; store: Store; now: () => number }): Promise<void> {
  const { auth, store, now } = deps;

  app.put('/api/v1/videos/:contentId', {
    schema: { summary: 'Create or update a catalog entry', tags: ['catalog'], params: ContentParam, body: VideoBody, response: { 200: Video } },
  }, async (req) => {
    const p = await requireToken(req, auth);
    const body = req.body as VideoPatch;
    if (body.projectId && !(await store.catalog.getProject(p.accountId, body.projectId))) {
      throw new AppError('validation_failed', `projectId: project ${shown(body.projectId)} does not exist; create it first with PUT /api/v1/projects/{id}.`);
    }
    return videoView(await store.catalog.upsertVideo(p.accountId, (req.params as { contentId: string }).contentId, body, now()));
  });

  app.get('/api/v1/videos/:contentId', {
    schema: { summary: 'One catalog entry', tags: ['catalog'], params: ContentParam, response: { 200: Video } },
  }, async (req) => {
    const p = await requireToken(req, auth);
    const v = await store.catalog.getVideo(p.accountId, (req.params as { contentId: string }).contentId);
    if (!v) throw new AppError('not_found', 'No such video in this account.');
    return videoView(v);
  });

  app.get('/api/v1/videos', {
    schema: {
      summary: 'List the catalog', tags: ['catalog'], querystring: Page,
      response: { 200: Type.Object({ data: Type.Array(Video), meta: Type.Object({ total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }) }) },
    },
  }, async (req) => {
    const p = await requireToken(req, auth);
    const page = req.query as { limit: number; offset: number };
    const { items, total } = await store.catalog.listVideos(p.accountId, page);
    return { data: items.map(videoView), meta: { total, ...page } };
  });

  app.put('/api/v1/projects/:id', {
    schema: {
      summary: 'Create or rename a project', tags: ['catalog'], params: ProjectParam,
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }), response: { 200: Project },
    },
  }, async (req) => {
    const p = await requireToken(req, auth);
    return projectView(await store.catalog.upsertProject(p.accountId, (req.params as { id: string }).id, (req.body as { name: string }).name, now()));
  });

  app.get('/api/v1/projects/:id', {
    schema: { summary: 'One project', tags: ['catalog'], params: ProjectParam, response: { 200: Project } },
  }, async (req) => {
    const p = await requireToken(req, auth);
    const row = await store.catalog.getProject(p.accountId, (req.params as { id: string }).id);
    if (!row) throw new AppError('not_found', 'No such project in this account.');
    return projectView(row);
  });

  app.get('/api/v1/projects', {
    schema: {
      summary: 'List projects', tags: ['catalog'], querystring: Page,
      response: { 200: Type.Object({ data: Type.Array(Project), meta: Type.Object({ total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }) }) },
    },
  }, async (req) => {
    const p = await requireToken(req, auth);
    const page = req.query as { limit: number; offset: number };
    const { items, total } = await store.catalog.listProjects(p.accountId, page);
    return { data: items.map(projectView), meta: { total, ...page } };
  });
}
