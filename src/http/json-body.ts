/**
 * How every route but the collector's reads an application/json body. JSON is UTF-8 (RFC 8259 §8.1):
 * a body declared in another charset is a 415, and bytes that are not UTF-8 are a 400. Decoding them
 * anyway put U+FFFD in their place, and the request was stored so (a schedule's name, a filter
 * that then matched nothing). The text then goes to Fastify's own parser, prototype keys dropped.
 * The collector reads any type of body as text in its own scope, through utf8Text too (collector/routes.ts).
 */
import { isAscii, isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;

/** The text of a body that must be UTF-8; throws a 415 for another declared charset, a 400 for bytes that are not UTF-8. */
export function utf8Text(contentType: string | undefined, body: Buffer, what = 'JSON'): string {
  const charset = CHARSET.exec(contentType ?? '')?.[1] || undefined;
  // Text all ASCII reads the same in any charset that names it (us-ascii, ISO-8859-1, …).
  if (charset !== undefined && !/^utf-?8$/i.test(charset) && !isAscii(body)) {
    throw new AppError('unsupported_media_type', `charset=${charset.slice(0, 40)} is not accepted; send ${what} encoded as UTF-8 (charset=utf-8, or no charset).`);
  }
  if (!isUtf8(body)) throw new AppError('invalid_body', `The body is not valid UTF-8; send ${what} encoded as UTF-8.`);
  return body.toString('utf8');
}

/**
 * Installs the application/json parser in `app` (its routes and those registered below it).
 * `empty(req)`: whether an empty body is no body on this route (optional-body.ts); else it is refused.
 */
export function utf8JsonParser(app: FastifyInstance, empty: (req: FastifyRequest) => boolean = () => false): void {
  const json = app.getDefaultJsonParser('remove', 'remove');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    let text: string;
    try {
      text = utf8Text(req.headers['content-type'], body as Buffer);
    } catch (err) {
      return done(err as Error, undefined);
    }
    if (text === '' && empty(req)) return done(null, undefined);
    return json(req, text, done);
  });
}
