/**
 * Erasure of one viewer (R23) against the real server: a viewer with a unique marker in many events
 * (userId, email, name, URLs, event data), in view records and rollups, in stored export files
 * (native events and views exports, a Contentsquare run, the viewer's own export) and in export job
 * specs. After DELETE /api/v1/users/{userId}: zero hits in every API, every dialect (Kinescope,
 * Cincopa, Wistia, Contentsquare), new exports, every stored file and the database files themselves
 * (read as bytes while running and after the shutdown checkpoint); aggregates lose exactly the
 * viewer's contribution and the rollup still equals the records; the other viewer of a shared
 * session keeps their view; suppression refuses the viewer's new events; the audit log says who did it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rollupSwitch } from '../src/storage/duckdb/views.ts';
import { apiClient, exportDone, type Api } from './helpers/api.ts';
import { collect, readAllEvents, startTestServer, type TestServer } from './helpers/server.ts';

const MARK = `Mk${randomBytes(8).toString('hex')}`;
const VIEWER = `viewer-${MARK}`;
const HOUR = 3_600_000;
const T = Date.now() - 2 * HOUR;
const today = new Date().toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

let s: TestServer;
let api: Api;
const hits = (buf: Buffer | string) => {
  const b = typeof buf === 'string' ? Buffer.from(buf) : buf;
  let n = 0;
  for (let i = b.indexOf(MARK); i >= 0; i = b.indexOf(MARK, i + 1)) n++;
  return n;
};
const dbHits = () => ['reelstat.duckdb', 'reelstat.duckdb.wal'].map((f) => join(s.dataDir, f)).filter(existsSync).reduce((n, f) => n + hits(readFileSync(f)), 0);
/** Every file of the data directory but the database's own, with its hits. */
function fileHits(dir = s.dataDir): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...fileHits(p));
    else if (!name.startsWith('reelstat.duckdb')) out.push([p, hits(readFileSync(p))]);
  }
  return out;
}
const get = async (url: string, headers: Record<string, string> = {}) => {
  const r = await fetch(url, { headers });
  return { status: r.status, text: await r.text() };
};

/** The viewer: 4 sessions of 5 events each (the impression anonymous) and one event in a session shared with bob. */
function events() {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < 4; i++) {
    const base = { contentId: i % 2 ? 'vid-b' : 'vid-a', sessionId: `sv${i}` };
    const t = T + i * 60_000;
    const who = { userId: VIEWER, email: `${MARK}@example.test`, viewerName: `Name ${MARK}`, url: `https://site.test/watch?m=${MARK}` };
    out.push(
      { ...base, id: `v${i}-1`, event: 'impression', timestamp: t, url: `https://site.test/anon?m=${MARK}`, referrer: `https://ref.test/${MARK}` },
      { ...base, ...who, id: `v${i}-2`, event: 'playStart', timestamp: t + 1000 },
      { ...base, ...who, id: `v${i}-3`, event: 'watchProgress', timestamp: t + 6000, data: { from: 0, to: 5 } },
      { ...base, ...who, id: `v${i}-4`, event: 'watchProgress', timestamp: t + 11_000, data: { from: 5, to: 10 } },
      { ...base, ...who, id: `v${i}-5`, event: 'error', timestamp: t + 12_000, data: { code: 'E1', message: `boom ${MARK}`, fatal: false } },
    );
  }
  const shared = { contentId: 'vid-a', sessionId: 'shared' };
  out.push(
    { ...shared, id: 'b-1', event: 'impression', timestamp: T, userId: 'bob', url: 'https://site.test/bob' },
    { ...shared, id: 'b-2', event: 'playStart', timestamp: T + 1000, userId: 'bob' },
    { ...shared, id: 'b-3', event: 'watchProgress', timestamp: T + 7000, userId: 'bob', data: { from: 0, to: 6 } },
    { ...shared, id: 'v-shared', event: 'watchProgress', timestamp: T + 30 * 60_000, userId: VIEWER, email: `${MARK}@example.test`, data: { from: 6, to: 12 } },
    { contentId: 'vid-b', sessionId: 'sc', id: 'c-1', event: 'impression', timestamp: T, userId: 'carol' },
    { contentId: 'vid-b', sessionId: 'sc', id: 'c-2', event: 'watchProgress', timestamp: T + 8000, userId: 'carol', data: { from: 0, to: 8 } },
  );
  return out;
}

