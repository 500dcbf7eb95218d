/**
 * The `videos` scope and reports: one row a catalog entry, its metrics over the period. The numbers
 * come from StatsService (grouped by video_id) — the one definition of every metric — joined here
 * with the catalog entries; an entry nothing happened to gets zeros. The rows are staged, a page of
 * catalog entries at a time, in a file (one JSON array a line) that the writers then read: memory
 * holds a page, whatever the size of the catalog.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { deriveMetrics, METRIC_NAMES, type Metric } from '../metrics/registry.ts';
import type { StatsService } from '../metrics/stats.ts';
import type { CatalogItem, CatalogItemFilter, RecordFilters, SnapshotStore, Store } from '../storage/types.ts';
import { FIELDS } from './fields.ts';
import { jsonBigints, type TableColumn } from './formats/table.ts';
import { streamSink } from '../util/sink.ts';

export interface VideoTableRequest {
  accountId: string;
  fromMs: number;
  toMs: number;
  tz: string;
  /** Which catalog entries are rows. */
  items: CatalogItemFilter;
  /** Filters on the records counted (country, device type, viewer…); they never remove a row. */
  filters: Omit<RecordFilters, 'contentIds' | 'projectId' | 'folder'>;
  /** Fields of the videos scope by name, with their output names. */
  fields: Array<{ name: string; as: string }>;
}

/** A stable id for a folder path (the catalog keys folders by their path). */
export function folderId(path: string): string {
  return 'fld_' + createHash('sha256').update(path).digest('hex').slice(0, 16);
}

/** Whole seconds the way view records count a catalog duration: half up, at least 1. */
const wholeSeconds = (d: number | null): number | null => (d === null || !(d > 0) ? null : Math.max(1, Math.floor(d + 0.5)));

const ZERO = deriveMetrics({ base: undefined, loads: 0, peak: 0 });
const TYPES = new Map(FIELDS.videos.map((d) => [d.name, d.type]));

function value(name: string, it: CatalogItem, m: Record<Metric, number | null>): unknown {
  switch (name) {
    case 'project_id': return it.projectId;
    case 'project_name': return it.projectName;
    case 'video_id': return it.kind === 'video' ? it.contentId : null;
    case 'stream_id': return it.kind === 'stream' ? it.contentId : null;
    case 'event_id': return it.kind === 'event' ? it.contentId : null;
    case 'content_id': return it.contentId;
    case 'kind': return it.kind;
    case 'title': return it.title;
    case 'duration': return wholeSeconds(it.duration);
    case 'folder_name': return it.folder;
    case 'folder_id': return it.folder === null ? null : folderId(it.folder);
    // The Kinescope report's "view rate" is watch depth (spec/exports.md "Reports").
    case 'view_rate': return m.watch_depth ?? 0;
    case 'player_loads': case 'unique_views': case 'views': case 'total_watch_time': case 'peak_concurrent_viewers':
    case 'avg_watch_time': case 'completion_rate':
      return m[name] ?? 0;
  }
  throw new Error(`no value for field ${name} in scope videos`);
}

/** Catalog entries a page (videoTable); tests make it small. */
export const videoPaging = { items: 5_000 };

/** A table of rows staged in a file (videoTable): its columns, where, and how many rows. */
export interface StagedTable {
  columns: TableColumn[];
  path: string;
  rows: number;
}

/**
 * The catalog entries and their metrics, read from one snapshot (a video added meanwhile is either a
 * row with its numbers or absent), staged at `path` in content id order.
 */
export async function videoTable(stats: StatsService, store: Store, req: VideoTableRequest, path: string): Promise<StagedTable> {
  await stats.settle();
  const columns = req.fields.map((f) => ({ name: f.as, type: TYPES.get(f.name)! }));
  const out = streamSink(createWriteStream(path));
  try {
    const rows = await store.readSnapshot((snap) => stage(stats.over(snap), snap, req, (lines) => out.write(lines)));
    await out.end();
    return { columns, path, rows };
  } catch (err) {
    await out.destroy();
    throw err;
  }
}

async function stage(stats: StatsService, snap: SnapshotStore, req: VideoTableRequest, write: (line: string) => Promise<void>): Promise<number> {
  let n = 0;
  for (let after: string | undefined; ;) {
    const items = await snap.reports.items(req.accountId, req.items, { after, limit: videoPaging.items });
    if (items.length === 0) return n;
    const filters: RecordFilters = { ...req.filters, contentIds: items.map((i) => i.contentId) };
    const found = await stats.query({ accountId: req.accountId, fromMs: req.fromMs, toMs: req.toMs, tz: req.tz, groupBy: ['video_id'], filters, metrics: METRIC_NAMES });
    const byId = new Map(found.map((r) => [r.key.video_id ?? null, r.metrics]));
    let lines = '';
    for (const it of items) lines += JSON.stringify(req.fields.map((f) => value(f.name, it, byId.get(it.contentId) ?? ZERO)), jsonBigints) + '\n';
    await write(lines);
    await snap.releaseCache?.(); // the blocks this page read: DuckDB would keep them up to its limit
    n += items.length;
    after = items.at(-1)!.contentId;
  }
}

/** The rows of a staged table from byte `start` (a line's start), with the byte each one ends at. */
export async function* stagedRows(path: string, start = 0): AsyncGenerator<{ row: unknown[]; end: number }> {
  const input = createReadStream(path, { start });
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    let at = start;
    for await (const line of lines) {
      at += Buffer.byteLength(line) + 1;
      yield { row: JSON.parse(line) as unknown[], end: at };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}
