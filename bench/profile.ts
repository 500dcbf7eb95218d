/**
 * Where the server's main thread spends batched ingest: runs src/main.ts with --cpu-prof under the
 * ingest bench's NDJSON load (BENCH_BATCH events a request, BENCH_SECONDS seconds, 8 connections —
 * 50 for BENCH_BATCH=1, the beacon case),
 * then prints the self time of the top functions and of coarse buckets (GC, idle = waiting on
 * DuckDB's threads or the network, appender, parse, validate, enrich, HTTP/Fastify…).
 *
 *   node --import tsx bench/profile.ts            # or: BENCH_BATCH=100 node --import tsx bench/profile.ts
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/process.ts';
import { load, pinned, pinSelf, saveResult, waitFor } from './lib.ts';

const SIZE = Number(process.env.BENCH_BATCH ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? (SIZE === 1 ? 50 : 8));

let seq = 0;
function event(i: number): string {
  const n = seq++;
  return `{"id":"b${n}","event":"${i % 3 ? 'watchProgress' : 'impression'}","timestamp":${Date.now() - 5000},"contentId":"video-${n % 50}","sessionId":"s${n >> 6}","userId":"u${n >> 8}","url":"https://example.com/page/${n % 20}","data":{"from":${i},"to":${i + 10}}}`;
}

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }

/** Self time by function and by bucket, as fractions of the profile. */
export function summarize(file: string, top = 30): { total: number; functions: Array<[string, number]>; buckets: Record<string, number> } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const d = p.timeDeltas[i] ?? 0;
    total += d;
    self.set(id, (self.get(id) ?? 0) + d);
  });
  const fns = new Map<string, number>();
  const buckets: Record<string, number> = {};
  for (const [id, t] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url.replace(/^.*\/node_modules\//, '').replace(/^.*\/(src|bench|test)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber}`;
    fns.set(key, (fns.get(key) ?? 0) + t);
    const b = bucket(functionName, where);
    buckets[b] = (buckets[b] ?? 0) + t / total;
  }
  const functions = [...fns].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, t]) => [k, t / total] as [string, number]);
  return { total: total / 1000, functions, buckets };
}

function bucket(fn: string, where: string): string {
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(idle)') return 'idle (waiting: DuckDB threads, network)';
  if (fn === '(program)') return 'program (native, unattributed)';
  if (where.startsWith('@duckdb/') || where.includes('storage/duckdb/events.ts')) return 'store: appender and DuckDB calls';
  if (where.startsWith('src/storage/') || where.startsWith('src/metrics/')) return 'store/metrics: other (view records, queries)';
  if (where.startsWith('src/collector/parse') || fn === 'parse' || fn === 'parseLines') return 'parse (JSON/NDJSON)';
  if (where.startsWith('src/events/validate')) return 'validate';
  if (where.startsWith('src/enrich/') || where.startsWith('ua-parser-js/') || where.startsWith('isbot/') || where.startsWith('maxmind/')) return 'enrich';
  if (where.startsWith('src/collector/')) return 'collector: ingest, writer, dedupe';
  if (where.startsWith('fastify') || where.startsWith('@fastify/') || where.startsWith('find-my-way') || where.startsWith('avvio') || where.startsWith('light-my-request')) return 'fastify';
  if (where.startsWith('node:') || where === '' || where.startsWith('pino')) return 'node core (http, streams, timers), pino';
  return 'other';
}

export async function run() {
  pinSelf(0);
  const profDir = mkdtempSync(join(tmpdir(), 'reelstat-prof-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'reelstat-prof-data-'));
  const port = await freePort();
  const srv = pinned(1, process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--import', 'tsx', 'src/main.ts'], {
    PORT: String(port), REELSTAT_DATA_DIR: dataDir, REELSTAT_LOG_LEVEL: 'warn',
    REELSTAT_COLLECT_ACCOUNT_RATE: '0', REELSTAT_COLLECT_IP_RATE: '0', REELSTAT_COLLECT_MAX_QUEUED: '2000000',
  });
  await waitFor(srv, 'serving on');
  const { writeKey } = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
  const r = await load({
    url: `http://127.0.0.1:${port}/api/v1/collect?writeKey=${writeKey}`, method: 'POST', connections: CONNECTIONS, duration: SECONDS,
    headers: { 'content-type': 'application/x-ndjson' },
    requests: [{ setupRequest: (req: any) => ({ ...req, body: Array.from({ length: SIZE }, (_, i) => event(i)).join('\n') }) }],
  });
  srv.kill('SIGTERM');
  await new Promise((res) => srv.on('exit', res));
  // The main thread's profile is the biggest (the loader thread writes one too).
  const file = readdirSync(profDir).map((f) => join(profDir, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0];
  const s = summarize(file);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(profDir, { recursive: true, force: true });
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(`batch ${SIZE}, ${CONNECTIONS} connections: ${Math.round(r.reqPerSec * SIZE)} events/s, p99 ${r.p99} ms, non-2xx ${r.non2xx}; profile ${s.total.toFixed(0)} ms`);
  console.table(Object.fromEntries(Object.entries(s.buckets).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, pct(v)])));
  console.table(s.functions.map(([k, v]) => ({ function: k, self: pct(v) })));
  const out = { batch: SIZE, connections: CONNECTIONS, eventsPerSec: Math.round(r.reqPerSec * SIZE), p99Ms: r.p99, buckets: s.buckets, top: s.functions.slice(0, 15) };
  console.log('saved', saveResult('profile', out));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
