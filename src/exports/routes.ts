/** On-demand exports, the field catalog and signed downloads. */
import { basename, dirname } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/service.ts';
import { AppError } from '../errors.ts';
import { requireToken } from '../http/auth.ts';
import { sendStoredFile } from '../http/file-send.ts';
import { PageQuery, Pending, signedDownload } from '../http/schemas.ts';
import type { Store } from '../storage/types.ts';
import { FIELDS, SCOPES, type ExportScope } from './fields.ts';
import type { LinkSigner } from './links.ts';
import { ExportView, FieldCatalog } from './schemas.ts';
import type { ExportService } from './service.ts';

const TYPES: Record<string, string> = {
  csv: 'text/csv; charset=utf-8', jsonl: 'application/x-ndjson', json: 'application/json', parquet: 'application/vnd.apache.parquet',
  gz: 'application/gzip', zip: 'application/zip', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};
const DOWNLOAD = signedDownload([...new Set(Object.values(TYPES))], 'the file is no longer kept (retention, an erasure)');

export interface ExportRouteDeps {
  auth: AuthService;
  store: Store;
  exportService: ExportService;
  signer: LinkSigner;
  now: () => number;
}

export async function exportRoutes(app: FastifyInstance, deps: ExportRouteDeps): Promise<void> {
  const { auth, exportService, signer, store, now } = deps;

  app.get('/api/v1/fields', {
    schema: {
      summary: 'Every field of an export scope, with its type and meaning', tags: ['exports'],
      querystring: { type: 'object', properties: { scope: { type: 'string', enum: SCOPES } }, required: ['scope'] },
      response: { 200: FieldCatalog },
    },
  }, async (req) => {
    await requireToken(req, auth);
    const scope = (req.query as { scope: ExportScope }).scope;
    return { scope, data: FIELDS[scope] };
  });

  app.post('/api/v1/exports', {
    schema: {
      summary: 'Start an on-demand export (answers 202; poll GET /api/v1/exports/{id})', tags: ['exports'],
      description: 'Body: {"startDate","endDate" (YYYY-MM-DD, UTC, both included, at most 30 days from startDate, not before the raw retention, not after today), ' +
        '"scope": "events"|"views"|"sessions" (one row a session)|"videos" (one row a catalog entry with its metrics), "types": ["events","quality","ads"], "format": "csv"|"jsonl"|"json"|"parquet"|"xlsx" (cells cut at 32,767 characters; a new sheet every 1,048,576 rows), "fields": ["name" | {"fieldName","aliasName"}], ' +
        '"filters": {"contentId","projectId","folder","userId","sessionId","deviceType","country","deviceLabel": "all"|"desktop"|"mobile"|"tablet"}, "gzip": bool, "zip": bool, "bom": bool (CSV only: each file starts with a UTF-8 byte order mark, so that Excel reads it as UTF-8)}. ' +
        'In the sessions scope a session is the period\'s by its first record, and filters choose the records its row sums (a session with none chosen has no row). Files are split into parts ' +
        'of REELSTAT_EXPORT_PART_ROWS rows, each with its row count, size and SHA-256, and a manifest.json.',
      body: { type: 'object' },
      response: { 202: Pending },
    },
  }, async (req, reply) => {
    const p = await requireToken(req, auth);
    const account = (await store.accounts.get(p.accountId))!;
    return reply.code(202).send(await exportService.createOnDemand(p.accountId, req.body as Record<string, unknown>, account.rawRetentionDays));
  });

  app.get('/api/v1/exports', {
    schema: {
      summary: 'On-demand exports, newest first', tags: ['exports'],
      querystring: PageQuery(100, 20),
      response: { 200: Type.Object({ data: Type.Array(ExportView) }) },
    },
  }, async (req) => {
    const p = await requireToken(req, auth);
    return { data: await exportService.list(p.accountId, req.query as { limit: number; offset: number }) };
  });

  app.get('/api/v1/exports/:id', {
    schema: {
      summary: 'An export: status, rows, files with signed links (a ZIP lists the parts inside it), and a signed link to manifest.json', tags: ['exports'],
      params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } },
      response: { 200: ExportView },
    },
  }, async (req) => {
    const p = await requireToken(req, auth);
    return exportService.get(p.accountId, (req.params as { id: string }).id);
  });

  app.get('/downloads/:runId/:name', {
    ...DOWNLOAD.route,
    schema: {
      summary: 'Download an export file through its signed link (no other credential)', tags: ['exports'], security: [],
      description: 'The content type follows the file\'s extension (manifest.json: application/json; .gz: application/gzip).',
      querystring: DOWNLOAD.querystring, response: DOWNLOAD.response,
    },
  }, async (req, reply) => {
    const { runId, name } = req.params as { runId: string; name: string };
    const { expires, sig } = req.query as { expires?: string; sig?: string };
    const check = signer.check(`/downloads/${runId}/${name}`, expires, sig, now());
    if (check === 'forged') throw new AppError('forbidden', 'This download link is not valid: it was altered or is incomplete.');
    if (check === 'expired') throw new AppError('gone', 'This download link has expired; export the data again.');
    const gone = 'This file is no longer kept; export the data again.';
    const path = await exportService.filePath(runId, name);
    if (!path) throw new AppError('gone', gone);
    return sendStoredFile(req, reply, { dir: dirname(path), name: basename(path), type: TYPES[name.split('.').pop()!] ?? 'application/octet-stream', gone });
  });
}
