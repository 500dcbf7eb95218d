/**
 * The only reader of process.env. Every setting is parsed and checked here; a bad value stops
 * start-up with a message naming the variable. The result is frozen and passed down explicitly.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';

export type IpMode = 'full' | 'truncate' | 'drop';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  dbPath: string;
  adminToken: string | null;
  ipMode: IpMode;
  trustProxy: boolean;
  logLevel: string;
  geo: { cityV4Path: string | null; cityV6Path: string | null; asnV4CsvPath: string | null; asnV6CsvPath: string | null };
  collector: {
    /** Events per second per account; 0 disables. Burst is twice this. */
    accountRate: number;
    /** Requests per second per client address; 0 disables. */
    ipRate: number;
    /** Events waiting for commit beyond which requests are shed with 503. */
    maxQueuedEvents: number;
    /** Largest number of events written in one group commit. */
    maxCommitEvents: number;
  };
  auth: {
    maxFailures: number;
    failureWindowSeconds: number;
    /** Lifetime of a dashboard sign-in, seconds from sign-in (not renewed by use). */
    sessionTtlSeconds: number;
  };
  /** Retention settings of new accounts (each account may change its own). */
  defaults: { retention: { rawDays: number; aggregateDays: number; exportFileDays: number } };
  /** Base of absolute links (download links in API answers and emails); default http://HOST:PORT. */
  publicUrl: string | null;
  /**
   * `workers`: export runs written at once. On-demand runs (once jobs) may take every worker, one
   * run an account at a time; scheduled runs (hourly, daily, weekly) one worker at most, so that
   * with two or more they never hold an on-demand run back (src/exports/service.ts).
   */
  exports: { dir: string; linkTtlSeconds: number; maxOnDemandDays: number; partRows: number; partBytes: number | null; workers: number };
  /**
   * The embedded store's limits: DuckDB's buffer pool (it spills beyond it) and its worker threads.
   * One thread by default: the server shares its cores with Node's event loop, dashboard queries stay
   * well within Q1 on one (bench/README.md), and parallel operators hold memory per thread (an
   * order-keeping COPY with two threads held ~300 MB more than with one, at the same speed).
   * `exportConnections`: 2 lets an export write CSV and JSON Lines parts on two connections at once
   * (the second core; storage/duckdb/exportpieces.ts, inPieces), 1 keeps exports to one.
   */
  duckdb: { memoryLimit: string; threads: number | null; exportConnections: number };
  /** Outgoing email (scheduled exports, reports); null when REELSTAT_SMTP_URL is unset. */
  smtp: { url: string; from: string } | null;
  /** REELSTAT_ALLOW_PRIVATE_WEBHOOKS=1 lets webhooks reach private and loopback addresses (tests, intranets). */
  allowPrivateWebhooks: boolean;
  /** Seconds a SIGTERM drain waits for in-flight requests before closing anyway. */
  shutdownGraceSeconds: number;
  /** Seconds between retention sweeps. */
  sweepIntervalSeconds: number;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, dflt: string): string {
  const v = env[name];
  return v === undefined || v === '' ? dflt : v;
}

function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a whole number; expected an integer from ${min} to ${max}`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name}=${raw} is out of range; expected an integer from ${min} to ${max}`);
  return n;
}

function oneOf<T extends string>(env: Env, name: string, dflt: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not accepted; expected one of ${allowed.join(', ')}`);
  return raw as T;
}

function bool(env: Env, name: string, dflt: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is not accepted; expected 1/true/yes or 0/false/no`);
}

/** A file that must exist when the variable is set. */
function url(env: Env, name: string): string | null {
  const raw = env[name];
  if (!raw) return null;
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    return raw.replace(/\/$/, '');
  } catch {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not accepted; expected an http(s) URL such as https://stats.example.com`);
  }
}

function smtp(env: Env): Config['smtp'] {
  const raw = env.REELSTAT_SMTP_URL;
  if (!raw) return null;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    u = new URL('invalid:');
  }
  if ((u.protocol !== 'smtp:' && u.protocol !== 'smtps:') || !u.hostname) {
    throw new ConfigError('REELSTAT_SMTP_URL is not accepted; expected smtp://host:587 or smtps://user:password@host:465');
  }
  const from = str(env, 'REELSTAT_SMTP_FROM', `reelstat@${u.hostname}`);
  if (!/^[^\s@<>]+@[^\s@<>]+$/.test(from)) throw new ConfigError(`REELSTAT_SMTP_FROM=${JSON.stringify(from)} is not an email address; expected e.g. exports@example.com`);
  return { url: raw, from };
}

function optFile(env: Env, name: string): string | null {
  const raw = env[name];
  if (!raw) return null;
  const path = resolve(raw);
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    /* reported below */
  }
  if (!isFile) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a readable file; unset it to use the bundled database`);
  return path;
}

/** A size in bytes (a number, or a number and a unit: 100MB, 2GiB), or null when unset. */
function byteSize(env: Env, name: string): number | null {
  const raw = (env[name] ?? '').trim();
  if (!raw) return null;
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$/i.exec(raw);
  const unit: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };
  const bytes = m ? Math.floor(Number(m[1]) * unit[(m[2] ?? 'b').toLowerCase()]!) : NaN;
  if (!(bytes >= 1024)) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a size of at least 1KiB; expected bytes or a number and a unit, like 100MB or 2GiB`);
  return bytes;
}

