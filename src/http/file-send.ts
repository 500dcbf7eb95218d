/**
 * Sends a stored file (an export's part or manifest, a report's ZIP) with what download tools resume
 * and revalidate by, through @fastify/send (the Range and conditional-GET logic of `send`, made for
 * Fastify): one byte range (`Range`, `If-Range`: 206 with `Content-Range`; 416 when it lies past the
 * end), `ETag` and `Last-Modified` (304 to `If-None-Match`). A part of JSON Lines of several GB cut
 * off half-way is fetched again from where it stopped (`curl -C -`, `wget -c`), not from its first
 * byte. Several ranges at once are answered with the whole file, as RFC 9110 allows.
 */
import send from '@fastify/send';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

export async function sendStoredFile(req: FastifyRequest, reply: FastifyReply, file: { dir: string; name: string; type: string; gone: string }): Promise<FastifyReply> {
  const r = await send(req.raw, `/${encodeURIComponent(file.name)}`, {
    root: file.dir, acceptRanges: true, cacheControl: false, contentType: false, dotfiles: 'deny', index: false, etag: true, lastModified: true,
  });
  if (r.type !== 'file') {
    r.stream.destroy();
    if (r.statusCode === 416) {
      const range = r.headers['Content-Range'] ?? '';
      throw new AppError('range_not_satisfiable', `The range asked for is not a byte range of this file (${/\d+$/.exec(range)?.[0] ?? '?'} bytes); ask for bytes=start-end, start- or -suffix within it, or leave Range out.`, { headers: { 'Content-Range': range } });
    }
    if (r.statusCode === 412) throw new AppError('precondition_failed', 'The file does not match If-Match or If-Unmodified-Since: it is not the one you had.');
    if (r.statusCode === 404) throw new AppError('gone', file.gone);
    throw r.type === 'error' ? r.metadata.error : new AppError('internal');
  }
  // Revalidated, never reused unchecked: the files hold viewers' data, and an erasure or the retention
  // may remove one before its link ends (a validator alone let caches keep a copy on a guess).
  reply.code(r.statusCode).headers(r.headers).header('Cache-Control', 'private, no-cache');
  if (r.statusCode !== 304) reply.type(file.type).header('Content-Disposition', `attachment; filename="${file.name}"`);
  return reply.send(r.stream);
}
