/**
 * The collector's JavaScript steps one by one, in this process, on the bodies the ingest bench
 * sends (NDJSON, 1000 events): parse, validate, enrich, fingerprint, the whole ingest() with the
 * writer's commit replaced by an immediate answer, and the store insert of the same events —
 * microseconds an event, medians of BENCH_REPS repetitions after a warm-up. It says where a
 * batched request's CPU goes; the HTTP and Fastify share is what `ingest` end to end adds on top.
 *
 *   node --import tsx bench/pipeline.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint } from '../src/collector/dedupe.ts';
import { createIngest } from '../src/collector/ingest.ts';
import { parseCollectBody } from '../src/collector/parse.ts';
import type { EventWriter } from '../src/collector/writer.ts';
import { defaultGeoPaths, openGeo } from '../src/enrich/geo.ts';
import { createEnricher } from '../src/enrich/index.ts';
import type { StoredEvent } from '../src/events/types.ts';
import { validateEvent } from '../src/events/validate.ts';
import { openDuckDbStore } from '../src/storage/duckdb/index.ts';
import { median, saveResult } from './lib.ts';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const BODIES = 40;
const SIZE = 1000;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

let seq = 0;
function event(i: number): string {
  const n = seq++;
  return `{"id":"p${n}","event":"${i % 3 ? 'watchProgress' : 'impression'}","timestamp":${Date.now() - 5000},"contentId":"video-${n % 50}","sessionId":"s${n >> 6}","userId":"u${n >> 8}","url":"https://example.com/page/${n % 20}","data":{"from":${i},"to":${i + 10}}}`;
}
const body = () => Array.from({ length: SIZE }, (_, i) => event(i)).join('\n');

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

export async function run() {
  const geo = await openGeo(defaultGeoPaths());
  const enricher = createEnricher({ geo, ipMode: 'full' });
  const captured: StoredEvent[][] = [];
  const writer = { submit: async (events: StoredEvent[]) => (captured.push(events), { accepted: events.length, duplicates: 0 }) } as unknown as EventWriter;
  const ingest = createIngest({ writer, enricher, now: Date.now });
  const principal = { accountId: 'acc_bench', via: 'write_key' as const, credentialId: 'c' };
  const dir = mkdtempSync(join(tmpdir(), 'reelstat-bench-pipeline-'));
  const store = await openDuckDbStore(join(dir, 'p.duckdb'));
  await store.migrate();
  let storeSeq = 0;

  const reps: Array<Record<string, number>> = [];
  for (let rep = 0; rep <= REPS; rep++) {
    const bodies = Array.from({ length: BODIES }, body);
    const n = BODIES * SIZE;
    const r: Record<string, number> = {};
    let parsed: unknown[][] = [];
    r.parse = time(() => (parsed = bodies.map((b) => parseCollectBody(b, 'application/x-ndjson').items)));
    const now = Date.now();
    let valid: Array<{ id: string | null; url: string | null }> = [];
    r.validate = time(() => {
      valid = parsed.flat().map((item) => {
        const v = validateEvent(item, { now, retentionDays: 90, trusted: false });
        if (!v.ok) throw new Error(v.error);
        return v.event;
      });
    });
    // One address and user agent for everything, as under the load generator: the caches hit.
    r.enrichCached = time(() => valid.forEach((e) => enricher.enrich({ ip: '203.0.113.7', userAgent: UA, url: e.url })));
    const cold = createEnricher({ geo, ipMode: 'truncate', cacheSize: 1 });
    r.enrichUncached = time(() => valid.slice(0, 2000).forEach((e, i) => cold.enrich({ ip: `81.2.${i >> 8}.${i & 255}`, userAgent: `${UA} ${i}`, url: `${e.url}?${i}` }))) * (n / 2000);
    r.fingerprint = time(() => valid.forEach((e) => fingerprint('acc_bench', e.id!)));
    captured.length = 0;
    let t0 = performance.now();
    for (const b of bodies) await ingest({ principal, items: parseCollectBody(b, 'application/x-ndjson').items, ip: '203.0.113.7', userAgent: UA, retentionDays: 90 });
    r.parseAndIngest = performance.now() - t0;
    const events = captured.flat();
    events.forEach((e) => (e.seq = ++storeSeq));
    t0 = performance.now();
    for (let i = 0; i < events.length; i += 5000) await store.events.insert(events.slice(i, i + 5000), []);
    r.storeInsert = performance.now() - t0;
    if (rep > 0) reps.push(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, (v * 1000) / n])));
  }
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const out: Record<string, number> = {};
  for (const k of Object.keys(reps[0])) out[`${k}UsPerEvent`] = +median(reps.map((r) => r[k])).toFixed(2);
  out.jsEventsPerSecCeiling = Math.round(1e6 / out.parseAndIngestUsPerEvent);
  out.storeEventsPerSec = Math.round(1e6 / out.storeInsertUsPerEvent);
  console.table(out);
  console.log('saved', saveResult('pipeline', { bodySize: SIZE, bodiesPerRep: BODIES, reps: REPS, ...out }));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
