/**
 * The public shapes of exports — an export and its run (ExportService.get / viewRun), a scheduled
 * run, the field catalog (FIELDS) — for OpenAPI and the answers. Fastify serializes an answer with
 * its schema: a key missing here is dropped from the answer, so a key added to viewRun belongs here too.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { SCOPES, type FieldType } from './fields.ts';

const Str = Type.String();
const Int = Type.Integer();
const Nullable = <T extends TSchema>(t: T, description?: string) => Type.Union([t, Type.Null()], description ? { description } : {});
/** A string out of a list: documented as an enum, serialized as any string (an enum never fails an answer). */
const OneOf = <T extends string>(values: readonly T[], description?: string) => Type.Unsafe<T>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });

export const RUN_STATUSES = ['pending', 'running', 'completed', 'failed', 'expired'] as const;
const FIELD_TYPES: FieldType[] = ['string', 'number', 'integer', 'boolean', 'timestamp', 'object'];

const Part = Type.Object({ name: Str, size: Int, rows: Int, sha256: Str });

/** A run as ExportService.viewRun shows it. */
export const RunView = Type.Object({
  status: OneOf(RUN_STATUSES, 'pending → running → completed | failed; expired once the links have ended or the files were removed'),
  rows: Nullable(Int, 'Rows exported, once completed'),
  period: Type.Object({ from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) }, { description: 'The time exported: from included, to excluded' }),
  files: Type.Array(Type.Object({
    name: Str, url: Type.String({ description: 'Signed download link' }), size: Int, rows: Int, sha256: Str, expiresAt: Type.String({ format: 'date-time', description: 'When the link ends' }),
    parts: Type.Optional(Type.Array(Part, { description: 'A ZIP: the parts inside it' })),
  }), { description: 'While completed and not expired; else empty' }),
  manifest: Nullable(Str, 'Signed link to manifest.json (rows, size and SHA-256 of every part)'),
  error: Nullable(Str, 'Why it failed'),
  filesRemoved: Nullable(Str, 'Why and when the files were removed before their expiry (a viewer\'s erasure, retention); else null'),
  attempts: Type.Integer({ description: 'Attempts at writing the export' }),
});

/** GET /api/v1/exports/{id}: an export (on-demand, Contentsquare once job, per-viewer) with its run. */
export const ExportView = Type.Composite([
  Type.Object({
    id: Str,
    createdAt: Type.String({ format: 'date-time' }),
    scope: Type.String({ description: `${SCOPES.join(', ')}, or viewer (a per-viewer export: POST /api/v1/users/{userId}/export)` }),
    format: Type.String({ description: 'csv, jsonl, json, parquet or xlsx' }),
    dialect: Nullable(Str, 'contentsquare for a job made through the Contentsquare dialect (POST /v1/exports; its client reads its runs at GET /v1/exports/{id}/runs), else null'),
  }),
  RunView,
]);

/** GET /api/v1/fields. */
export const FieldCatalog = Type.Object({
  scope: OneOf(SCOPES),
  data: Type.Array(Type.Object({ name: Str, type: OneOf(FIELD_TYPES), description: Str })),
});
