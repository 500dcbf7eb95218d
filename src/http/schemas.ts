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
