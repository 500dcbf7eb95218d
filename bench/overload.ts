/**
 * C4: overload. Far more batched events (new ids) than the server can store, from 256 connections
 * of 1000 events each, 
 * with the default per-account rate limit (shed with 429), and with every rate limit off (shed
 * with 503 once REELSTAT_COLLECT_MAX_QUEUED events wait). Reports the answers by status, whether
 * every 429/503 had Retry-After, and the server's peak RSS (VmHWM) — it must stay bounded.
 *
 *   node --import tsx bench/overload.ts
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/process.ts';
import { bundled, pinned, pinSelf, saveResult, waitFor } from './lib.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 256);
const SIZE = 1000;

let seq = 0;
function body(): string {
  const lines: string[] = [];
  for (let i = 0; i < SIZE; i++) {
    const n = seq++;
    lines.push(`{"id":"o${n}","event":"watchProgress","timestamp":${Date.now() - 5000},"contentId":"video-${n % 50}","sessionId":"s${n >> 6}","url":"https://example.com/p/${n % 20}","data":{"from":${i},"to":${i + 10}}}`);
  }
  return lines.join('\n');
}

function post(port: number, key: string, payload: string): Promise<{ status: number; retryAfter: boolean }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/v1/collect', method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'x-reelstat-key': key } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] !== undefined }));
    });
    req.on('error', () => resolve({ status: 0, retryAfter: false }));
    req.end(payload);
  });
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : -1;
}

async function scenario(name: string, env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'reelstat-overload-'));
  const port = await freePort();
  const srv = pinned(1, process.execPath, [await bundled('src/main.ts')], { PORT: String(port), REELSTAT_DATA_DIR: dataDir, REELSTAT_LOG_LEVEL: 'error', ...env });
  await waitFor(srv, 'serving on');
  const { writeKey } = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
  const rssAtStart = peakRssMb(srv.pid!);
  const counts: Record<string, number> = {};
  let shedWithoutRetryAfter = 0;
  const until = Date.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (Date.now() < until) {
      const r = await post(port, writeKey, body());
      counts[r.status] = (counts[r.status] ?? 0) + 1;
      if ((r.status === 429 || r.status === 503) && !r.retryAfter) shedWithoutRetryAfter++;
    }
  }));
  const health = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status).catch(() => 0);
  const out = { name, counts, shedWithoutRetryAfter, rssAtStartMb: rssAtStart, peakRssMb: peakRssMb(srv.pid!), healthzAfter: health, alive: srv.exitCode === null };
  srv.kill('SIGKILL');
  await new Promise((r) => srv.on('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
  console.log(JSON.stringify(out));
  return out;
}

export async function run() {
  pinSelf(0);
  const results = [
    await scenario('default rate limits (429)', {}),
    await scenario('no rate limits, queue bound (503)', { REELSTAT_COLLECT_ACCOUNT_RATE: '0', REELSTAT_COLLECT_IP_RATE: '0' }),
  ];
  console.log('saved', saveResult('overload', { seconds: SECONDS, connections: CONNECTIONS, eventsPerRequest: SIZE, results }));
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
