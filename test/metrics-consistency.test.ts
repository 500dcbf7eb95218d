/**
 * The stored view records and their SQL aggregates must equal what the definition gives when
 * computed straight from the raw events — and keep answering the same once the raw events expire.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildViewRecord, markUnique, wholeDuration, type RecordEvent } from '../src/metrics/viewRecord.ts';
import { deriveMetrics, type Metric } from '../src/metrics/registry.ts';
import { collect, readAllEvents, startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
const DAY = 86_400_000;
const base = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
const days = [0, 1, 2].map((d) => new Date(base + d * DAY).toISOString().slice(0, 10));
const IPS = ['8.8.8.8', '81.2.69.142', '2a00:1450:4001::1', '10.0.0.1'];
const DURATIONS: Record<string, number | null> = { a: 30, b: 61.5, c: null, d: 12 };
const METRICS: Metric[] = ['player_loads', 'views', 'unique_views', 'view_rate', 'total_watch_time', 'avg_watch_time', 'watch_depth', 'completion_rate', 'rebuffer_count', 'rebuffer_time', 'error_count', 'peak_concurrent_viewers'];

let seed = 1234;
const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];

function makeSessions(n: number) {
  const events: any[] = [];
  for (let i = 0; i < n; i++) {
    const sid = `cs${i}`;
    const content = pick(['a', 'b', 'c', 'd']);
    const user = rnd() < 0.5 ? `user${Math.floor(rnd() * 15)}` : undefined;
    let t = base + Math.floor(rnd() * 3 * DAY);
    const common = { contentId: content, sessionId: sid, userId: user, ip: pick(IPS), url: `https://${pick(['a.test', 'b.test'])}/p${Math.floor(rnd() * 3)}`, userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36', duration: content === 'c' ? 45 : undefined };
    const ev = (event: string, data?: unknown) => events.push({ id: `${sid}-${events.length}`, event, timestamp: t, ...common, ...(data ? { data } : {}) });
    for (let k = Math.floor(rnd() * 3); k > 0; k--) ev('impression');
    if (rnd() < 0.8) {
      ev('playStart');
      let pos = 0;
      for (let k = Math.floor(rnd() * 8); k > 0; k--) {
        const len = Math.round(rnd() * 60) / 10;
        const gap = rnd() < 0.2 ? 5 + rnd() * 20 : rnd() < 0.2 ? 3 : 0;
        pos = rnd() < 0.1 ? 0 : pos;
        t += Math.round((gap + len) * 1000);
        ev('watchProgress', { from: pos, to: pos + len });
        pos += len;
        if (rnd() < 0.1) ev('rebuffer', { duration: 0.5 });
      }
      if (rnd() < 0.3) ev('completion');
      if (rnd() < 0.05) ev('error', { code: 'E1', fatal: false });
    }
  }
  return events;
}

before(async () => {
  s = await startTestServer();
  const h = { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' };
  for (const [v, d] of Object.entries(DURATIONS)) {
    await fetch(`${s.url}/api/v1/videos/${v}`, { method: 'PUT', headers: h, body: JSON.stringify(d === null ? { title: v } : { duration: d }) });
  }
  const events = makeSessions(250);
  for (let i = 0; i < events.length; i += 500) {
    const r = await collect(s.url, events.slice(i, i + 500), { authorization: `Bearer ${s.token}` });
    assert.equal(r.json.accepted, Math.min(500, events.length - i), JSON.stringify(r.json.rejected.slice(0, 3)));
  }
});
after(() => s.stop());

type Key = (r: ReturnType<typeof buildViewRecord>, at: number) => string;

/** The definition, computed from raw events with plain loops. */
async function reference(key: Key, from: number, to: number) {
  const raw: RecordEvent[] = (await readAllEvents(s.url, s.token)).filter((e) => !e.isBot).map((e) => ({ ...e, timestamp: Date.parse(e.timestamp), receivedAt: Date.parse(e.receivedAt) }));
  const byRecord = new Map<string, RecordEvent[]>();
  for (const e of raw) byRecord.set(`${e.sessionId}\u0000${e.contentId}`, [...(byRecord.get(`${e.sessionId}\u0000${e.contentId}`) ?? []), e]);
  const records = markUnique([...byRecord.values()].map((evs) => buildViewRecord('acc', evs, DURATIONS[evs[0].contentId] ?? null)));
  const groups = new Map<string, { loads: number; views: number; played: number; watch: number; depthW: number; depthD: number; completed: number; rc: number; rt: number; ec: number; minutes: Map<number, Set<string>> }>();
  const g = (k: string) => {
    if (!groups.has(k)) groups.set(k, { loads: 0, views: 0, played: 0, watch: 0, depthW: 0, depthD: 0, completed: 0, rc: 0, rt: 0, ec: 0, minutes: new Map() });
    return groups.get(k)!;
  };
  for (const r of records) {
    for (const t of r.loadTimes) if (t >= from && t < to) g(key(r, t)).loads++;
    for (const m of r.progressMinutes) {
      if (m * 60_000 < from || m * 60_000 >= to) continue;
      const x = g(key(r, m * 60_000));
      x.minutes.set(m, (x.minutes.get(m) ?? new Set()).add(r.sessionId));
    }
    if (r.startedAt < from || r.startedAt >= to) continue;
    const x = g(key(r, r.startedAt));
    const dur = wholeDuration(DURATIONS[r.contentId] ?? null) ?? r.duration;
    if (r.counted) {
      x.views++;
      if (dur !== null) x.depthD += dur;
    }
    if (r.played) {
      x.played++;
      x.watch += r.uniqueSeconds;
      if (dur !== null) x.depthW += r.uniqueSeconds;
      if (r.completed) x.completed++;
    }
    x.rc += r.rebufferCount;
    x.rt += r.rebufferTime;
    x.ec += r.errorCount;
  }
  return new Map([...groups].map(([k, x]) => [k, deriveMetrics({
    loads: x.loads,
    peak: Math.max(0, ...[...x.minutes.values()].map((v) => v.size)),
    base: { key: {}, records: 0, played: x.played, views: x.views, watchTime: x.watch, depthWatchTime: x.depthW, depthDenominator: x.depthD, completed: x.completed, rebufferCount: x.rc, rebufferTime: x.rt, errorCount: x.ec },
  })]));
}

