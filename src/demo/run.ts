/**
 * `npm run demo`: fills a running server with a generated month of traffic through its public API —
 * the catalog by PUT /api/v1/projects and /api/v1/videos, the events by POST /api/v1/collect with the
 * API token (the one credential that may say where and on what each viewer watched: `ip`,
 * `userAgent`) — then reads the totals back from the stats API.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DemoEnv } from '../config.ts';
import { defaultGeoPaths, openGeo } from '../enrich/geo.ts';
import { addressesByCountry, makeViewers } from './audience.ts';
import { PROJECTS, VIDEOS } from './catalog.ts';
import { DemoClient, DemoError } from './client.ts';
import { Random } from './random.ts';
import { generateTraffic } from './traffic.ts';

export interface DemoOptions {
  url: string | null;
  token: string | null;
  sessions: number;
  /** Days back from now (default 30, less when the account keeps raw events for less). */
  days: number | null;
  seed: number | null;
}

export const USAGE = `npm run demo -- [--url URL] [--token rs_…] [--sessions N] [--days D] [--seed S]

Fills a running Reelstat server with a generated month of video traffic: 3 projects, ${VIDEOS.length} videos,
viewers in 20 countries on desktop, mobile, tablet and TV, sent through the public collector.

  --url URL        the server (default REELSTAT_URL, else http://HOST:PORT of this machine, 127.0.0.1:8080)
  --token TOKEN    an API token of the account to fill (default REELSTAT_API_TOKEN, else the apiToken in
                   REELSTAT_DATA_DIR/credentials.json, written by the server's first start)
  --sessions N     viewing sessions to generate (default 4000; 1 to 200000)
  --days D         spread them over the last D days (default 30, 1 to 30; capped by the account's retention)
  --seed S         repeat the same traffic (default: random); each run adds new events all the same
`;

export function parseDemoArgs(argv: string[]): DemoOptions | 'help' {
  const o: DemoOptions = { url: null, token: null, sessions: 4000, days: null, seed: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new DemoError(`${flag} needs a value; see --help`);
      return v;
    };
    const int = (min: number, max: number) => {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new DemoError(`${flag} ${v}: expected a whole number from ${min} to ${max}`);
      return Number(v);
    };
    switch (flag) {
      case '--url': o.url = value().replace(/\/+$/, ''); break;
      case '--token': o.token = value(); break;
      case '--sessions': o.sessions = int(1, 200_000); break;
      case '--days': o.days = int(1, 30); break;
      case '--seed': o.seed = int(0, 2 ** 32 - 1); break;
      default: throw new DemoError(`unknown option ${JSON.stringify(a)}; see --help`);
    }
  }
  return o;
}

/** The token from the options, the environment, or the credentials file of a local first start. */
function findToken(o: DemoOptions, env: DemoEnv): string {
  if (o.token) return o.token;
  if (env.apiToken) return env.apiToken;
  const file = join(env.dataDir, 'credentials.json');
  if (existsSync(file)) {
    const creds = JSON.parse(readFileSync(file, 'utf8')) as { apiToken?: string };
    if (creds.apiToken) return creds.apiToken;
  }
  throw new DemoError(`no API token: pass --token rs_… (or REELSTAT_API_TOKEN); ${file} (written at the server's first start) was not found`);
}

export interface DemoResult {
  url: string;
  videos: number;
  projects: number;
  viewers: number;
  sessions: number;
  loads: number;
  events: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  days: number;
  stats: Record<string, number | null>;
}

export async function runDemo(o: DemoOptions, env: DemoEnv, out: (line: string) => void): Promise<DemoResult> {
  const started = Date.now();
  const url = o.url ?? env.url;
  const client = new DemoClient(url, findToken(o, env));
  const account = await client.json('GET', '/api/v1/account');
  const days = Math.max(1, Math.min(o.days ?? 30, account.rawRetentionDays - 1));
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 32);
  const random = new Random(seed);
  const runId = (Date.now() % 2 ** 32).toString(36);
  out(`Filling ${url} (account "${account.name}") with ${days} days of traffic, seed ${seed}…`);

  for (const p of PROJECTS) await client.json('PUT', `/api/v1/projects/${p.id}`, { name: p.name });
  for (const v of VIDEOS) {
    await client.json('PUT', `/api/v1/videos/${encodeURIComponent(v.contentId)}`, { title: v.title, duration: v.duration, kind: 'video', projectId: v.projectId, folder: v.folder });
  }
  out(`  catalog: ${PROJECTS.length} projects (${PROJECTS.map((p) => p.name).join(', ')}), ${VIDEOS.length} videos in ${new Set(VIDEOS.map((v) => `${v.projectId}/${v.folder}`)).size} folders`);

  const geo = await openGeo(defaultGeoPaths());
  const addresses = addressesByCountry(geo, random);
  const viewers = makeViewers(Math.max(1, Math.round(o.sessions * 0.45)), random, addresses, runId);
  const now = Date.now();
  const traffic = generateTraffic({ random, viewers, sessions: o.sessions, from: now - days * 86_400_000, to: now, runId });
  const countries = new Set(viewers.map((v) => v.country)).size;
  out(`  generated: ${traffic.sessions} sessions of ${viewers.length} viewers in ${countries} countries, ${traffic.loads} player loads, ${traffic.events.length} events`);

  let shown = 0;
  const totals = await client.collect(traffic.events, {
    batch: 1000,
    concurrency: 3,
    progress: (n) => {
      if (n - shown >= 25_000 || n === traffic.events.length) {
        shown = n;
        out(`  sent ${n} / ${traffic.events.length}`);
      }
    },
  });
  out(`  collector: ${totals.accepted} accepted, ${totals.duplicates} duplicates, ${totals.rejected} rejected in ${totals.requests} requests (${totals.retries} retried)`);
  for (const r of totals.reasons) out(`    rejected: ${r}`);

  const from = new Date(now - days * 86_400_000).toISOString().slice(0, 10);
  const metrics = 'views,player_loads,unique_views,view_rate,total_watch_time,completion_rate';
  const stats = ((await client.json('GET', `/api/v1/stats?from=${from}&metrics=${metrics}`)).data[0] ?? {}) as Record<string, number | null>;
  out(`  stats since ${from}: ${stats.views} views, ${stats.player_loads} player loads, ${stats.unique_views} unique views, ` +
    `${Math.round((stats.total_watch_time ?? 0) / 3600)} h watched, completion rate ${Math.round((stats.completion_rate ?? 0) * 100)} %`);
  out(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s. Open ${url}/ to look around.`);
  return {
    url, videos: VIDEOS.length, projects: PROJECTS.length, viewers: viewers.length, sessions: traffic.sessions, loads: traffic.loads,
    events: traffic.events.length, accepted: totals.accepted, duplicates: totals.duplicates, rejected: totals.rejected, days, stats,
  };
}
