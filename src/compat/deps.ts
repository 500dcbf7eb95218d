import type { AuthService } from '../auth/service.ts';
import type { Config } from '../config.ts';
import type { ExportService } from '../exports/service.ts';
import type { StatsService } from '../metrics/stats.ts';
import type { Store } from '../storage/types.ts';

/** What every vendor dialect may use: it translates requests and answers; the metrics come from StatsService and the store's record lists. */
export interface CompatDeps {
  auth: AuthService;
  stats: StatsService;
  store: Store;
  now: () => number;
  /** For the dialects that run exports (Contentsquare): the data directory, the base URL and the export machinery. */
  config: Readonly<Config>;
  exportService: ExportService;
}
