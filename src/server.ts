/** Puts the parts together: store, auth, enrichment, writer, app. main.ts and tests both use it. */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp, type App } from './app.ts';
import { AuthService, type NewAccount } from './auth/service.ts';
import { randomString } from './auth/secrets.ts';
import { createIngest } from './collector/ingest.ts';
import { EventWriter } from './collector/writer.ts';
import type { Config } from './config.ts';
import { createEnricher } from './enrich/index.ts';
import { defaultGeoPaths, openGeo } from './enrich/geo.ts';
import type { Logger } from './logger.ts';
import { createMailer, type Mailer } from './delivery/email.ts';
import { LinkSigner } from './exports/links.ts';
import { ExportService } from './exports/service.ts';
import { ExportScheduler } from './exports/scheduler.ts';
import { Outbox } from './delivery/outbox.ts';
import { ReportService } from './reports/service.ts';
import { Materializer } from './metrics/materializer.ts';
import { StatsService } from './metrics/stats.ts';
import { openDuckDbStore } from './storage/duckdb/index.ts';
import { ROOT } from './paths.ts';
import type { Store } from './storage/types.ts';
import { AuditLog } from './privacy/audit.ts';
import { SweepClock } from './privacy/clock.ts';
import { ViewerPolicy } from './privacy/policy.ts';
import { RetentionService, Sweeper } from './privacy/retention.ts';
import { PrivacyService } from './privacy/service.ts';

export interface Server {
  app: App;
  /** The retention sweeper (tests run rounds with sweeper.loop.kick()). */
  sweeper: Sweeper;
  stats: StatsService;
  store: Store;
  auth: AuthService;
  /** Sends export and report emails; null when REELSTAT_SMTP_URL is unset. */
  mailer: Mailer | null;
  /** Credentials of the account made on this first start, else null. */
  firstAccount: (NewAccount & { password: string }) | null;
  url: string;
  close(): Promise<void>;
}

/** On a first start with no account: the `default` account, its credentials printed once and saved 0600. */
async function bootstrap(config: Readonly<Config>, store: Store, auth: AuthService): Promise<(NewAccount & { password: string }) | null> {
  if ((await store.accounts.count()) > 0) return null;
  const password = randomString(20);
  const made = await auth.createAccount({ name: 'default', email: 'owner@reelstat.local', password });
  const creds = { ...made, password };
  mkdirSync(config.dataDir, { recursive: true });
  const file = join(config.dataDir, 'credentials.json');
  writeFileSync(file, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return creds;
}

export async function startServer(config: Readonly<Config>, log: Logger, opts: { now?: () => number; mono?: () => number; listen?: boolean } = {}): Promise<Server> {
  const now = opts.now ?? Date.now;
  const mono = opts.mono ?? (() => performance.now());
  // The GeoIP files (134 MB of city data, read on libuv's threads) load while the store opens and the
  // app is built; the server awaits them before it listens, so a bad path still fails the start.
  const paths = defaultGeoPaths();
  const geo = openGeo({
    cityV4Path: config.geo.cityV4Path ?? paths.cityV4Path,
    cityV6Path: config.geo.cityV6Path ?? paths.cityV6Path,
    asnV4CsvPath: config.geo.asnV4CsvPath ?? paths.asnV4CsvPath,
    asnV6CsvPath: config.geo.asnV6CsvPath ?? paths.asnV6CsvPath,
  }, { cacheDir: join(ROOT, 'build', 'cache') });
  geo.catch(() => undefined); // awaited below, once the app is built
  // Viewers' data (the database, export files, keys): a data directory made here is its owner's
  // alone, as credentials.json is (one that exists keeps its mode).
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await openDuckDbStore(config.dbPath, config.duckdb);
  await store.migrate();
  const auth = new AuthService(store, { ...config.auth, retention: config.defaults.retention }, now);
  const firstAccount = await bootstrap(config, store, auth);
  const materializer = new Materializer(store, log);
  await materializer.start();
  const writer = new EventWriter(store, config.collector, log, (seq) => materializer.committed(seq));
  await writer.start();
  const stats = new StatsService(store, materializer, now);
  const policy = ViewerPolicy.fromDataDir(config.dataDir, store, config.defaults.retention.rawDays);
  const ingest = createIngest({ writer, enricher: geo.then((g) => createEnricher({ geo: g, ipMode: config.ipMode })), now });
  let url = `http://${config.host}:${config.port}`;
  const signer = LinkSigner.fromDataDir(config.dataDir, config.exports.linkTtlSeconds * 1000, () => config.publicUrl ?? url);
  const exportService: ExportService = new ExportService(store, signer, {
    dir: config.exports.dir, partRows: config.exports.partRows, partBytes: config.exports.partBytes, workers: config.exports.workers, maxOnDemandDays: config.exports.maxOnDemandDays, log, now, settle: () => materializer.settle(),
    onDelivery: () => outbox.kick(), stats, viewerProfile: (accountId: string, userId: string): Promise<unknown> => privacy.profile(accountId, userId),
  });
  const mailer = config.smtp ? createMailer({ smtpUrl: config.smtp.url, from: config.smtp.from }) : null;
  // Scheduled exports: the scheduler adds a run per ended period; the outbox delivers completed runs.
  const scheduler = new ExportScheduler(store, { now, log, onRuns: () => exportService.kick() });
  const outbox = new Outbox(store, { now, log, allowPrivate: config.allowPrivateWebhooks, mailer, files: (run) => exportService.viewRun(run).files });
  const reportService = new ReportService(store, stats, signer, mailer, { dir: join(config.dataDir, 'reports'), log, now });
  // Per-viewer data and retention (src/privacy).
  const audit = new AuditLog(store, now);
  const privacy: PrivacyService = new PrivacyService({ store, materializer, exports: exportService, stats, policy, audit, log, now, purgeWaitMs: 30_000, drainWrites: () => writer.barrier() });
  const retention = new RetentionService(store, policy, audit);
  const sweeper = new Sweeper({
    store, materializer, exports: exportService, clock: new SweepClock({ wall: now, mono }), log, everyMs: config.sweepIntervalSeconds * 1000,
    reportsDir: join(config.dataDir, 'reports'), purge: () => materializer.exclusive(() => privacy.purge()),
  });
  const app = await buildApp({ config, log, store, auth, writer, ingest, stats, exportService, reportService, signer, mailer, now, policy, privacy, retention, audit });
  await geo;
  if (opts.listen !== false) {
    url = await app.fastify.listen({ host: config.host, port: config.port });
  }
  await exportService.start();
  await scheduler.start();
  outbox.start();
  await reportService.start();
  sweeper.start();
  let closed = false;
  return {
    app, sweeper, stats, store, auth, mailer, firstAccount, url,
    async close() {
      if (closed) return;
      closed = true;
      await app.drain(config.shutdownGraceSeconds * 1000);
      await sweeper.stop();
      await materializer.stop();
      await scheduler.stop();
      await outbox.stop();
      await exportService.stop();
      await reportService.stop();
      mailer?.close();
      await store.close();
    },
  };
}