/** Everything the dialects and APIs answer, as one text to search. */
async function everyAnswer(): Promise<string> {
  const bearer = { authorization: `Bearer ${s.token}` };
  const basic = { authorization: `Basic ${Buffer.from(`api:${s.token}`).toString('base64')}` };
  const parts = [
    JSON.stringify(await readAllEvents(s.url, s.token)),
    (await get(`${s.url}/ohm_get_v3.aspx?t=by_uid_csv&uid=${s.uid}&p=2-0`)).text,
    (await get(`${s.url}/stats/medias/vid-a/events.json?limit=1000`, basic)).text,
    (await get(`${s.url}/stats/medias/vid-b/events.csv?limit=1000`, basic)).text,
    (await get(`${s.url}/v1/analytics?from=${yesterday}&to=${today}&group_by=video_id`, bearer)).text,
    (await get(`${s.url}/api/v1/stats?dimensions=url,domain&from=${yesterday}&to=${today}`, bearer)).text,
    (await get(`${s.url}/api/v1/referrers?from=${yesterday}&to=${today}`, bearer)).text,
    (await get(`${s.url}/api/v1/exports?limit=100`, bearer)).text,
    (await get(`${s.url}/api/v1/scheduled-exports`, bearer)).text,
    (await get(`${s.url}/api/v1/audit-log?limit=100`, bearer)).text,
  ];
  return parts.join('\n');
}

