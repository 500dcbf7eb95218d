/**
 * Serves the dashboard built by scripts/build-dashboard.mjs (web/dist): index.html for every page
 * of the app (the browser routes), the hashed assets with long caching. The app itself talks to
 * the API with the session cookie (src/auth/session-routes.ts).
 */
import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../errors.ts';
import { ROOT } from '../paths.ts';

export const DASHBOARD_DIST = join(ROOT, 'web', 'dist');

/** The paths the app routes in the browser (web/src/router.ts). */
export const APP_PATHS = ['/', '/sign-in', '/videos', '/videos/:contentId', '/exports', '/settings'];

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml', png: 'image/png',
  woff2: 'font/woff2', json: 'application/json', ico: 'image/x-icon',
};

const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
  "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'",
].join('; ');

function secure(reply: FastifyReply): FastifyReply {
  return reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'same-origin').header('x-frame-options', 'DENY');
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Reelstat</title>
<p style="font:16px system-ui;margin:3rem">The dashboard is not built. Run <code>npm start</code> (it builds it first) or
<code>node scripts/build-dashboard.mjs</code>, then reload. The API works meanwhile: <a href="/api/v1/docs">/api/v1/docs</a>.</p>`;

export async function dashboardRoutes(app: FastifyInstance, opts: { dir?: string } = {}): Promise<void> {
  const dir = opts.dir ?? DASHBOARD_DIST;
  let index: { html: string; mtime: number } | null = null;

  async function indexHtml(): Promise<string | null> {
    const file = join(dir, 'index.html');
    if (!existsSync(file)) return null;
    const mtime = (await stat(file)).mtimeMs;
    if (!index || index.mtime !== mtime) index = { html: await readFile(file, 'utf8'), mtime };
    return index.html;
  }

  for (const path of APP_PATHS) {
    app.get(path, { schema: { hide: true } }, async (_req, reply) => {
      const html = await indexHtml();
      secure(reply).header('cache-control', 'no-cache').header('content-type', 'text/html; charset=utf-8');
      if (html === null) return reply.code(503).send(NOT_BUILT);
      return reply.header('content-security-policy', CSP).send(html);
    });
  }

  async function file(reply: FastifyReply, path: string, cache: string) {
    const ext = path.slice(path.lastIndexOf('.') + 1);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile() || !TYPES[ext]) throw new AppError('not_found', 'No such dashboard file.');
    return secure(reply).header('content-type', TYPES[ext]).header('content-length', info.size).header('cache-control', cache).send(createReadStream(path));
  }

  app.get('/assets/:name', { schema: { hide: true } }, async (req, reply) => {
    const name = (req.params as { name: string }).name;
    // Built names only (index-3fa9c2.js): no path separators, no dot files.
    if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name)) throw new AppError('not_found', 'No such dashboard file.');
    return file(reply, join(dir, 'assets', name), 'public, max-age=31536000, immutable');
  });
  app.get('/favicon.svg', { schema: { hide: true } }, async (_req, reply) => file(reply, join(dir, 'favicon.svg'), 'public, max-age=86400'));
}
