/**
 * The Contentsquare dialect (spec/compat.md) against the real server on loopback: OAuth token and its
 * expiry, every validation rule of POST /v1/exports, once jobs through to runs and parts (CSV read with
 * csv-parse, JSONL line by line, aliasName applied, several parts), the sessions scope checked against
 * the native stats API, deviceLabel, listing and filters, successful-runs, exportable-fields,
 * cross-account isolation, the queueing of once jobs, and the public documentation's request examples.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { collect, createAccount, startTestServer, type TestServer } from './helpers/server.ts';
import { request } from './helpers/api.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
const IPAD = 'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

let s: TestServer;
let clockOffset = 0;
let client: { client_id: string; client_secret: string };
let token: string;
/** Start of the data: every event is within [T, T + 1 h). */
const T = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const WINDOW = { from: iso(T - HOUR), to: iso(T + 2 * HOUR) };

function api(method: string, path: string, body?: unknown, bearerToken: string | null = token, headers: Record<string, string> = {}) {
  return request(s.url, method, path, body, bearerToken, headers);
}

async function getToken(c = client) {
  const r = await api('POST', '/v1/oauth/token', { ...c, grant_type: 'client_credentials' }, null);
  assert.equal(r.status, 200, r.text);
  return r.json.access_token as string;
}

async function createJob(body: Record<string, unknown>, t = token) {
  const r = await api('POST', '/v1/exports', body, t);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.success, true);
  return r.json.payload;
}

async function waitRun(jobId: string, t = token) {
  for (let i = 0; i < 400; i++) {
    const runs = await api('GET', `/v1/exports/${jobId}/runs`, undefined, t);
    assert.equal(runs.status, 200, runs.text);
    const run = runs.json.payload[0];
    if (run && (run.state === 'SUCCESS' || run.state === 'FAILURE')) {
      const one = await api('GET', `/v1/exports/${jobId}/runs/${run.id}`, undefined, t);
      assert.equal(one.status, 200, one.text);
      return one.json.payload;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('run did not finish');
}

async function download(part: { url: string; size: number; sha256: string }) {
  const r = await fetch(part.url);
  assert.equal(r.status, 200);
  const buf = Buffer.from(await r.arrayBuffer());
  assert.equal(buf.length, part.size);
  assert.equal(createHash('sha256').update(buf).digest('hex'), part.sha256);
  return buf;
}

function errorOf(r: { status: number; json: any }, status: number, code: string, re?: RegExp) {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.equal(r.json.success, false);
  assert.equal(r.json.errorCode, code);
  assert.equal(typeof r.json.errorMessage, 'string');
  if (re) assert.match(r.json.errorMessage, re);
}

/** One session: an impression of each content, and the given watchProgress segments (from→to, seconds after its start). */
function session(sessionId: string, contents: Array<{ id: string; at: number; play?: Array<[number, number]> }>, extra: Record<string, unknown> = {}) {
  const out: Record<string, unknown>[] = [];
  for (const c of contents) {
    out.push({ id: `${sessionId}-${c.id}-imp`, event: 'impression', timestamp: T + c.at, contentId: c.id, sessionId, url: `https://site.test/${c.id}`, ...extra });
    let clock = T + c.at + 1000;
    for (const [from, to] of c.play ?? []) {
      clock += (to - from) * 1000;
      out.push({ id: `${sessionId}-${c.id}-${from}`, event: 'watchProgress', timestamp: clock, contentId: c.id, sessionId, data: { from, to }, ...extra });
    }
  }
  return out;
}

const SESSIONS = {
  desktop: [
    ...session('s-desk-1', [{ id: 'vid-a', at: 0, play: [[0, 10]] }, { id: 'vid-b', at: 60_000, play: [[0, 3]] }], { userId: 'u-1' }),
    ...session('s-desk-2', [{ id: 'vid-a', at: 120_000 }], { userId: 'u-2' }),
  ],
  mobile: [
    ...session('s-mob-1', [{ id: 'vid-a', at: 180_000, play: [[0, 6]] }]),
    ...session('s-mob-2', [{ id: 'vid-b', at: 240_000, play: [[0, 8]] }]),
  ],
  tablet: [...session('s-tab-1', [{ id: 'vid-c', at: 300_000, play: [[0, 5]] }])],
};
const RECORDS = 6;
const SESSION_COUNT = 5;

before(async () => {
  s = await startTestServer({ REELSTAT_EXPORT_PART_ROWS: '2' }, { now: () => Date.now() + clockOffset });
  for (const [events, ua] of [[SESSIONS.desktop, undefined], [SESSIONS.mobile, IPHONE], [SESSIONS.tablet, IPAD]] as const) {
    const r = await collect(s.url, events, { 'x-reelstat-key': s.writeKey, ...(ua ? { 'user-agent': ua } : {}) });
    assert.equal(r.json.accepted, events.length, r.text);
  }
  const c = await fetch(`${s.url}/api/v1/oauth-clients`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` } });
  assert.equal(c.status, 201);
  client = await c.json();
  token = await getToken();
});
after(() => s.stop());

describe('Contentsquare: authentication', () => {
  it('client credentials give a one-hour JWT and the base URL', async () => {
    const r = await api('POST', '/v1/oauth/token', { ...client, grant_type: 'client_credentials' }, null);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json).sort(), ['access_token', 'endpoint', 'expires_in', 'token_type']);
    assert.equal(r.json.token_type, 'Bearer');
    assert.equal(r.json.expires_in, 3600);
    assert.equal(r.json.endpoint, s.url);
    const [h, p] = r.json.access_token.split('.');
    assert.equal(JSON.parse(Buffer.from(h, 'base64url').toString()).alg, 'HS256');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    assert.equal(claims.exp - claims.iat, 3600);
    // form-encoded, as OAuth clients send it
    const form = await api('POST', '/v1/oauth/token', new URLSearchParams({ ...client, grant_type: 'client_credentials' }).toString(), null, { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 200, form.text);
    assert.ok(existsSync(`${s.dataDir}/contentsquare-jwt.key`));
  });

  it('wrong or missing credentials', async () => {
    errorOf(await api('POST', '/v1/oauth/token', { client_id: client.client_id, client_secret: 'ocs_wrong', grant_type: 'client_credentials' }, null), 401, 'INVALID_CLIENT');
    errorOf(await api('POST', '/v1/oauth/token', { client_id: 'oc_nope', client_secret: client.client_secret, grant_type: 'client_credentials' }, null), 401, 'INVALID_CLIENT');
    errorOf(await api('POST', '/v1/oauth/token', { ...client, grant_type: 'password' }, null), 400, 'UNSUPPORTED_GRANT_TYPE', /client_credentials/);
    errorOf(await api('POST', '/v1/oauth/token', { ...client }, null), 400, 'INVALID_PARAMETER', /grant_type/);
    errorOf(await api('POST', '/v1/oauth/token', { client_id: client.client_id, grant_type: 'client_credentials' }, null), 400, 'INVALID_PARAMETER', /client_secret/);
    errorOf(await api('POST', '/v1/oauth/token', '{not json', null), 400, 'INVALID_BODY');
    errorOf(await api('GET', '/v1/exports', undefined, null), 401, 'UNAUTHORIZED');
    errorOf(await api('GET', '/v1/exports', undefined, 'a.b.c'), 401, 'UNAUTHORIZED');
    errorOf(await api('GET', '/v1/exports', undefined, s.token), 401, 'UNAUTHORIZED');
    const [h, p] = token.split('.');
    errorOf(await api('GET', '/v1/exports', undefined, `${h}.${p}.${'A'.repeat(43)}`), 401, 'UNAUTHORIZED');
  });

  it('an expired token answers 401 JWT_EXPIRED', async () => {
    const t = await getToken();
    assert.equal((await api('GET', '/v1/exports', undefined, t)).status, 200);
    // The clock is set from the token's own issue time, so a slow machine cannot move the edge.
    const { iat } = JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString());
    const at = (ms: number) => (clockOffset = ms - Date.now());
    try {
      at((iat + 3600) * 1000 - 5000);
      assert.equal((await api('GET', '/v1/exports', undefined, t)).status, 200, 'still valid just before the hour');
      at((iat + 3600) * 1000 + 500);
      errorOf(await api('GET', '/v1/exports', undefined, t), 401, 'JWT_EXPIRED', /expired/);
      errorOf(await api('POST', '/v1/exports', {}, t), 401, 'JWT_EXPIRED');
      const fresh = await getToken();
      assert.equal((await api('GET', '/v1/exports', undefined, fresh)).status, 200);
    } finally {
      clockOffset = 0;
    }
  });

  it('a revoked client: its tokens stop working', async () => {
    const c = await (await fetch(`${s.url}/api/v1/oauth-clients`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` } })).json();
    const t = await getToken(c);
    assert.equal((await api('GET', '/v1/exports', undefined, t)).status, 200);
    const del = await fetch(`${s.url}/api/v1/oauth-clients/${c.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${s.token}` } });
    assert.equal(del.status, 204);
    errorOf(await api('GET', '/v1/exports', undefined, t), 401, 'UNAUTHORIZED', /revoked/);
    errorOf(await api('POST', '/v1/oauth/token', { client_id: c.client_id, client_secret: c.client_secret, grant_type: 'client_credentials' }, null), 401, 'INVALID_CLIENT');
  });
});