function memorySize(env: Env, name: string, dflt: string): string {
  const raw = str(env, name, dflt).trim();
  const m = /^(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.exec(raw);
  if (!m || !(Number(m[1]) > 0)) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a memory size; expected a number and a unit, like 512MB or 2GB (KB, MB, GB, TB, KiB, MiB, GiB, TiB)`);
  return `${m[1]}${m[2]!.toUpperCase().replace('IB', 'iB')}`;
}

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const dataDir = resolve(str(env, 'REELSTAT_DATA_DIR', './data'));
  const adminToken = env.REELSTAT_ADMIN_TOKEN || null;
  if (adminToken !== null && adminToken.length < 16) {
    throw new ConfigError('REELSTAT_ADMIN_TOKEN is too short; expected at least 16 characters');
  }
  const host = str(env, 'HOST', '127.0.0.1');
  const config: Config = {
    host,
    port: int(env, 'PORT', 8080, 0, 65535),
    dataDir,
    dbPath: resolve(dataDir, 'reelstat.duckdb'),
    adminToken,
    ipMode: oneOf(env, 'REELSTAT_IP_MODE', 'full', ['full', 'truncate', 'drop'] as const),
    trustProxy: bool(env, 'REELSTAT_TRUST_PROXY', false),
    logLevel: oneOf(env, 'REELSTAT_LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    geo: {
      cityV4Path: optFile(env, 'REELSTAT_GEOIP_CITY_V4'),
      cityV6Path: optFile(env, 'REELSTAT_GEOIP_CITY_V6'),
      asnV4CsvPath: optFile(env, 'REELSTAT_GEOIP_ASN_V4'),
      asnV6CsvPath: optFile(env, 'REELSTAT_GEOIP_ASN_V6'),
    },
    collector: {
      accountRate: int(env, 'REELSTAT_COLLECT_ACCOUNT_RATE', 50_000, 0, 100_000_000),
      ipRate: int(env, 'REELSTAT_COLLECT_IP_RATE', 1_000, 0, 100_000_000),
      maxQueuedEvents: int(env, 'REELSTAT_COLLECT_MAX_QUEUED', 200_000, 1_000, 100_000_000),
      maxCommitEvents: int(env, 'REELSTAT_COLLECT_MAX_COMMIT', 20_000, 1, 1_000_000),
    },
    auth: {
      maxFailures: int(env, 'REELSTAT_AUTH_MAX_FAILURES', 20, 1, 1_000_000),
      failureWindowSeconds: int(env, 'REELSTAT_AUTH_FAILURE_WINDOW', 60, 1, 86_400),
      sessionTtlSeconds: int(env, 'REELSTAT_SESSION_TTL', 7 * 86_400, 60, 365 * 86_400),
    },
    defaults: {
      retention: {
        rawDays: int(env, 'REELSTAT_RAW_RETENTION_DAYS', 90, 1, 36_500),
        aggregateDays: int(env, 'REELSTAT_AGGREGATE_RETENTION_DAYS', 730, 1, 36_500),
        exportFileDays: int(env, 'REELSTAT_EXPORT_FILE_RETENTION_DAYS', 7, 1, 36_500),
      },
    },
    shutdownGraceSeconds: int(env, 'REELSTAT_SHUTDOWN_GRACE', 10, 0, 3_600),
    sweepIntervalSeconds: int(env, 'REELSTAT_SWEEP_INTERVAL', 3_600, 1, 86_400),
    publicUrl: url(env, 'REELSTAT_PUBLIC_URL'),
    exports: {
      dir: resolve(dataDir, 'exports'),
      linkTtlSeconds: int(env, 'REELSTAT_LINK_TTL', 7 * 86_400, 60, 365 * 86_400),
      maxOnDemandDays: 30,
      partRows: int(env, 'REELSTAT_EXPORT_PART_ROWS', 1_000_000, 1, 1_000_000_000),
      workers: int(env, 'REELSTAT_EXPORT_WORKERS', 2, 1, 16),
      partBytes: byteSize(env, 'REELSTAT_EXPORT_PART_BYTES'),
    },
    duckdb: {
      memoryLimit: memorySize(env, 'REELSTAT_DUCKDB_MEMORY_LIMIT', '1GB'),
      threads: int(env, 'REELSTAT_DUCKDB_THREADS', 1, 1, 1024),
      exportConnections: int(env, 'REELSTAT_EXPORT_CONNECTIONS', 2, 1, 2),
    },
    smtp: smtp(env),
    allowPrivateWebhooks: bool(env, 'REELSTAT_ALLOW_PRIVATE_WEBHOOKS', false),
  };
  return Object.freeze(config);
}

/** What `npm run demo` takes from the environment: the running server to fill and its API token. */
export interface DemoEnv {
  /** REELSTAT_URL, else http://HOST:PORT of a local server (0.0.0.0 read as 127.0.0.1). */
  url: string;
  /** REELSTAT_API_TOKEN, else null: the demo reads DATA_DIR/credentials.json. */
  apiToken: string | null;
  dataDir: string;
}

export function loadDemoEnv(env: Env = process.env): DemoEnv {
  const host = str(env, 'HOST', '127.0.0.1');
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: url(env, 'REELSTAT_URL') ?? `http://${local.includes(':') ? `[${local}]` : local}:${int(env, 'PORT', 8080, 1, 65535)}`,
    apiToken: env.REELSTAT_API_TOKEN || null,
    dataDir: resolve(str(env, 'REELSTAT_DATA_DIR', './data')),
  };
}
