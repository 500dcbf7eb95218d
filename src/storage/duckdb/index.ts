/** The embedded default store: one DuckDB file. */
export type { StoreLimits } from './db.ts';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Store } from '../types.ts';
import { accountRepo, credentialRepo, userRepo } from './accounts.ts';
import { catalogRepo } from './catalog.ts';
import { Db, type StoreLimits } from './db.ts';
import { eventRepo } from './events.ts';
import { migrate } from './migrate.ts';
import { backfillSessionStarts } from './sessionstarts.ts';
import { viewRepo } from './views.ts';
import { exportRepo } from './exports.ts';
import { jobRepo } from './jobs.ts';
import { reportRepo } from './reports.ts';
import { scheduleRepo } from './schedules.ts';
import { deliveryRepo } from './deliveries.ts';
import { sessionRepo } from './sessions.ts';
import { privacyRepo } from './privacy.ts';
import { retentionRepo } from './retention.ts';

export async function openDuckDbStore(path: string, limits: StoreLimits = {}): Promise<Store> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = await Db.open(path, 4, limits);
  return {
    engine: 'duckdb',
    async migrate() {
      const version = await migrate(db);
      await backfillSessionStarts(db); // records stored before migration 011
      return version;
    },
    async checkWritable() {
      // A database invalidated by a failed write refuses every statement, this one included.
      await db.tx((q) => q.run('UPDATE schema_migrations SET name = name WHERE false'));
    },
    async close() {
      await db.close();
    },
    accounts: accountRepo(db),
    credentials: credentialRepo(db),
    users: userRepo(db),
    sessions: sessionRepo(db),
    catalog: catalogRepo(db),
    events: eventRepo(db),
    views: viewRepo(db),
    exports: exportRepo(db, limits.exportConnections ?? 2),
    jobs: jobRepo(db),
    reports: reportRepo(db),
    schedules: scheduleRepo(db),
    deliveries: deliveryRepo(db),
    readSnapshot(fn) {
      return db.tx((q) => {
        const pinned = Db.pinned(q);
        return fn({ views: viewRepo(pinned), catalog: catalogRepo(pinned), reports: reportRepo(pinned), releaseCache: () => db.releaseCache() });
      });
    },
    privacy: privacyRepo(db),
    retention: retentionRepo(db),
  };
}
