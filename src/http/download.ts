/** Answers a small table (computed in memory) as a CSV or XLSX attachment, written by the export formats. */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyReply } from 'fastify';
import { writeTable, type TableColumn } from '../exports/formats/table.ts';

const TYPES = { csv: 'text/csv; charset=utf-8', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' } as const;
export type DownloadFormat = keyof typeof TYPES;
export const DOWNLOAD_FORMATS = Object.keys(TYPES) as DownloadFormat[];

export async function sendTable(reply: FastifyReply, baseName: string, format: DownloadFormat, columns: TableColumn[], rows: Iterable<readonly unknown[]>): Promise<FastifyReply> {
  const dir = await mkdtemp(join(tmpdir(), 'reelstat-download-'));
  const path = join(dir, `${baseName}.${format}`);
  try {
    await writeTable(path, format, columns, rows);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const stream = createReadStream(path);
  stream.on('close', () => void rm(dir, { recursive: true, force: true }));
  return reply
    .header('content-type', TYPES[format])
    .header('content-disposition', `attachment; filename="${baseName.replace(/[^A-Za-z0-9._-]/g, '_')}.${format}"`)
    .header('cache-control', 'no-store')
    .send(stream);
}
