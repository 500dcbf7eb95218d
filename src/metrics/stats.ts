/**
 * The query runner every surface calls: parse nothing, trust nothing about the surface — take a
 * record set, group it, fetch base sums, loads and peaks from the store, derive the metrics through
 * the registry, and rank or order the groups.
 */
import type { Dimension, GroupKey, RecordFilters, RecordRow, RecordSet, SnapshotStore, Store } from '../storage/types.ts';
import { mergeHeatmap, decodeHm, perSecondCounts, encodeHm, type HmRun } from './hm.ts';
import type { Materializer } from './materializer.ts';
import { addDays, datesOf, dayStartUtc, hoursOf, listsEveryDate, localDate } from './period.ts';
import { deriveMetrics, type Metric } from './registry.ts';

export interface StatsRequest {
  accountId: string;
  fromMs: number;
  toMs: number;
  tz: string;
  groupBy: Dimension[];
  filters: RecordFilters;
  metrics: Metric[];
  /** With groupBy ['date'] or ['hour']: a row for every day or hour of the period, zeros where nothing happened. */
  fillDates?: boolean;
}

export interface StatsRow {
  key: GroupKey;
  metrics: Record<Metric, number | null>;
}

export interface Order {
  field: string;
  dir: 'asc' | 'desc';
}

const keyId = (k: GroupKey) => JSON.stringify(k);
const MAX_HEATMAP_SECONDS = 86_400;

