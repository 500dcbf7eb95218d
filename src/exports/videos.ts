/**
 * The `videos` scope and reports: one row a catalog entry, its metrics over the period. The numbers
 * come from StatsService (grouped by video_id) — the one definition of every metric — joined here
 * with the catalog entries; an entry nothing happened to gets zeros.
 */
import { createHash } from 'node:crypto';
import { deriveMetrics, METRIC_NAMES, type Metric } from '../metrics/registry.ts';
import type { StatsService } from '../metrics/stats.ts';
import type { CatalogItem, CatalogItemFilter, RecordFilters, SnapshotStore, Store } from '../storage/types.ts';
import { FIELDS } from './fields.ts';
import type { TableColumn } from './formats/table.ts';

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

/** The catalog entries and their metrics, read from one snapshot: a video added meanwhile is either a row with its numbers or absent. */
export async function videoTable(stats: StatsService, store: Store, req: VideoTableRequest): Promise<{ columns: TableColumn[]; rows: unknown[][] }> {
  await stats.settle();
  return store.readSnapshot((snap) => tableOf(stats.over(snap), snap, req));
}

async function tableOf(stats: StatsService, snap: SnapshotStore, req: VideoTableRequest): Promise<{ columns: TableColumn[]; rows: unknown[][] }> {
  const items = await snap.reports.items(req.accountId, req.items);
  const columns = req.fields.map((f) => ({ name: f.as, type: TYPES.get(f.name)! }));
  if (items.length === 0) return { columns, rows: [] };
  const narrowed = req.items.folders?.length || req.items.projectId !== undefined || req.items.contentIds;
  const filters: RecordFilters = { ...req.filters };
  if (narrowed) filters.contentIds = items.map((i) => i.contentId);
  const found = await stats.query({ accountId: req.accountId, fromMs: req.fromMs, toMs: req.toMs, tz: req.tz, groupBy: ['video_id'], filters, metrics: METRIC_NAMES });
  const byId = new Map(found.map((r) => [r.key.video_id ?? null, r.metrics]));
  const rows = items.map((it) => {
    const m = byId.get(it.contentId) ?? ZERO;
    return req.fields.map((f) => value(f.name, it, m));
  });
  return { columns, rows };
}