async function api(dimension: string | null) {
  const q = `from=${days[0]}&to=${days[2]}&metrics=${METRICS.join(',')}${dimension ? `&dimensions=${dimension}` : ''}&limit=1000`;
  const r = await fetch(`${s.url}/api/v1/stats?${q}`, { headers: { authorization: `Bearer ${s.token}` } });
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  return new Map<string, Record<string, number | null>>(body.data.map((row: any) => [dimension ? String(row[dimension]) : 'all', row]));
}

const close = (a: number | null | undefined, b: number | null | undefined) => (a === null || b === null ? a === b : Math.abs(a! - b!) < 1e-9);

async function compare(dimension: string | null, key: Key) {
  const want = await reference(key, base, base + 3 * DAY);
  const got = await api(dimension);
  for (const [k, metrics] of want) {
    if (dimension === 'date' && !days.includes(k)) continue;
    const row = got.get(k);
    assert.ok(row, `${dimension}: group ${k} missing`);
    for (const m of METRICS) assert.ok(close(row[m] as number, metrics[m]), `${dimension ?? 'total'} ${k} ${m}: api ${row[m]} vs definition ${metrics[m]}`);
  }
  return got;
}

const cases: Array<[string | null, Key]> = [
  [null, () => 'all'],
  ['video_id', (r) => r.contentId],
  ['date', (_r, at) => new Date(at).toISOString().slice(0, 10)],
  ['country', (r) => String(r.country)],
  ['domain', (r) => String(r.domain)],
];

it('stored aggregates equal the definition computed from raw events', { timeout: 60_000 }, async () => {
  for (const [d, k] of cases) await compare(d, k);
});

it('aggregates keep answering, unchanged, after the raw events expire', { timeout: 60_000 }, async () => {
  const before = await Promise.all(cases.map(([d]) => api(d)));
  const account = (await (await fetch(`${s.url}/api/v1/account`, { headers: { authorization: `Bearer ${s.token}` } })).json()).id;
  const deleted = await s.server.store.events.deleteBefore(account, Date.now() + DAY);
  assert.ok(deleted > 500);
  assert.deepEqual(await readAllEvents(s.url, s.token), []);
  const afterExpiry = await Promise.all(cases.map(([d]) => api(d)));
  assert.deepEqual(afterExpiry.map((m) => [...m]), before.map((m) => [...m]));
});

