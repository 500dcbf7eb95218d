/**
 * Serves the player SDK, bundled in memory as the server starts (sdk/build.ts): /sdk/reelstat.js (classic script,
 * window.Reelstat) and /sdk/reelstat.mjs (ES module). Any site may load them (CORS, CORP), gzip when
 * accepted, revalidated by ETag after five minutes.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { buildSdk } from '../../sdk/build.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

interface Served {
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

function served(text: string): Served {
  const body = Buffer.from(text, 'utf8');
  return { body, gzip: gzipSync(body, { level: 9 }), etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 20)}"` };
}

export async function sdkRoutes(app: FastifyInstance, deps: { log: Logger }): Promise<void> {
  // Built beside the start, not before listening (esbuild's ~130 ms would delay every restart); a
  // request that comes first waits for it. The API keeps working without the SDK; the two routes say
  // why they cannot answer.
  const ready: Promise<Record<string, Served> | null> = buildSdk().then(
    (b) => ({ 'reelstat.js': served(b.script), 'reelstat.mjs': served(b.module) }),
    (err) => {
      deps.log.error({ err }, 'the SDK could not be built; /sdk/* answers 503');
      return null;
    },
  );

  for (const [name, kind] of [['reelstat.js', 'classic script defining window.Reelstat'], ['reelstat.mjs', 'ES module exporting track, trackHls, trackVideojs']] as const) {
    app.get(`/sdk/${name}`, {
      schema: { summary: `The player SDK as a ${kind}`, tags: ['sdk'], security: [] },
    }, async (req, reply) => {
      const f = (await ready)?.[name];
      if (!f) throw new AppError('unavailable', 'The SDK could not be built when the server started; see the server log.');
      reply
        .header('content-type', 'text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .header('etag', f.etag)
        .header('vary', 'Accept-Encoding')
        .header('access-control-allow-origin', '*')
        .header('cross-origin-resource-policy', 'cross-origin')
        .header('x-content-type-options', 'nosniff');
      const inm = req.headers['if-none-match'];
      if (inm && inm.split(/\s*,\s*/).some((t) => t === f.etag || t === `W/${f.etag}`)) return reply.code(304).send();
      if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(f.gzip);
      return reply.send(f.body);
    });
  }
}