describe('Contentsquare: POST /v1/exports validation', () => {
  const good = () => ({
    name: 'n', format: 'CSV', scope: 'views', frequency: { value: 'once', dateRange: { ...WINDOW } }, fields: [{ fieldName: 'session_id' }], deviceLabel: 'all',
  });
  const at = (ms: number) => iso(ms);
  const now = Date.now();
  const cases: Array<[string, (b: any) => void, RegExp]> = [
    ['name missing', (b) => delete b.name, /^name: required/],
    ['name empty', (b) => (b.name = '  '), /^name: "  " is not accepted; expected a non-empty string/],
    ['name twice (a form key repeated)', (b) => (b.name = ['f', 'g']), /^name: given more than once; give it once/],
    ['alias differing only in case', (b) => (b.fields = [{ fieldName: 'session_id', aliasName: 'A' }, { fieldName: 'url', aliasName: 'a' }]), /output name "a" is used twice \(as "A"; names are compared ignoring case\)/],
    ['a long field name, quoted cut to 80 characters', (b) => (b.fields = [{ fieldName: 'f'.repeat(5000) }]), /^fields\[0\].fieldName: unknown field "f{79}… \(5002 characters\) for scope views/],
    ['format missing', (b) => delete b.format, /^format: required.*"CSV", "JSONL"/],
    ['format bad', (b) => (b.format = 'PARQUET'), /^format: "PARQUET" is not accepted; expected one of "CSV", "JSONL"/],
    ['format lowercase', (b) => (b.format = 'csv'), /^format: "csv" is not accepted/],
    ['scope bad', (b) => (b.scope = 'events'), /^scope: "events" is not accepted; expected one of "sessions", "views"/],
    ['scope missing', (b) => delete b.scope, /^scope: required/],
    ['frequency missing', (b) => delete b.frequency, /^frequency: required/],
    ['frequency bad', (b) => (b.frequency = { value: 'weekly' }), /^frequency.value: "weekly" is not accepted; expected one of "once", "daily", "hourly"/],
    ['once without dateRange', (b) => delete b.frequency.dateRange, /^frequency.dateRange: required for a "once" job/],
    ['daily with dateRange', (b) => (b.frequency.value = 'daily'), /^frequency.dateRange: only a "once" job takes a dateRange/],
    ['hourly with dateRange', (b) => (b.frequency.value = 'hourly'), /^frequency.dateRange: only a "once" job/],
    ['from missing', (b) => delete b.frequency.dateRange.from, /^frequency.dateRange.from: required/],
    ['from malformed', (b) => (b.frequency.dateRange.from = '14/02/2023'), /^frequency.dateRange.from: "14\/02\/2023" is not an ISO 8601 date/],
    ['to impossible date', (b) => (b.frequency.dateRange.to = '2026-02-30T00:00:00Z'), /^frequency.dateRange.to: "2026-02-30T00:00:00Z" is not/],
    ['to equal to from', (b) => (b.frequency.dateRange.to = b.frequency.dateRange.from), /^frequency.dateRange.to: must be after frequency.dateRange.from/],
    ['to before from', (b) => (b.frequency.dateRange = { from: at(now - HOUR), to: at(now - 2 * HOUR) }), /must be after/],
    ['7 days + 1 ms', (b) => (b.frequency.dateRange = { from: at(now - 8 * DAY), to: at(now - 8 * DAY + 7 * DAY + 1) }), /at most 7 days after/],
    ['8 days as dates', (b) => (b.frequency.dateRange = { from: iso(now - 10 * DAY).slice(0, 10), to: iso(now - 2 * DAY).slice(0, 10) }), /at most 7 days after/],
    ['before raw retention', (b) => (b.frequency.dateRange = { from: at(now - 91 * DAY), to: at(now - 90 * DAY) }), /raw events are kept 90 days; the earliest accepted is/],
    // the sweeper deletes what is older than now - 90 days: a range starting a minute before that is refused, whatever its day
    ['a minute before the retention cut-off', (b) => (b.frequency.dateRange = { from: at(now - 90 * DAY - 60_000), to: at(now - 89 * DAY) }), /raw events are kept 90 days; the earliest accepted is/],
    ['from in the future', (b) => (b.frequency.dateRange = { from: at(now + HOUR), to: at(now + 2 * HOUR) }), /future/],
    ['fields missing', (b) => delete b.fields, /^fields: required/],
    ['fields empty', (b) => (b.fields = []), /^fields: required, a non-empty list/],
    ['field as a string', (b) => (b.fields = ['session_id']), /^fields\[0\]: expected an object/],
    ['unknown field', (b) => (b.fields = [{ fieldName: 'session_id' }, { fieldName: 'page_title' }]), /^fields\[1\].fieldName: unknown field "page_title" for scope views; see GET \/v1\/exportable-fields\?scope=views/],
    ['sessions-only field in views', (b) => (b.fields = [{ fieldName: 'watch_time' }]), /unknown field "watch_time" for scope views/],
    ['field named twice', (b) => (b.fields = [{ fieldName: 'session_id' }, { fieldName: 'url' }, { fieldName: 'session_id', aliasName: 'again' }]), /^fields\[2\].fieldName: field "session_id" is named twice \(also fields\[0\]\)/],
    ['field named twice in two spellings', (b) => (b.fields = [{ fieldName: 'session_id' }, { fieldName: 'sessionId' }]), /named twice/],
    ['alias used twice', (b) => (b.fields = [{ fieldName: 'session_id', aliasName: 'x' }, { fieldName: 'url', aliasName: 'x' }]), /output name "x" is used twice/],
    ['custom var', (b) => (b.fields = [{ fieldName: 'custom_var', customVarPosition: 1 }]), /customVarPosition: not supported/],
    ['deviceLabel missing', (b) => delete b.deviceLabel, /^deviceLabel: required; expected one of "all", "desktop", "mobile", "tablet"/],
    ['deviceLabel bad', (b) => (b.deviceLabel = 'tv'), /^deviceLabel: "tv" is not accepted/],
    ['unknown parameter', (b) => (b.filters = {}), /^filters: unknown parameter; accepted: name, format, scope, frequency, fields, deviceLabel, segmentId/],
  ];
  for (const [label, change, re] of cases) {
    it(`400: ${label}`, async () => {
      const b = good();
      change(b);
      errorOf(await api('POST', '/v1/exports', b), 400, 'INVALID_PARAMETER', re);
    });
  }
  it('400: not an object, not JSON', async () => {
    errorOf(await api('POST', '/v1/exports', []), 400, 'INVALID_PARAMETER', /JSON object/);
    errorOf(await api('POST', '/v1/exports', '{"name": '), 400, 'INVALID_BODY');
  });
  it('exactly 7 days is accepted, and a range starting a minute after the retention cut-off; nothing was stored by the refused requests', async () => {
    const before = (await api('GET', '/v1/exports?limit=100')).json.pagination.total;
    const job = await createJob({ ...good(), frequency: { value: 'once', dateRange: { from: at(now - 8 * DAY), to: at(now - DAY) } } });
    assert.equal(job.frequency.dateRange.to, at(now - DAY));
    const edge = await createJob({ ...good(), frequency: { value: 'once', dateRange: { from: at(now - 90 * DAY + 60_000), to: at(now - 89 * DAY) } } });
    assert.equal((await api('GET', '/v1/exports?limit=100')).json.pagination.total, before + 2);
    await waitRun(job.id);
    await waitRun(edge.id);
  });
});

describe('Contentsquare: once jobs, runs and parts', () => {
  it('a job posted form-encoded, its nesting in brackets, runs like its JSON twin; too deep a nesting is a 400', async () => {
    const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
    const form = new URLSearchParams([
      ['name', 'form job'], ['format', 'CSV'], ['scope', 'views'], ['deviceLabel', 'all'], ['segmentId', '42'],
      ['frequency[value]', 'once'], ['frequency[dateRange][from]', WINDOW.from], ['frequency[dateRange][to]', WINDOW.to],
      ['fields[0][fieldName]', 'view_id'], ['fields[1][fieldName]', 'session_id'], ['fields[1][aliasName]', 'sid'],
    ]).toString();
    const r = await api('POST', '/v1/exports', form, token, FORM);
    assert.equal(r.status, 201, r.text);
    const job = r.json.payload;
    assert.deepEqual(job.frequency, { value: 'once', dateRange: WINDOW });
    assert.deepEqual(job.fields, [{ fieldName: 'view_id' }, { fieldName: 'session_id', aliasName: 'sid' }]);
    assert.equal(job.segmentId, '42');
    const run = await waitRun(job.id);
    assert.equal(run.rowCount, RECORDS);
    const rows = parse((await download(run.parts[0])).toString('utf8'), { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(Object.keys(rows[0]!), ['view_id', 'sid']);
    errorOf(await api('POST', '/v1/exports', 'frequency[a][b][c][d][e][f]=1', token, FORM), 400, 'INVALID_BODY', /nest parameters at most 4 deep/);
    errorOf(await api('POST', '/v1/exports', 'name=x&format=CSV&scope=views&frequency=once', token, FORM), 400, 'INVALID_PARAMETER', /^frequency: required, an object/);
  });

  it('views as CSV: parts of 2 rows read back with csv-parse, aliases as the header, one row per view record', async () => {
    const job = await createJob({
      name: 'views csv', format: 'CSV', scope: 'views', frequency: { value: 'once', dateRange: WINDOW }, deviceLabel: 'all',
      fields: [{ fieldName: 'view_id', aliasName: 'ViewID' }, { fieldName: 'session_id', aliasName: 'session' }, { fieldName: 'content_id' }, { fieldName: 'counted' },
        { fieldName: 'unique_seconds', aliasName: 'watched' }, { fieldName: 'device_label' }, { fieldName: 'startedAt' }],
    });
    assert.equal(job.format, 'CSV');
    assert.equal(job.scope, 'views');
    assert.deepEqual(job.frequency, { value: 'once', dateRange: WINDOW });
    assert.ok(['ACTIVE', 'COMPUTING', 'COMPLETED'].includes(job.state));
    const run = await waitRun(job.id);
    const native = await (await fetch(`${s.url}/api/v1/exports/${job.id}`, { headers: { authorization: `Bearer ${s.token}` } })).json();
    assert.deepEqual([native.dialect, native.status], ['contentsquare', 'completed']);
    assert.equal(run.state, 'SUCCESS', JSON.stringify(run));
    assert.equal(run.jobId, job.id);
    assert.equal(run.rowCount, RECORDS);
    assert.deepEqual(run.dateRange, WINDOW);
    assert.deepEqual(run.parts.map((p: any) => p.rowCount), [2, 2, 2]);
    assert.deepEqual(run.parts.map((p: any) => p.partNumber), [1, 2, 3]);
    const rows: any[] = [];
    for (const p of run.parts) {
      const got = parse(await download(p), { columns: true });
      assert.equal(got.length, p.rowCount);
      rows.push(...got);
    }
    assert.equal(rows.length, RECORDS);
    assert.deepEqual(Object.keys(rows[0]), ['ViewID', 'session', 'content_id', 'counted', 'watched', 'device_label', 'startedAt']);
    assert.equal(new Set(rows.map((r) => r.ViewID)).size, RECORDS);
    const d1b = rows.find((r) => r.session === 's-desk-1' && r.content_id === 'vid-b');
    assert.deepEqual([d1b.counted, d1b.watched, d1b.device_label], ['false', '3', 'desktop']);
    assert.equal(rows.find((r) => r.session === 's-mob-1').device_label, 'mobile');
    assert.equal(rows.find((r) => r.session === 's-tab-1').device_label, 'tablet');
    const jobNow = (await api('GET', `/v1/exports/${job.id}`)).json.payload;
    assert.equal(jobNow.state, 'COMPLETED');
  });

  it('sessions as JSONL: aliases as keys, one line per session, totals equal the native stats API', async () => {
    const job = await createJob({
      name: 'sessions jsonl', format: 'JSONL', scope: 'sessions', frequency: { value: 'once', dateRange: WINDOW }, deviceLabel: 'all',
      fields: [{ fieldName: 'session_id', aliasName: 'sid' }, { fieldName: 'user_id' }, { fieldName: 'views' }, { fieldName: 'watch_time', aliasName: 'watchSeconds' },
        { fieldName: 'player_loads' }, { fieldName: 'unique_views' }, { fieldName: 'content_ids' }, { fieldName: 'first_event_at' }, { fieldName: 'last_event_at' },
        { fieldName: 'device_label' }, { fieldName: 'url' }],
    });
    const run = await waitRun(job.id);
    assert.equal(run.state, 'SUCCESS', JSON.stringify(run));
    assert.equal(run.rowCount, SESSION_COUNT);
    assert.deepEqual(run.parts.map((p: any) => p.rowCount), [2, 2, 1]);
    const rows: any[] = [];
    for (const p of run.parts) {
      const lines = (await download(p)).toString('utf8').split('\n').filter(Boolean);
      assert.equal(lines.length, p.rowCount);
      rows.push(...lines.map((l) => JSON.parse(l)));
    }
    assert.equal(rows.length, SESSION_COUNT);
    assert.deepEqual(Object.keys(rows[0]), ['sid', 'user_id', 'views', 'watchSeconds', 'player_loads', 'unique_views', 'content_ids', 'first_event_at', 'last_event_at', 'device_label', 'url']);
    assert.deepEqual(rows.map((r) => r.sid), ['s-desk-1', 's-desk-2', 's-mob-1', 's-mob-2', 's-tab-1'], 'ordered by first event');
    const d1 = rows[0];
    assert.deepEqual(
      [d1.user_id, d1.views, d1.watchSeconds, d1.player_loads, d1.unique_views, d1.content_ids, d1.device_label, d1.url],
      ['u-1', 1, 13, 2, 2, ['vid-a', 'vid-b'], 'desktop', 'https://site.test/vid-a'],
    );
    assert.equal(d1.first_event_at, iso(T));
    assert.equal(d1.last_event_at, iso(T + 60_000 + 1000 + 3000));
    assert.deepEqual([rows[1].views, rows[1].watchSeconds, rows[1].player_loads, rows[1].unique_views], [0, 0, 1, 0]);
    // The same numbers as the one metric definition the native API serves.
    const stats = await (await fetch(`${s.url}/api/v1/stats?from=${WINDOW.from}&to=${WINDOW.to}&metrics=views,player_loads,total_watch_time,unique_views`, {
      headers: { authorization: `Bearer ${s.token}` },
    })).json();
    const totals = stats.data?.[0]?.metrics ?? stats.data?.[0] ?? stats.data ?? stats;
    const sum = (k: string) => rows.reduce((a, r) => a + r[k], 0);
    assert.equal(sum('views'), totals.views, JSON.stringify(stats));
    assert.equal(sum('player_loads'), totals.player_loads);
    assert.equal(sum('watchSeconds'), totals.total_watch_time);
    assert.equal(sum('unique_views'), totals.unique_views);
  });

  it('deviceLabel filters sessions and views by platform', async () => {
    const expect = { desktop: ['s-desk-1', 's-desk-2'], mobile: ['s-mob-1', 's-mob-2'], tablet: ['s-tab-1'] } as const;
    for (const [label, ids] of Object.entries(expect)) {
      for (const scope of ['sessions', 'views']) {
        const job = await createJob({ name: label, format: 'JSONL', scope, frequency: { value: 'once', dateRange: WINDOW }, deviceLabel: label, fields: [{ fieldName: 'session_id' }] });
        assert.equal(job.deviceLabel, label);
        const run = await waitRun(job.id);
        const rows: any[] = [];
        for (const p of run.parts) rows.push(...(await download(p)).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
        assert.deepEqual([...new Set(rows.map((r) => r.session_id))].sort(), [...ids], `${scope} ${label}`);
      }
    }
  });

  it('an empty window gives one empty part (CSV header only)', async () => {
    const from = Date.now() - 20 * DAY;
    const job = await createJob({ name: 'empty', format: 'CSV', scope: 'sessions', frequency: { value: 'once', dateRange: { from: iso(from), to: iso(from + DAY) } }, deviceLabel: 'all', fields: [{ fieldName: 'session_id' }, { fieldName: 'views' }] });
    const run = await waitRun(job.id);
    assert.equal(run.rowCount, 0);
    assert.equal(run.parts.length, 1);
    assert.equal(parse(await download(run.parts[0]), { columns: true }).length, 0);
  });

  it('lists: filters, pages, order; runs; successful runs', async () => {
    const all = await api('GET', '/v1/exports?limit=100');
    assert.equal(all.status, 200);
    const total = all.json.pagination.total;
    assert.ok(total >= 5);
    const created = all.json.payload.map((j: any) => j.createdAt);
    assert.deepEqual(created, [...created].sort().reverse(), 'newest first');
    const asc = await api('GET', '/v1/exports?limit=100&order=asc');
    assert.deepEqual(asc.json.payload.map((j: any) => j.id), all.json.payload.map((j: any) => j.id).reverse());
    const p1 = await api('GET', '/v1/exports?limit=2&page=1');
    const p2 = await api('GET', '/v1/exports?limit=2&page=2');
    assert.deepEqual([...p1.json.payload, ...p2.json.payload].map((j: any) => j.id), all.json.payload.slice(0, 4).map((j: any) => j.id));
    assert.deepEqual(p2.json.pagination, { page: 2, limit: 2, total });
    const jsonl = await api('GET', '/v1/exports?format=JSONL&scope=sessions&limit=100');
    assert.ok(jsonl.json.payload.length > 0);
    assert.ok(jsonl.json.payload.every((j: any) => j.format === 'JSONL' && j.scope === 'sessions'));
    const completed = await api('GET', '/v1/exports?state=COMPLETED&frequency=once&limit=100');
    assert.equal(completed.json.payload.length, total, 'every once job is done');
    assert.equal((await api('GET', '/v1/exports?state=SUSPENDED')).json.payload.length, 0);
    for (const q of ['format=XML', 'frequency=weekly', 'scope=events', 'state=DONE', 'limit=0', 'limit=101', 'page=0', 'order=up', 'limit=abc']) {
      errorOf(await api('GET', `/v1/exports?${q}`), 400, 'INVALID_PARAMETER', new RegExp(`^${q.split('=')[0]}: `));
    }

    const job = all.json.payload[0];
    const runs = await api('GET', `/v1/exports/${job.id}/runs`);
    assert.equal(runs.json.payload.length, 1);
    assert.equal((await api('GET', `/v1/exports/${job.id}/runs?state=FAILURE`)).json.payload.length, 0);
    assert.equal((await api('GET', `/v1/exports/${job.id}/runs?state=SUCCESS`)).json.payload.length, 1);
    errorOf(await api('GET', `/v1/exports/${job.id}/runs?state=DONE`), 400, 'INVALID_PARAMETER', /^state: "DONE" is not accepted; expected one of "CREATED", "RUNNABLE", "RUNNING", "SUCCESS", "FAILURE"/);

    const ok = await api('GET', '/v1/exports/successful-runs?limit=100');
    assert.equal(ok.status, 200);
    assert.equal(ok.json.pagination.total, total);
    assert.ok(ok.json.payload.every((r: any) => r.state === 'SUCCESS' && r.parts.length >= 1 && r.parts.every((p: any) => p.url.includes('sig='))));
    assert.ok(ok.json.payload.some((r: any) => r.jobId === job.id));
    const page = await api('GET', '/v1/exports/successful-runs?limit=1&page=2&order=asc');
    assert.equal(page.json.payload.length, 1);
  });

  it('exportable fields of each scope', async () => {
    const v = await api('GET', '/v1/exportable-fields?scope=views');
    assert.equal(v.status, 200);
    const names = v.json.payload.map((f: any) => f.name);
    for (const n of ['view_id', 'session_id', 'content_id', 'started_at', 'unique_seconds', 'device_label', 'project_id']) assert.ok(names.includes(n), n);
    assert.ok(v.json.payload.every((f: any) => typeof f.type === 'string' && f.description.length > 0));
    const ss = (await api('GET', '/v1/exportable-fields?scope=sessions')).json.payload.map((f: any) => f.name);
    for (const n of ['session_id', 'user_id', 'first_event_at', 'last_event_at', 'content_ids', 'views', 'watch_time', 'player_loads', 'device_label', 'country', 'region', 'city', 'browser', 'os', 'platform', 'domain', 'url']) {
      assert.ok(ss.includes(n), n);
    }
    errorOf(await api('GET', '/v1/exportable-fields'), 400, 'INVALID_PARAMETER', /^scope: required/);
    errorOf(await api('GET', '/v1/exportable-fields?scope=pages'), 400, 'INVALID_PARAMETER', /^scope: "pages" is not accepted/);
    // the native catalog knows the sessions scope too
    const native = await (await fetch(`${s.url}/api/v1/fields?scope=sessions`, { headers: { authorization: `Bearer ${s.token}` } })).json();
    assert.ok(native.data.some((f: any) => f.name === 'watchTime'));
  });

  it('404s have the dialect shape', async () => {
    errorOf(await api('GET', '/v1/exports/exp_nope'), 404, 'NOT_FOUND', /exp_nope/);
    errorOf(await api('GET', '/v1/exports/exp_nope/runs'), 404, 'NOT_FOUND');
    const job = (await api('GET', '/v1/exports?limit=1')).json.payload[0];
    errorOf(await api('GET', `/v1/exports/${job.id}/runs/run_nope`), 404, 'NOT_FOUND', /run_nope/);
    errorOf(await api('GET', '/v1/exports/a/b/c/d'), 404, 'NOT_FOUND');
    errorOf(await api('GET', '/v1/oauth/token'), 404, 'NOT_FOUND', /No route GET \/v1\/oauth\/token/);
    errorOf(await api('POST', '/v1/oauth/nope', {}), 404, 'NOT_FOUND');
    errorOf(await api('POST', '/v1/exportable-fields', {}), 404, 'NOT_FOUND', /No route POST \/v1\/exportable-fields/);
    errorOf(await api('DELETE', '/v1/exports/x'), 404, 'NOT_FOUND');
  });
});

describe('Contentsquare: accounts are isolated', () => {
  it("another account's jobs and runs are 404 and never listed", async () => {
    const other = await createAccount(s.url, 'Other', 'other@cs.test');
    const c = await (await fetch(`${s.url}/api/v1/oauth-clients`, { method: 'POST', headers: { authorization: `Bearer ${other.apiToken}` } })).json();
    const t2 = await getToken(c);
    assert.equal((await api('GET', '/v1/exports', undefined, t2)).json.payload.length, 0);
    assert.equal((await api('GET', '/v1/exports/successful-runs', undefined, t2)).json.payload.length, 0);
    const mine = (await api('GET', '/v1/exports?limit=1')).json.payload[0];
    const myRun = (await api('GET', `/v1/exports/${mine.id}/runs`)).json.payload[0];
    errorOf(await api('GET', `/v1/exports/${mine.id}`, undefined, t2), 404, 'NOT_FOUND');
    errorOf(await api('GET', `/v1/exports/${mine.id}/runs`, undefined, t2), 404, 'NOT_FOUND');
    errorOf(await api('GET', `/v1/exports/${mine.id}/runs/${myRun.id}`, undefined, t2), 404, 'NOT_FOUND');
    // its own once job sees none of the first account's data
    const job = await createJob({ name: 'other', format: 'CSV', scope: 'views', frequency: { value: 'once', dateRange: WINDOW }, deviceLabel: 'all', fields: [{ fieldName: 'view_id' }] }, t2);
    const run = await waitRun(job.id, t2);
    assert.equal(run.rowCount, 0);
    errorOf(await api('GET', `/v1/exports/${job.id}`), 404, 'NOT_FOUND');
    errorOf(await api('GET', `/v1/exports/${mine.id}/runs/${run.id}`), 404, 'NOT_FOUND');
  });
});

/**
 * Holds the first export snapshot taken from now on (its run stays COMPUTING) until the returned
 * function is called, which also puts the store's snapshot back.
 */
function holdFirstSnapshot(): () => void {
  const store = s.server.store;
  const original = store.exports.snapshot;
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let calls = 0;
  store.exports.snapshot = (async (fn: any, opts: any) => {
    if (calls++ === 0) await gate;
    return original.call(store.exports, fn, opts);
  }) as typeof original;
  return () => {
    open();
    store.exports.snapshot = original;
  };
}

/** Waits until the job is COMPUTING (its run started). */
async function computing(jobId: string) {
  let state = '';
  for (let i = 0; i < 200 && state !== 'COMPUTING'; i++) {
    state = (await api('GET', `/v1/exports/${jobId}`)).json.payload.state;
    if (state !== 'COMPUTING') await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(state, 'COMPUTING');
}

describe('Contentsquare: queueing and recurring jobs', () => {
  it('a once job queues behind the running one, then runs', async () => {
    const release = holdFirstSnapshot();
    try {
      const body = (name: string) => ({ name, format: 'CSV', scope: 'views', frequency: { value: 'once', dateRange: WINDOW }, deviceLabel: 'all', fields: [{ fieldName: 'view_id' }] });
      const first = await createJob(body('first'));
      await computing(first.id);
      const second = await createJob(body('second'));
      assert.equal(second.state, 'ACTIVE', 'queued');
      await new Promise((r) => setTimeout(r, 700)); // the service polls every 500 ms: it still must not start it
      assert.equal((await api('GET', `/v1/exports/${second.id}`)).json.payload.state, 'ACTIVE');
      assert.equal((await api('GET', `/v1/exports/${second.id}/runs`)).json.payload[0].state, 'RUNNABLE');
      assert.equal((await api('GET', `/v1/exports/${first.id}/runs`)).json.payload[0].state, 'RUNNING');
      assert.equal((await api('GET', '/v1/exports?state=COMPUTING')).json.payload.length, 1);
      release();
      const r1 = await waitRun(first.id);
      const r2 = await waitRun(second.id);
      assert.equal(r1.state, 'SUCCESS');
      assert.equal(r2.state, 'SUCCESS');
      assert.ok(r2.finishedAt >= r1.finishedAt);
      assert.equal(r1.rowCount, RECORDS);
      assert.equal(r2.rowCount, RECORDS);
    } finally {
      release();
    }
  });

  it("another account's once job is not held back by this account's running one", async () => {
    const release = holdFirstSnapshot();
    try {
      const other = await createAccount(s.url, 'Queue', 'queue@cs.test');
      const c = await (await fetch(`${s.url}/api/v1/oauth-clients`, { method: 'POST', headers: { authorization: `Bearer ${other.apiToken}` } })).json();
      const t2 = await getToken(c);
      const body = (name: string) => ({ name, format: 'CSV', scope: 'views', frequency: { value: 'once', dateRange: WINDOW }, deviceLabel: 'all', fields: [{ fieldName: 'view_id' }] });
      const mine = await createJob(body('held'));
      await computing(mine.id);
      const theirs = await createJob(body('theirs'), t2);
      const run = await waitRun(theirs.id, t2);
      assert.equal(run.state, 'SUCCESS');
      assert.equal(run.rowCount, 0, 'the other account has no data');
      assert.equal((await api('GET', `/v1/exports/${mine.id}`)).json.payload.state, 'COMPUTING', 'still held while the other ran');
      release();
      assert.equal((await waitRun(mine.id)).rowCount, RECORDS);
    } finally {
      release();
    }
  });

  it('daily and hourly jobs are stored for the scheduler (daily at 04:00 UTC)', async () => {
    const daily = await createJob({ name: 'daily', format: 'JSONL', scope: 'sessions', frequency: { value: 'daily' }, deviceLabel: 'mobile', fields: [{ fieldName: 'session_id' }] });
    const hourly = await createJob({ name: 'hourly', format: 'CSV', scope: 'views', frequency: { value: 'hourly' }, deviceLabel: 'all', fields: [{ fieldName: 'view_id' }] });
    assert.deepEqual([daily.state, hourly.state], ['ACTIVE', 'ACTIVE']);
    assert.deepEqual(daily.frequency, { value: 'daily' });
    const accountId = (await (await fetch(`${s.url}/api/v1/account`, { headers: { authorization: `Bearer ${s.token}` } })).json()).id;
    const d = await s.server.store.jobs.getJob(accountId, daily.id);
    const h = await s.server.store.jobs.getJob(accountId, hourly.id);
    assert.equal(d!.kind, 'daily');
    assert.equal(d!.spec.delayMinutes, 240);
    assert.equal(d!.spec.dialect, 'contentsquare');
    assert.equal(h!.kind, 'hourly');
    assert.equal(h!.spec.delayMinutes, undefined);
    assert.equal((await api('GET', `/v1/exports/${daily.id}/runs`)).json.payload.length, 0, 'no run until the scheduler makes one');
    const recurring = await api('GET', '/v1/exports?frequency=daily');
    assert.deepEqual(recurring.json.payload.map((j: any) => j.id), [daily.id]);
    // The native API lists the account's every job: these marked as the dialect's, with no delivery.
    const native = await (await fetch(`${s.url}/api/v1/scheduled-exports?limit=100`, { headers: { authorization: `Bearer ${s.token}` } })).json();
    const mine = native.data.filter((j: any) => j.id === daily.id || j.id === hourly.id);
    assert.deepEqual(mine.map((j: any) => [j.frequency, j.dialect, j.delivery]).sort(), [['daily', 'contentsquare', null], ['hourly', 'contentsquare', null]]);
    const one = await (await fetch(`${s.url}/api/v1/scheduled-exports/${daily.id}`, { headers: { authorization: `Bearer ${s.token}` } })).json();
    assert.equal(one.dialect, 'contentsquare');
  });
});

describe('Contentsquare: the public documentation\'s request examples', () => {
  it('example 1: a daily sessions job in JSONL with project_id and session_id, deviceLabel and segmentId', async () => {
    // curl --location --request POST 'https://api.contentsquare.com/v1/exports' --header 'Authorization: Bearer <your_access_token>'
    //   --header 'Content-Type: application/json' --data-raw '{…}' (the documented body, its trailing commas removed to make it JSON)
    const r = await api('POST', '/v1/exports', '{ "name": "Test API POST", "format": "JSONL", "scope": "sessions", "frequency": { "value": "daily" }, ' +
      '"fields": [ { "fieldName": "project_id" }, { "fieldName": "session_id" } ], "deviceLabel": "all", "segmentId": 123}');
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.payload.segmentId, 123);
    assert.deepEqual(r.json.payload.fields, [{ fieldName: 'project_id' }, { fieldName: 'session_id' }]);
  });

  it('example 2: a once views job in CSV for 2023-02-14 (clock moved to 2023-02-16)', async () => {
    clockOffset = Date.parse('2023-02-16T12:00:00Z') - Date.now();
    try {
      const day = Date.parse('2023-02-14T10:00:00Z');
      const events = [
        { id: 'ex2-imp', event: 'impression', timestamp: day, contentId: 'vid-2023', sessionId: 's-2023', url: 'https://old.test/page' },
        { id: 'ex2-wp', event: 'watchProgress', timestamp: day + 8000, contentId: 'vid-2023', sessionId: 's-2023', data: { from: 0, to: 7 } },
      ];
      assert.equal((await collect(s.url, events, { 'x-reelstat-key': s.writeKey })).json.accepted, 2);
      const t = await getToken();
      const r = await api('POST', '/v1/exports', '{ "name": "Test API POST", "format": "CSV", "scope": "views", "frequency": { "value": "once", ' +
        '"dateRange": { "from": "2023-02-14T00:00:00.000Z", "to": "2023-02-15T00:00:00.000Z" } }, "fields": [ { "fieldName": "session_id" }, ' +
        '{ "fieldName": "url", "aliasName": "page_url" } ], "deviceLabel": "all" }', t);
      assert.equal(r.status, 201, r.text);
      const run = await waitRun(r.json.payload.id, t);
      assert.equal(run.rowCount, 1);
      const rows = parse(await download(run.parts[0]), { columns: true });
      assert.deepEqual(rows, [{ session_id: 's-2023', page_url: 'https://old.test/page' }]);
    } finally {
      clockOffset = 0;
    }
  });
});

describe('Contentsquare: OpenAPI', () => {
  it('every route is documented', async () => {
    const doc = await (await fetch(`${s.url}/api/v1/openapi.json`)).json();
    for (const p of ['/v1/oauth/token', '/v1/exports', '/v1/exports/{jobId}', '/v1/exports/{jobId}/runs', '/v1/exports/{jobId}/runs/{runId}', '/v1/exports/successful-runs', '/v1/exportable-fields']) {
      assert.ok(doc.paths[p], p);
    }
    assert.match(doc.paths['/v1/exports'].post.description, /dateRange/);
    assert.deepEqual(Object.keys(doc.paths['/v1/exports'].post.responses), ['201'], 'a job is created with 201');
  });
});

describe('Contentsquare: daily and hourly jobs run through the scheduler (clock moved)', () => {
  it('daily: one run at 04:00 UTC for the previous UTC day; hourly: one run per ended hour', async () => {
    // Made at noon UTC today whenever the suite runs (a job made before 04:00 runs that morning for
    // the day before: src/exports/windows.test.ts), with a token of that clock.
    const day = Math.floor(Date.now() / DAY) * DAY;
    const created = day + 12 * HOUR;
    clockOffset = created - Date.now();
    const made = await getToken();
    const daily = await createJob({ name: 'daily run', format: 'JSONL', scope: 'sessions', frequency: { value: 'daily' }, deviceLabel: 'all', fields: [{ fieldName: 'session_id' }, { fieldName: 'views' }] }, made);
    const hourly = await createJob({ name: 'hourly run', format: 'CSV', scope: 'views', frequency: { value: 'hourly' }, deviceLabel: 'all', fields: [{ fieldName: 'view_id' }] }, made);
    const tick = () => new Promise((r) => setTimeout(r, 1600)); // the scheduler looks every second
    try {
      clockOffset = day + DAY + 4 * HOUR - 60_000 - Date.now(); // 03:59 UTC the next day
      await tick();
      const t = await getToken();
      assert.equal((await api('GET', `/v1/exports/${daily.id}/runs`, undefined, t)).json.payload.length, 0, 'not before 04:00 UTC');
      const hourStart = Math.floor(created / HOUR) * HOUR;
      const hours = (day + DAY + 3 * HOUR - hourStart) / HOUR;
      let hruns: any[] = [];
      for (let i = 0; i < 200; i++) {
        hruns = (await api('GET', `/v1/exports/${hourly.id}/runs?limit=100&order=asc`, undefined, t)).json.payload;
        if (hruns.length === hours && hruns.every((r) => r.state === 'SUCCESS')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(hruns.length, hours);
      hruns.forEach((r, i) => {
        assert.equal(r.state, 'SUCCESS');
        assert.deepEqual(r.dateRange, { from: iso(hourStart + i * HOUR), to: iso(hourStart + (i + 1) * HOUR) });
      });

      clockOffset = day + DAY + 4 * HOUR + 1000 - Date.now(); // 04:00:01 UTC
      await tick();
      const run = await waitRun(daily.id, t);
      assert.equal(run.state, 'SUCCESS', JSON.stringify(run));
      assert.deepEqual(run.dateRange, { from: iso(day), to: iso(day + DAY) });
      assert.equal(run.rowCount, T >= day ? SESSION_COUNT : 0);
      assert.equal((await api('GET', `/v1/exports/${daily.id}/runs`, undefined, t)).json.payload.length, 1, 'each day once');
      const ok = (await api('GET', '/v1/exports/successful-runs?limit=100', undefined, t)).json.payload;
      assert.ok(ok.some((r: any) => r.id === run.id));
    } finally {
      clockOffset = 0;
    }
  });
});