export class StatsService {
  constructor(
    private readonly store: Pick<Store, 'views'>,
    private readonly materializer: Pick<Materializer, 'settle'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Waits until every committed event is in the view records (queries do this themselves). */
  settle(): Promise<void> {
    return this.materializer.settle();
  }

  /**
   * The same queries against one snapshot (Store.readSnapshot), for answers that must agree with
   * other reads of it. Call settle() before opening the snapshot: inside it nothing waits.
   */
  over(snapshot: SnapshotStore): StatsService {
    return new StatsService(snapshot, { settle: async () => {} }, this.now);
  }

  private set(req: Pick<StatsRequest, 'accountId' | 'fromMs' | 'toMs' | 'tz' | 'filters'>): RecordSet {
    return { accountId: req.accountId, fromMs: req.fromMs, toMs: req.toMs, tz: req.tz, filters: req.filters };
  }

  async query(req: StatsRequest): Promise<StatsRow[]> {
    await this.materializer.settle();
    const set = this.set(req);
    const wantPeak = req.metrics.includes('peak_concurrent_viewers');
    const [base, loads, peaks] = await Promise.all([
      this.store.views.aggregate(set, req.groupBy),
      this.store.views.loads(set, req.groupBy),
      wantPeak ? this.store.views.peakConcurrent(set, req.groupBy) : Promise.resolve([]),
    ]);
    const groups = new Map<string, { key: GroupKey; base?: (typeof base)[number]; loads: number; peak?: number }>();
    const group = (key: GroupKey) => {
      const id = keyId(key);
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { key, loads: 0 }));
      return g;
    };
    for (const b of base) group(b.key).base = b;
    for (const l of loads) group(l.key).loads = l.loads;
    for (const p of peaks) group(p.key).peak = p.peak;
    if (req.groupBy.length === 0) group({});
    if (req.fillDates && req.groupBy.length === 1 && req.groupBy[0] === 'date') {
      for (const date of this.days(req, [...groups.values()].map((g) => g.key.date))) group({ date });
    }
    if (req.fillDates && req.groupBy.length === 1 && req.groupBy[0] === 'hour') {
      for (const hour of hoursOf(req.fromMs, req.toMs, req.tz)) group({ hour });
    }
    return [...groups.values()].map((g) => ({ key: g.key, metrics: deriveMetrics({ base: g.base, loads: g.loads, peak: g.peak }) }));
  }

  /**
   * The days to list for a date grouping: every day of the period; for a period too long to list
   * (all time), the days from the first one with data to the last one with data or today.
   */
  private days(req: Pick<StatsRequest, 'fromMs' | 'toMs' | 'tz'>, present: Array<string | null | undefined>): string[] {
    // Every day while datesOf can list them all (the Kinescope dialect refuses a longer date grouping).
    if (listsEveryDate(req.fromMs, req.toMs, req.tz)) return datesOf(req.fromMs, req.toMs, req.tz);
    const seen = present.filter((d): d is string => !!d).sort();
    const lastDay = localDate(Math.min(req.toMs - 1, this.now()), req.tz);
    const first = seen[0] ?? lastDay;
    const last = seen.length && seen[seen.length - 1] > lastDay ? seen[seen.length - 1] : lastDay;
    return datesOf(Math.max(req.fromMs, dayStartUtc(first, req.tz)), Math.min(req.toMs, dayStartUtc(addDays(last, 1), req.tz)), req.tz);
  }

  /** Top lists: views, then player_loads, then id. An explicit order sorts by that field first. */
  static sort(rows: StatsRow[], order?: Order): StatsRow[] {
    const id = (r: StatsRow) => Object.values(r.key).map((v) => v ?? '').join('\u0000');
    const val = (r: StatsRow, f: string): number | string | null => (f in r.metrics ? r.metrics[f as Metric] : (r.key[f as Dimension] ?? null));
    const cmp = (a: number | string | null, b: number | string | null): number => {
      if (a === b) return 0;
      if (a === null) return 1;
      if (b === null) return -1;
      return a < b ? -1 : 1;
    };
    return [...rows].sort((a, b) => {
      if (order) {
        const va = val(a, order.field);
        const vb = val(b, order.field);
        // Rows without a value (no loads, unknown country…) go last in either direction.
        if ((va === null) !== (vb === null)) return va === null ? 1 : -1;
        const c = cmp(va, vb);
        if (c !== 0) return order.dir === 'asc' ? c : -c;
      }
      return -cmp(a.metrics.views, b.metrics.views) || -cmp(a.metrics.player_loads, b.metrics.player_loads) || cmp(id(a), id(b));
    });
  }

  /** Per-second heatmap (sum of counts) and retention (records watching each second). */
  async heatmap(req: Pick<StatsRequest, 'accountId' | 'fromMs' | 'toMs' | 'tz' | 'filters'>, duration: number | null) {
    await this.materializer.settle();
    const hms = await this.store.views.hms(this.set(req));
    const { heatmap, retention } = mergeHeatmap(hms.map((h) => decodeHm(h)));
    const lastSecond = (runs: HmRun[]) => (runs.length ? runs[runs.length - 1].end + 1 : 0);
    const length = Math.min(MAX_HEATMAP_SECONDS, Math.max(duration ?? 0, lastSecond(heatmap)));
    return {
      records: hms.length,
      seconds: length,
      heatmap: perSecondCounts(heatmap, length),
      retention: perSecondCounts(retention, length),
      hm: encodeHm(heatmap),
    };
  }

  /** View records of a set, with the catalog's duration and title applied (for the record-level dialects). */
  async records(req: Pick<StatsRequest, 'accountId' | 'fromMs' | 'toMs' | 'tz' | 'filters'>, opts: { playedOnly: boolean; order: 'asc' | 'desc'; limit: number; offset: number }) {
    await this.materializer.settle();
    return this.store.views.list(this.set(req), opts);
  }

  /** Every record of a set, in order, a chunk at a time (for CSV answers of any size). */
  async streamRecords(
    req: Pick<StatsRequest, 'accountId' | 'fromMs' | 'toMs' | 'tz' | 'filters'>,
    opts: { playedOnly: boolean; order: 'asc' | 'desc' },
    visit: (rows: RecordRow[]) => Promise<void>,
  ): Promise<void> {
    await this.materializer.settle();
    await this.store.views.stream(this.set(req), opts, visit);
  }

  async countRecords(req: Pick<StatsRequest, 'accountId' | 'fromMs' | 'toMs' | 'tz' | 'filters'>, opts: { playedOnly: boolean }): Promise<number> {
    await this.materializer.settle();
    return this.store.views.count(this.set(req), opts);
  }

  async watchingNow(accountId: string, contentIds?: string[]): Promise<number> {
    return this.store.views.watchingNow(accountId, this.now() - 60_000, contentIds);
  }

  /** Referrers grouped by domain, each with its pages: views, player_loads, view_rate. */
  async referrers(req: Pick<StatsRequest, 'accountId' | 'fromMs' | 'toMs' | 'tz' | 'filters'>) {
    const rows = await this.query({ ...req, groupBy: ['domain', 'url'], metrics: ['views', 'player_loads', 'view_rate'] });
    const domains = await this.query({ ...req, groupBy: ['domain'], metrics: ['views', 'player_loads', 'view_rate'] });
    const pick = (r: StatsRow) => ({ views: r.metrics.views, player_loads: r.metrics.player_loads, view_rate: r.metrics.view_rate });
    return StatsService.sort(domains).map((d) => ({
      domain: d.key.domain ?? null,
      ...pick(d),
      pages: StatsService.sort(rows.filter((r) => r.key.domain === d.key.domain)).map((p) => ({ url: p.key.url ?? null, ...pick(p) })),
    }));
  }
}