it('the daily rollup answers exactly what the view records answer', { timeout: 60_000 }, async () => {
  const { rollupCan, rollupSwitch } = await import('../src/storage/duckdb/views.ts');
  const h = { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' };
  await fetch(`${s.url}/api/v1/projects/p1`, { method: 'PUT', headers: h, body: JSON.stringify({ name: 'P1' }) });
  for (const [v, folder] of [['a', 'top/inner'], ['b', 'top']]) {
    const put = await fetch(`${s.url}/api/v1/videos/${v}`, { method: 'PUT', headers: h, body: JSON.stringify({ projectId: 'p1', folder }) });
    assert.equal(put.status, 200, await put.text());
  }
  // A late event into an existing session: its records are rebuilt and the rollup takes the difference.
  const late = await collect(s.url, [{ id: 'late-1', event: 'watchProgress', timestamp: base + DAY + 5000, contentId: 'a', sessionId: 'cs3', data: { from: 100, to: 140 } }], { authorization: `Bearer ${s.token}` });
  assert.equal(late.json.accepted, 1);
  const account = (await (await fetch(`${s.url}/api/v1/account`, { headers: { authorization: `Bearer ${s.token}` } })).json()).id;
  await s.server.stats.query({ accountId: account, fromMs: base, toMs: base + DAY, tz: 'UTC', groupBy: [], filters: {}, metrics: ['views'] }); // settles
  const store = s.server.store;
  const groupings = [[], ['video_id'], ['project_id'], ['date'], ['country'], ['video_id', 'date'], ['country', 'project_id']] as const;
  const filterSets = [{}, { country: 'US' }, { contentIds: ['a', 'c'] }, { projectId: 'p1' }, { folder: 'top' }, { folder: 'top/inner', country: 'GB' }];
  const periods = [[base, base + 3 * DAY], [base + DAY, base + 2 * DAY], [base - 10 * DAY, base + 10 * DAY]];
  const sorted = <T extends { key: object }>(xs: T[]) => [...xs].sort((a, b) => JSON.stringify(a.key).localeCompare(JSON.stringify(b.key)));
  let compared = 0;
  try {
    for (const g of groupings) for (const filters of filterSets) for (const [fromMs, toMs] of periods) {
      const set = { accountId: account, fromMs, toMs, tz: 'UTC', filters };
      rollupSwitch.enabled = true;
      assert.ok(rollupCan(set, [...g]), 'the rollup serves this query');
      const [agg, loads] = [await store.views.aggregate(set, [...g]), await store.views.loads(set, [...g])];
      rollupSwitch.enabled = false;
      const [rawAgg, rawLoads] = [await store.views.aggregate(set, [...g]), await store.views.loads(set, [...g])];
      assert.deepEqual(sorted(agg), sorted(rawAgg), `aggregate ${g} ${JSON.stringify(filters)}`);
      assert.deepEqual(sorted(loads), sorted(rawLoads), `loads ${g} ${JSON.stringify(filters)}`);
      compared += agg.length + loads.length;
    }
  } finally {
    rollupSwitch.enabled = true;
  }
  assert.ok(compared > 100, `compared ${compared} groups`);
  // What it does not keep goes to the records.
  assert.equal(rollupCan({ accountId: account, fromMs: base, toMs: base + DAY, tz: 'UTC', filters: { browser: 'Chrome' } }, []), false);
  assert.equal(rollupCan({ accountId: account, fromMs: base + 3_600_000, toMs: base + DAY, tz: 'UTC', filters: {} }, []), false);
  assert.equal(rollupCan({ accountId: account, fromMs: base, toMs: base + DAY, tz: 'Europe/Berlin', filters: {} }, ['date']), false);
  assert.equal(rollupCan({ accountId: account, fromMs: base, toMs: base + DAY, tz: 'UTC', filters: {} }, ['domain']), false);
});
