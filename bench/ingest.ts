/**
 * C1–C3: single-event beacons against a bare Fastify hello-world, batched NDJSON ingest end to end,
 * and the bare store's own insert rate — all in the same run, server and load on separate cores.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint } from '../src/collector/dedupe.ts';
import type { StoredEvent } from '../src/events/types.ts';
import { openDuckDbStore } from '../src/storage/duckdb/index.ts';
import { freePort } from '../test/helpers/process.ts';
import { bundled, load, median, pinned, pinSelf, saveResult, waitFor } from './lib.ts';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);

async function repeat(fn: () => Promise<{ reqPerSec: number; p99: number; non2xx: number }>) {
  await fn(); // warm-up
  const runs = [];
  for (let i = 0; i < REPS; i++) runs.push(await fn());
  return { reqPerSec: median(runs.map((r) => r.reqPerSec)), p99: median(runs.map((r) => r.p99)), non2xx: runs.reduce((a, r) => a + r.non2xx, 0), runs };
}

let seq = 0;
function event(i: number): string {
  const n = seq++;
  return `{"id":"b${n}","event":"${i % 3 ? 'watchProgress' : 'impression'}","timestamp":${Date.now() - 5000},"contentId":"video-${n % 50}","sessionId":"s${n >> 6}","userId":"u${n >> 8}","url":"https://example.com/page/${n % 20}","data":{"from":${i},"to":${i + 10}}}`;
}

export async function run() {
  pinSelf(0);
  const out: Record<string, unknown> = {};

  // Ceiling: bare Fastify hello-world.
  const helloPort = await freePort();
  const hello = pinned(1, process.execPath, [await bundled('bench/hello.ts')], { PORT: String(helloPort) });
  await waitFor(hello, 'serving on');
  const beaconBody = event(0).replace(/"id":"b\d+",/, '');
  const helloRes = await repeat(() => load({ url: `http://127.0.0.1:${helloPort}/`, method: 'POST', body: beaconBody, connections: 50, duration: SECONDS, headers: { 'content-type': 'text/plain' } }));
  hello.kill('SIGKILL');

  // Reelstat.
  const dataDir = mkdtempSync(join(tmpdir(), 'reelstat-bench-'));
  const port = await freePort();
  const srv = pinned(1, process.execPath, [await bundled('src/main.ts')], {
    PORT: String(port), REELSTAT_DATA_DIR: dataDir, REELSTAT_LOG_LEVEL: 'warn',
    REELSTAT_COLLECT_ACCOUNT_RATE: '0', REELSTAT_COLLECT_IP_RATE: '0', REELSTAT_COLLECT_MAX_QUEUED: '2000000',
  });
  await waitFor(srv, 'serving on');
  const { writeKey } = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
  const url = `http://127.0.0.1:${port}/api/v1/collect?writeKey=${writeKey}`;
  const beacon = await repeat(() => load({ url, method: 'POST', body: beaconBody, connections: 50, duration: SECONDS, headers: { 'content-type': 'text/plain' } }));

  const batched: Record<string, unknown> = {};
  for (const size of [100, 1000]) {
    const r = await repeat(() =>
      load({
        url, method: 'POST', connections: 8, duration: SECONDS, headers: { 'content-type': 'application/x-ndjson' },
        requests: [{ setupRequest: (req: any) => ({ ...req, body: Array.from({ length: size }, (_, i) => event(i)).join('\n') }) }],
      }),
    );
    batched[`batch${size}`] = { eventsPerSec: Math.round(r.reqPerSec * size), p99Ms: r.p99, non2xx: r.non2xx };
  }

  // C3: from sending an event to seeing it in the incremental read.
  const visible: number[] = [];
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
  const auth = { authorization: `Bearer ${creds.apiToken}` };
  let cursor = '';
  for (;;) {
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/events/stream?limit=10000&cursor=${cursor}`, { headers: auth });
    const lines = (await r.text()).split('\n').filter(Boolean);
    cursor = r.headers.get('x-next-cursor')!;
    if (!lines.length) break;
  }
  for (let i = 0; i < 40; i++) {
    const id = `vis-${i}`;
    const t0 = performance.now();
    await (await fetch(url, { method: 'POST', body: JSON.stringify({ id, event: 'impression', timestamp: Date.now(), contentId: 'v', sessionId: 's' }) })).text();
    for (let seen = false; !seen; ) {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/events/stream?limit=100&cursor=${cursor}`, { headers: auth });
      seen = (await r.text()).includes(`"id":"${id}"`);
      cursor = r.headers.get('x-next-cursor')!;
    }
    visible.push(performance.now() - t0);
  }
  srv.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });

  // The bare store's own insert rate, same rows, batches of 5000.
  const storeDir = mkdtempSync(join(tmpdir(), 'reelstat-bench-store-'));
  const store = await openDuckDbStore(join(storeDir, 'bare.duckdb'));
  await store.migrate();
  const rows = (n: number, base: number): StoredEvent[] =>
    Array.from({ length: n }, (_, i) => {
      const e = JSON.parse(event(i));
      return {
        ...e, accountId: 'acc', clientId: true, fp: fingerprint('acc', e.id), seq: base + i, receivedAt: Date.now(), userId: e.userId, email: null,
        viewerAccountId: null, viewerName: null, deviceType: 'web', currentTime: null, referrer: null, domain: 'example.com', title: null, duration: null,
        ip: '127.0.0.1', userAgent: 'bench', country: null, region: null, city: null, lat: null, lon: null, org: null, browser: 'Chrome', os: 'Linux', platform: 'desktop', isBot: false,
      } as StoredEvent;
    });
  const storeRates: number[] = [];
  for (let rep = 0; rep < REPS + 1; rep++) {
    const batches = Array.from({ length: 40 }, (_, b) => rows(5000, rep * 1e6 + b * 5000));
    const t0 = performance.now();
    for (const b of batches) await store.events.insert(b, []);
    if (rep > 0) storeRates.push((40 * 5000) / ((performance.now() - t0) / 1000));
  }
  await store.close();
  rmSync(storeDir, { recursive: true, force: true });

  const storeRate = median(storeRates);
  const best = Math.max(...Object.values(batched).map((b: any) => b.eventsPerSec));
  Object.assign(out, {
    helloReqPerSec: Math.round(helloRes.reqPerSec),
    beaconReqPerSec: Math.round(beacon.reqPerSec),
    beaconRatio: +(beacon.reqPerSec / helloRes.reqPerSec).toFixed(3),
    beaconP99Ms: beacon.p99,
    beaconNon2xx: beacon.non2xx,
    batched,
    bareStoreEventsPerSec: Math.round(storeRate),
    batchedToStoreRatio: +(best / storeRate).toFixed(3),
    visibleAfter202P95Ms: +[...visible].sort((a, b) => a - b)[Math.floor(visible.length * 0.95)].toFixed(1),
  });
  console.table(out);
  console.log(JSON.stringify(out, null, 2));
  console.log('saved', saveResult('ingest', out));
  return out;
}

