/** Schemas many routes share: paging, the answers of a queued job, of no content and of an error. */
import { Type } from '@sinclair/typebox';

/** The most rows a list may skip: a larger offset is a 400, not an overflow in the database. */
export const MAX_OFFSET = 1_000_000_000;

/** `offset`: rows to skip, 0 to MAX_OFFSET (default 0). */
export const Offset = Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0, description: 'Rows to skip, 0 to 1,000,000,000 (default 0)' });

/** `limit` (1 to max) and `offset`, both optional with their defaults. */
export const PageQuery = (max: number, def: number) => Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: max, default: def, description: `Rows to answer, 1 to ${max} (default ${def})` })),
  offset: Type.Optional(Offset),
});

/** 202 of a job queued in the background. */
export const Pending = Type.Object({ id: Type.String(), status: Type.Literal('pending') }, { description: 'Accepted: built in the background' });

/** 204. */
export const NoContent = Type.Null({ description: 'Done; no content' });

/** Every error answer of the native API (src/errors.ts). */
export const ErrorAnswer = (description: string) =>
  Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) }, { description });

/**
 * A signed download link's query and answers (LinkSigner). The query is documented but not validated
 * by Fastify: a link without expires or sig answers 403 like an altered one, not 400 (spread
 * `route` into the route's options).
 */
export function signedDownload(types: readonly string[], gone: string) {
  const file = { type: 'string', format: 'binary' } as const;
  return {
    route: { validatorCompiler: () => () => true },
    querystring: Type.Object({
      expires: Type.String({ description: 'From the link: when it ends, Unix seconds' }),
      sig: Type.String({ description: 'From the link: its signature' }),
    }),
    response: {
      200: { description: 'The file, as an attachment (Content-Disposition), with Accept-Ranges, ETag and Last-Modified', content: Object.fromEntries(types.map((t) => [t, { schema: file }])) },
      206: { description: 'One byte range of the file (Range: bytes=start-end, start- or -suffix; If-Range honoured), with Content-Range: resumes a cut-off download', content: Object.fromEntries(types.map((t) => [t, { schema: file }])) },
      304: { description: 'Not modified (If-None-Match or If-Modified-Since matched)', type: 'null' },
      403: ErrorAnswer('forbidden: the link was altered, is incomplete (expires or sig missing) or was not made by this server'),
      410: ErrorAnswer(`gone: the link has expired, or ${gone}`),
      412: ErrorAnswer('precondition_failed: If-Match or If-Unmodified-Since does not hold'),
      416: ErrorAnswer('range_not_satisfiable: the range lies past the end of the file (Content-Range: bytes */size)'),
    },
  };
}