async function contentsquareRun(): Promise<{ run: any; text: string }> {
  const client = await api('POST', '/api/v1/oauth-clients', {});
  assert.equal(client.status, 201, client.text);
  const tok = await fetch(`${s.url}/v1/oauth/token`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: client.json.client_id, client_secret: client.json.client_secret, grant_type: 'client_credentials' }),
  });
  const cs = apiClient(s.url, ((await tok.json()) as { access_token: string }).access_token);
  const job = await cs('POST', '/v1/exports', {
    name: 'sessions', format: 'JSONL', scope: 'sessions', deviceLabel: 'all',
    frequency: { value: 'once', dateRange: { from: new Date(T - HOUR).toISOString(), to: new Date(T + 3 * HOUR).toISOString() } },
    fields: [{ fieldName: 'session_id' }, { fieldName: 'user_id' }, { fieldName: 'email' }, { fieldName: 'url' }, { fieldName: 'views' }],
  });
  assert.equal(job.status, 201, job.text);
  for (let i = 0; i < 400; i++) {
    const runs = await cs('GET', `/v1/exports/${job.json.payload.id}/runs`);
    const run = runs.json.payload[0];
    if (run?.state === 'SUCCESS') {
      const one = await cs('GET', `/v1/exports/${job.json.payload.id}/runs/${run.id}`);
      let text = '';
      for (const p of one.json.payload.parts) text += (await get(p.url)).text;
      return { run: { ...one.json.payload, jobId: job.json.payload.id, api: cs }, text };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('Contentsquare run did not finish');
}

const overview = async () => (await api('GET', `/v1/analytics/overview?from=${yesterday}&to=${today}`)).json.data;

describe('erasure of one viewer', () => {
  const stored: Record<string, any> = {};
  let csBefore: { run: any; text: string };
  let before_: any;

  before(async () => {
    s = await startTestServer({ REELSTAT_ALLOW_PRIVATE_WEBHOOKS: '1' });
    api = apiClient(s.url, s.token);
    const r = await collect(s.url, { writeKey: s.writeKey, events: events() });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.accepted, 26, r.text);
    // Stored exports: three hold the viewer, two do not (one row a video; another viewer's events).
    stored.events = await exportDone(api, '/api/v1/exports', { startDate: yesterday, endDate: today, scope: 'events', format: 'csv' });
    stored.views = await exportDone(api, '/api/v1/exports', { startDate: yesterday, endDate: today, scope: 'views', format: 'jsonl' });
    stored.viewer = await exportDone(api, `/api/v1/users/${encodeURIComponent(VIEWER)}/export`, {});
    stored.videos = await exportDone(api, '/api/v1/exports', { startDate: yesterday, endDate: today, scope: 'videos', format: 'csv' });
    stored.carol = await exportDone(api, '/api/v1/exports', { startDate: yesterday, endDate: today, scope: 'events', format: 'jsonl', filters: { userId: 'carol' } });
    csBefore = await contentsquareRun();
    const sched = await api('POST', '/api/v1/scheduled-exports', {
      frequency: 'daily', format: 'csv', scope: 'events', filters: { userId: VIEWER }, delivery: { webhook: 'https://hooks.example.test/x' },
    });
    assert.equal(sched.status, 201, sched.text);
    stored.schedule = sched.json;
    before_ = await overview();
  });
  after(() => s.stop());

  it('finds the marker everywhere before the erasure (the checks below can fail)', async () => {
    for (const k of ['events', 'views', 'viewer']) {
      const text = (await Promise.all(stored[k].files.map((f: any) => get(f.url)))).map((x) => x.text).join('');
      assert.ok(hits(text) > 0, `${k} export holds the marker`);
    }
    const viewerFiles = stored.viewer.files.map((f: any) => f.name);
    assert.deepEqual(viewerFiles, ['profile.json', 'part-00001.jsonl']);
    const profile = JSON.parse((await get(stored.viewer.files[0].url)).text);
    assert.equal(profile.userId, VIEWER);
    assert.equal(profile.sessions.count, 5);
    assert.equal(profile.totals.events, 21);
    assert.equal(profile.totals.views, 4);
    assert.deepEqual(profile.details.emails, [`${MARK}@example.test`]);
    assert.equal(profile.devices[0].platform, 'desktop');
    assert.ok(hits(csBefore.text) > 0);
    assert.ok(hits(await everyAnswer()) > 0);
    assert.ok(dbHits() > 0, 'the database files hold the marker');
    assert.ok(fileHits().some(([, n]) => n > 0));
  });

  it('erases and says what it removed', async () => {
    const r = await api('DELETE', `/api/v1/users/${encodeURIComponent(VIEWER)}?suppress=true`);
    assert.equal(r.status, 200, r.text);
    const rm = r.json.removed;
    assert.equal(rm.events, 21);
    assert.equal(rm.viewRecords, 5); // four of the viewer's, and the shared session's (rebuilt for bob)
    assert.equal(rm.sessions, 5);
    assert.equal(rm.rebuiltRecordsOfOtherViewers, 1);
    const runs = rm.exportFiles.map((f: any) => f.exportId).sort();
    assert.deepEqual(runs, [stored.events.id, stored.views.id, stored.viewer.id, csBefore.run.jobId].sort());
    assert.ok(rm.exportFiles.every((f: any) => f.action === 'deleted' && f.files.length > 0));
    assert.deepEqual(rm.exportJobs.map((j: any) => j.exportId).sort(), [stored.viewer.id, stored.schedule.id].sort());
    assert.equal(r.json.suppressed, true);
    assert.equal(r.json.purged, true);
    assert.match(r.json.subject, /^[0-9a-f]{64}$/);
    assert.equal(hits(r.text), 0);
  });

  it('leaves no trace in any API, dialect or stored file, nor in the database files', async () => {
    assert.equal(hits(await everyAnswer()), 0);
    for (const [path, n] of fileHits()) assert.equal(n, 0, path);
    assert.equal(dbHits(), 0);
    // Links of the deleted files are gone; the exports say why.
    for (const k of ['events', 'views', 'viewer']) {
      for (const f of stored[k].files) assert.equal((await get(f.url)).status, 410);
      const e = await api('GET', `/api/v1/exports/${stored[k].id}`);
      assert.equal(e.json.status, 'expired');
      assert.deepEqual(e.json.files, []);
      assert.match(e.json.filesRemoved, /erasure of a viewer/);
    }
    for (const p of csBefore.run.parts) assert.equal((await get(p.url)).status, 410);
    // Files that never held the viewer stay.
    for (const k of ['videos', 'carol']) for (const f of stored[k].files) assert.equal((await get(f.url)).status, 200);
    assert.equal((await api('GET', `/api/v1/scheduled-exports/${stored.schedule.id}`)).status, 404);
  });

  it('new exports and a new Contentsquare run hold nothing of the viewer', async () => {
    const ev = await exportDone(api, '/api/v1/exports', { startDate: yesterday, endDate: today, scope: 'events', format: 'jsonl' });
    const text = (await Promise.all(ev.files.map((f: any) => get(f.url)))).map((x) => x.text).join('');
    assert.equal(text.trim().split('\n').length, 5); // bob's 3 and carol's 2 events
    assert.equal(hits(text), 0);
    const again = await exportDone(api, `/api/v1/users/${encodeURIComponent(VIEWER)}/export`, {});
    const profile = JSON.parse((await get(again.files[0].url)).text);
    assert.equal(profile.totals.events, 0);
    assert.equal(profile.sessions.count, 0);
    const cs = await contentsquareRun();
    assert.equal(hits(cs.text), 0);
    assert.match(cs.text, /bob/);
  });

  it('aggregates lose exactly the viewer, the rollup equals the records, bob keeps his view', async () => {
    const now_ = await overview();
    assert.equal(before_.views - now_.views, 4);
    assert.equal(before_.player_loads - now_.player_loads, 4);
    rollupSwitch.enabled = false;
    try {
      assert.deepEqual(await overview(), now_);
    } finally {
      rollupSwitch.enabled = true;
    }
    const bob = await api('GET', `/api/v1/stats?user_id=bob&from=${yesterday}&to=${today}`);
    assert.equal(bob.json.data[0].views, 1);
    assert.equal(bob.json.data[0].total_watch_time, 6);
  });

  it('refuses the suppressed viewer\'s new events, one rejection each; others are stored', async () => {
    const r = await collect(s.url, { writeKey: s.writeKey, events: [
      { id: 'late-1', event: 'impression', timestamp: Date.now() - 1000, contentId: 'vid-a', sessionId: 'new', userId: VIEWER },
      { id: 'late-2', event: 'impression', timestamp: Date.now() - 1000, contentId: 'vid-a', sessionId: 'new2', userId: 'dave' },
    ] });
    assert.equal(r.status, 202);
    assert.equal(r.json.accepted, 1);
    assert.deepEqual(r.json.rejected.map((x: any) => [x.index, x.field]), [[0, 'userId']]);
    assert.match(r.json.rejected[0].error, /erased/);
    assert.equal(hits(await everyAnswer()), 0);
  });

  it('the audit log says who exported and erased, with the viewer only as a hash', async () => {
    const log = await api('GET', '/api/v1/audit-log?limit=2');
    assert.equal(log.status, 200);
    assert.equal(log.json.pagination.total, 3);
    assert.deepEqual(log.json.data.map((e: any) => e.action), ['viewer.export', 'viewer.erase']);
    const all = (await api('GET', '/api/v1/audit-log?limit=10')).json.data;
    assert.ok(all.every((e: any) => e.actor.kind === 'api_token' && /^cred_/.test(e.actor.id)));
    assert.equal(all.find((e: any) => e.action === 'viewer.erase').details.events, 21);
    assert.equal(new Set(all.map((e: any) => e.subject)).size, 1);
  });

  it('validates, and lifts a suppression once', async () => {
    assert.equal((await api('DELETE', `/api/v1/users/${'x'.repeat(129)}`)).status, 400);
    assert.equal((await api('POST', `/api/v1/users/u1/export`, { scope: 'views' })).status, 400);
    assert.equal((await api('POST', `/api/v1/users/u1/export`, { format: 'pdf' })).status, 400);
    assert.equal((await fetch(`${s.url}/api/v1/users/u1`, { method: 'DELETE' })).status, 401);
    const unknown = await api('DELETE', '/api/v1/users/nobody%2Fhere');
    assert.equal(unknown.status, 200, unknown.text);
    assert.equal(unknown.json.removed.events, 0);
    assert.deepEqual(unknown.json.removed.exportFiles, []);
    assert.equal(unknown.json.purged, true);
    assert.equal((await api('DELETE', `/api/v1/users/${encodeURIComponent(VIEWER)}/suppression`)).status, 204);
    assert.equal((await api('DELETE', `/api/v1/users/${encodeURIComponent(VIEWER)}/suppression`)).status, 404);
  });

  it('after the shutdown checkpoint the database files hold no trace either', async () => {
    // The viewer's export asked for after the erasure stored their id again (in its job and profile.json): erase once more.
    const again = await api('DELETE', `/api/v1/users/${encodeURIComponent(VIEWER)}`);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.removed.events, 0);
    assert.equal(again.json.removed.exportFiles.length, 1);
    await s.stop({ keepData: true });
    assert.equal(dbHits(), 0);
    for (const [path, n] of fileHits()) assert.equal(n, 0, path);
  });
});
