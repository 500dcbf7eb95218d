/** The embedded default store: one DuckDB file. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Store } from '../types.ts';
import { accountRepo, credentialRepo, userRepo } from './accounts.ts';
import { catalogRepo } from './catalog.ts';
import { Db } from './db.ts';
import { eventRepo } from './events.ts';
import { migrate } from './migrate.ts';
import { viewRepo } from './views.ts';
import { exportRepo } from './exports.ts';
import { jobRepo } from './jobs.ts';
import { reportRepo } from './reports.ts';
import { scheduleRepo } from './schedules.ts';
import { deliveryRepo } from './deliveries.ts';
import { privacyRepo } from './privacy.ts';
import { retentionRepo } from './retention.ts';

export async function openDuckDbStore(path: string): Promise<Store> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = await Db.open(path);
  return {
    engine: 'duckdb',
    migrate: () => migrate(db),
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
    catalog: catalogRepo(db),
    events: eventRepo(db),
    views: viewRepo(db),
    exports: exportRepo(db),
    jobs: jobRepo(db),
    reports: reportRepo(db),
    schedules: scheduleRepo(db),
    deliveries: deliveryRepo(db),
    privacy: privacyRepo(db),
    retention: retentionRepo(db),
  };
}
