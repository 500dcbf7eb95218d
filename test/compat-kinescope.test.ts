/**
 * The Kinescope analytics dialect end to end: scripted sessions through the collector, then
 * /v1/analytics/overview and /v1/analytics against hand-computed numbers (spec/metrics.md), every
 * error code, and the curl commands of the Kinescope document.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { collect, createAccount, startTestServer, type TestServer } from './helpers/server.ts';

const run = promisify(execFile);
const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);
// Three days with data (D0..D2, 10:01 UTC), and the empty day before them.
const T = [3, 2, 1].map((n) => today - n * DAY + 10 * 3_600_000 + 60_000);
const [D0, D1, D2] = T.map(date);
const DM = date(today - 4 * DAY);
const BOT_UA = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

let s: TestServer;
const auth = () => ({ authorization: `Bearer ${s.token}` });
const get = async (path: string, headers: Record<string, string> = auth()) => {
  const r = await fetch(`${s.url}${path}`, { headers });
  return { status: r.status, headers: r.headers, json: (await r.json()) as any };
};
const put = (path: string, body: unknown) =>
  fetch(`${s.url}${path}`, { method: 'PUT', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(body) });

type Step = [event: string, sec: number, data?: Record<string, number>];
const session = (sid: string, contentId: string, t0: number, steps: Step[], extra: Record<string, unknown> = {}) =>
  steps.map(([event, sec, data], i) => ({
    id: `${sid}-${i}`, event, timestamp: new Date(t0 + sec * 1000).toISOString(), contentId, sessionId: sid, ...(data ? { data } : {}), ...extra,
  }));
const wp = (from: number, to: number): Record<string, number> => ({ from, to });

const M = (player_loads: number, views: number, unique_views: number, total_watch_time: number, watch_depth: number | null) => ({
  player_loads, views, unique_views, view_rate: player_loads ? views / player_loads : null,
  total_watch_time, avg_watch_time: views ? total_watch_time / views : null, watch_depth,
});
// Hand-computed from the sessions below (catalog durations: vA1 40 s, vA2 100 s, vB1 20 s, vX unknown).
const V = {
  vA1: M(4, 2, 3, 20 + 3 + 40, 63 / 80),
  vA2: M(4, 2, 2, 50 + 30, 80 / 200),
  vB1: M(3, 2, 3, 20 + 4 + 10, 34 / 40),
  vX: M(1, 1, 1, 8, null),
};
const TOTAL = M(12, 7, 9, 185, 177 / 320);

before(async () => {
  s = await startTestServer();
  for (const p of ['pA', 'pB']) assert.equal((await put(`/api/v1/projects/${p}`, { name: p })).status, 200);
  for (const [id, projectId, duration] of [['vA1', 'pA', 40], ['vA2', 'pA', 100], ['vB1', 'pB', 20]] as const) {
    assert.equal((await put(`/api/v1/videos/${id}`, { projectId, duration, title: id })).status, 200);
  }
  // D0 and D1 through a write key from loopback: no country.
  const page = [
    ...session('a1', 'vA1', T[0], [['impression', 0], ['playStart', 1], ['watchProgress', 11, wp(0, 10)], ['watchProgress', 21, wp(10, 20)]]),
    ...session('a2', 'vA1', T[0], [['impression', 30], ['playStart', 31], ['watchProgress', 34, wp(0, 3)]]),
    ...session('a3', 'vA1', T[0], [['impression', 60]]),
    ...session('b1', 'vA2', T[1], [['impression', 0], ['watchProgress', 50, wp(0, 50)]]),
    ...session('b2', 'vA2', T[1], [['impression', 0], ['impression', 5], ['watchProgress', 35, wp(0, 30)], ['watchProgress', 75, wp(0, 30)]]),
    ...session('b3', 'vB1', T[1], [['impression', 100], ['watchProgress', 120, wp(0, 20)]]),
    ...session('b4', 'vX', T[1], [['impression', 200], ['watchProgress', 208, wp(0, 8)]]),
  ];
  assert.deepEqual((await collect(s.url, page, { 'x-reelstat-key': s.writeKey })).json, { accepted: page.length, duplicates: 0, rejected: [] });
  // D2 through an API token, with the viewers' addresses: 8.8.8.8 in the US, 81.2.69.142 in GB.
  const US = { ip: '8.8.8.8' };
  const GB = { ip: '81.2.69.142' };
  const server = [
    ...session('c1', 'vA1', T[2], [['impression', 0], ['watchProgress', 40, wp(0, 40)]], US),
    ...session('c2', 'vB1', T[2], [['impression', 0], ['watchProgress', 4, wp(0, 4)]], US),
    ...session('c3', 'vB1', T[2], [['impression', 0], ['watchProgress', 10, wp(0, 10)]], GB),
    ...session('c4', 'vA2', T[2], [['impression', 0]], GB),
    // A bot counts nowhere.
    ...session('bot', 'vA1', T[2], [['impression', 0], ['watchProgress', 30, wp(0, 30)]], { ...US, userAgent: BOT_UA }),
  ];
  assert.equal((await collect(s.url, server, auth())).json.accepted, server.length);
});
after(() => s.stop());

const period = `from=${D0}&to=${D2}`;
const keys = (r: { json: any }, k: string) => r.json.data.map((d: any) => d[k]);

describe('kinescope overview', () => {
  it('totals the period by the definitions of metrics.md', async () => {
    const r = await get(`/v1/analytics/overview?${period}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json, { data: TOTAL });
    assert.deepEqual(Object.keys(r.json.data), ['player_loads', 'views', 'unique_views', 'view_rate', 'total_watch_time', 'avg_watch_time', 'watch_depth']);
  });
  it('filters by project and by video', async () => {
    assert.deepEqual((await get(`/v1/analytics/overview?${period}&project_id=pB`)).json, { data: V.vB1 });
    assert.deepEqual((await get(`/v1/analytics/overview?${period}&video_id=vA2`)).json, { data: V.vA2 });
    assert.deepEqual((await get(`/v1/analytics/overview?${period}&video_id=vX`)).json.data.watch_depth, null, 'no duration known');
    assert.deepEqual((await get(`/v1/analytics/overview?${period}&project_id=nope`)).json, { data: M(0, 0, 0, 0, null) });
  });
  it('takes RFC 3339 bounds and whole days alike; a day outside the data is empty', async () => {
    const day = await get(`/v1/analytics/overview?from=${D1}&to=${D1}`);
    assert.deepEqual(day.json.data, M(5, 4, 4, 108, 100 / 220));
    const instants = await get(`/v1/analytics/overview?from=${D1}T00:00:00Z&to=${D1}T23:59:59Z`);
    assert.deepEqual(instants.json, day.json);
    const firstHour = await get(`/v1/analytics/overview?from=${D1}T10:00:00Z&to=${D1}T10:01:30Z`);
    assert.deepEqual(firstHour.json.data.player_loads, 3, 'b1, b2 (twice) load by 10:01:30; b3, b4 later');
    assert.deepEqual((await get(`/v1/analytics/overview?from=${DM}&to=${DM}`)).json.data, M(0, 0, 0, 0, null));
  });
  it('another account sees none of it', async () => {
    const other = await createAccount(s.url, 'Other', 'other@kinescope.test');
    const r = await get(`/v1/analytics/overview?${period}`, { authorization: `Bearer ${other.apiToken}` });
    assert.deepEqual(r.json, { data: M(0, 0, 0, 0, null) });
  });
});

describe('kinescope grouped analytics', () => {
  it('group_by=video_id, ranked by views, player_loads, then id', async () => {
    const r = await get(`/v1/analytics?${period}&group_by=video_id`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json, {
      data: (['vA1', 'vA2', 'vB1', 'vX'] as const).map((v) => ({ video_id: v, ...V[v] })),
      meta: { pagination: { page: 1, per_page: 10, total: 4 } },
    });
  });
  it('group_by=project_id, videos without a project under null', async () => {
    const r = await get(`/v1/analytics?${period}&group_by=project_id`);
    assert.deepEqual(r.json.data, [
      { project_id: 'pA', ...M(8, 4, 5, 143, 143 / 280) },
      { project_id: 'pB', ...V.vB1 },
      { project_id: null, ...V.vX },
    ]);
    const filtered = await get(`/v1/analytics?${period}&group_by=video_id&project_id=pA`);
    assert.deepEqual(keys(filtered, 'video_id'), ['vA1', 'vA2']);
  });
  it('group_by=date lists every day of the period in order, empty days included', async () => {
    const r = await get(`/v1/analytics?from=${DM}&to=${D2}&group_by=date`);
    assert.deepEqual(r.json, {
      data: [
        { date: DM, ...M(0, 0, 0, 0, null) },
        { date: D0, ...M(3, 1, 2, 23, 23 / 40) },
        { date: D1, ...M(5, 4, 4, 108, 100 / 220) },
        { date: D2, ...M(4, 2, 3, 54, 54 / 60) },
      ],
      meta: { pagination: { page: 1, per_page: 10, total: 4 } },
    });
    const desc = await get(`/v1/analytics?from=${DM}&to=${D2}&group_by=date&order=date.desc`);
    assert.deepEqual(keys(desc, 'date'), [D2, D1, D0, DM]);
    const byViews = await get(`/v1/analytics?from=${DM}&to=${D2}&group_by=date&order=views.desc&per_page=2`);
    assert.deepEqual(keys(byViews, 'date'), [D1, D2]);
  });
  it('group_by=date names the days in tz (extension)', async () => {
    // 10:01 UTC is 00:01 of the next day at UTC+14.
    const r = await get(`/v1/analytics?from=${D0}&to=${date(today)}&group_by=date&tz=Pacific/Kiritimati`);
    assert.deepEqual(r.json.data.map((d: any) => [d.date, d.views]), [[D0, 0], [D1, 1], [D2, 4], [date(today), 2]]);
  });
  it('group_by=country from the viewers addresses', async () => {
    const r = await get(`/v1/analytics?${period}&group_by=country`);
    assert.deepEqual(r.json.data, [
      { country: null, ...M(8, 5, 6, 131, 123 / 260) },
      { country: 'GB', ...M(2, 1, 1, 10, 10 / 20) },
      { country: 'US', ...M(2, 1, 2, 44, 44 / 40) },
    ]);
  });
  it('pages through the groups', async () => {
    const p1 = await get(`/v1/analytics?${period}&group_by=video_id&per_page=3`);
    assert.deepEqual(keys(p1, 'video_id'), ['vA1', 'vA2', 'vB1']);
    assert.deepEqual(p1.json.meta, { pagination: { page: 1, per_page: 3, total: 4 } });
    const p2 = await get(`/v1/analytics?${period}&group_by=video_id&per_page=3&page=2`);
    assert.deepEqual(p2.json.data, [{ video_id: 'vX', ...V.vX }]);
    assert.deepEqual(p2.json.meta, { pagination: { page: 2, per_page: 3, total: 4 } });
    const p3 = await get(`/v1/analytics?${period}&group_by=video_id&per_page=3&page=3`);
    assert.deepEqual(p3.json, { data: [], meta: { pagination: { page: 3, per_page: 3, total: 4 } } });
    const max = await get(`/v1/analytics?from=${date(today - 120 * DAY)}&to=${D2}&group_by=date&per_page=100&page=2`);
    assert.equal(max.json.data.length, 20, '120 days, 100 on the first page');
    assert.deepEqual(max.json.data.at(-1), { date: D2, ...M(4, 2, 3, 54, 54 / 60) });
    assert.deepEqual(max.json.meta.pagination, { page: 2, per_page: 100, total: 120 });
  });
  it('orders by a metric or the group key, either way', async () => {
    const cases: Array<[string, string[]]> = [
      ['total_watch_time.desc', ['vA2', 'vA1', 'vB1', 'vX']],
      ['total_watch_time.asc', ['vX', 'vB1', 'vA1', 'vA2']],
      ['views.asc', ['vX', 'vA1', 'vA2', 'vB1']], // ties keep the default ranking
      ['avg_watch_time.asc', ['vX', 'vB1', 'vA1', 'vA2']],
      ['player_loads.desc', ['vA1', 'vA2', 'vB1', 'vX']],
      ['video_id.desc', ['vX', 'vB1', 'vA2', 'vA1']],
      ['video_id.asc', ['vA1', 'vA2', 'vB1', 'vX']],
    ];
    for (const [order, want] of cases) {
      const r = await get(`/v1/analytics?${period}&group_by=video_id&order=${order}`);
      assert.equal(r.status, 200, order);
      assert.deepEqual(keys(r, 'video_id'), want, order);
    }
    const c = await get(`/v1/analytics?${period}&group_by=country&order=country.desc`);
    assert.deepEqual(keys(c, 'country'), ['US', 'GB', null], 'rows without a value go last in either direction');
    const ca = await get(`/v1/analytics?${period}&group_by=country&order=country.asc`);
    assert.deepEqual(keys(ca, 'country'), ['GB', 'US', null]);
  });
});

describe('kinescope errors', () => {
  const cases: Array<[string, number, RegExp]> = [
    [`/v1/analytics/overview?to=${D2}`, 400400, /^from: required/],
    [`/v1/analytics/overview?from=${D0}`, 400400, /^to: required/],
    [`/v1/analytics/overview?from=&to=${D2}`, 400400, /^from: required/],
    [`/v1/analytics/overview?from=2026-02-30&to=${D2}`, 400400, /^from: "2026-02-30" is not a date; expected YYYY-MM-DD or RFC 3339/],
    [`/v1/analytics/overview?from=${D0}T00:00:00&to=${D2}`, 400400, /^from: .* is not a date/],
    [`/v1/analytics/overview?from=${D2}&to=${D0}`, 400400, /^to: must not be before from/],
    [`/v1/analytics/overview?${period}&project_id=`, 400400, /^project_id: empty/],
    [`/v1/analytics/overview?${period}&video_id=`, 400400, /^video_id: empty/],
    [`/v1/analytics/overview?${period}&tz=Mars/Base`, 400400, /^tz: "Mars\/Base" is not an IANA time zone/],
    [`/v1/analytics/overview?${period}&from=${D0}`, 400400, /^from: given 2 times/],
    [`/v1/analytics?${period}`, 400400, /^group_by: required; expected one of video_id, project_id, date, country/],
    [`/v1/analytics?${period}&group_by=planet`, 400400, /^group_by: "planet" is not accepted/],
    [`/v1/analytics?${period}&group_by=video_id,date`, 400400, /^group_by: "video_id,date" is not accepted/],
    [`/v1/analytics?group_by=video_id&to=${D2}`, 400400, /^from: required/],
    [`/v1/analytics?${period}&group_by=video_id&per_page=0`, 400400, /^per_page: "0" is not accepted; expected an integer from 1 to 100/],
    [`/v1/analytics?${period}&group_by=video_id&per_page=101`, 400400, /^per_page: "101" is not accepted; expected an integer from 1 to 100/],
    [`/v1/analytics?${period}&group_by=video_id&per_page=ten`, 400400, /^per_page: "ten"/],
    [`/v1/analytics?${period}&group_by=video_id&page=0`, 400400, /^page: "0" is not accepted; expected an integer ≥ 1/],
    [`/v1/analytics?${period}&group_by=video_id&page=-1`, 400400, /^page: "-1"/],
    [`/v1/analytics?${period}&group_by=video_id&order=views.sideways`, 400400, /^order: direction "sideways" is not accepted; expected asc or desc/],
    [`/v1/analytics?${period}&group_by=video_id&order=views`, 400400, /^order: "views" is not accepted; expected field.direction/],
    [`/v1/analytics?${period}&group_by=video_id&order=nope.desc`, 400216, /^order: "nope" is not a sort field; expected one of video_id, player_loads, views/],
    [`/v1/analytics?${period}&group_by=video_id&order=country.asc`, 400216, /^order: "country" is not a sort field/],
    [`/v1/analytics?${period}&group_by=video_id&order=completion_rate.desc`, 400216, /not a sort field/],
    [`/v1/analytics?from=1980-01-01&to=${D2}&group_by=date`, 400400, /^group_by: date lists at most 3700 days/],
    // A date-time of a day that does not exist was read as the next one (Date.parse rolls it over).
    [`/v1/analytics/overview?from=2026-11-31T00:00:00Z&to=${D2}`, 400400, /^from: "2026-11-31T00:00:00Z" is not a date/],
    [`/v1/analytics/overview?from=${D0}&to=${D0}T24:00:00Z`, 400400, /^to: .* is not a date/],
  ];
  it('group_by=date over 3,651–3,700 days lists every day (the stats listed only days with data past 3,650)', async () => {
    const r = await get(`/v1/analytics?from=${date(today - 3682 * DAY)}&to=${date(today)}&group_by=date&per_page=1`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.meta.pagination.total, 3683);
  });
  for (const [path, code, message] of cases) {
    it(`${code} for ${path.replace(/\d{4}-\d{2}-\d{2}/g, 'D')}`, async () => {
      const r = await get(path);
      assert.equal(r.status, 400, JSON.stringify(r.json));
      assert.deepEqual(Object.keys(r.json), ['error']);
      assert.deepEqual(Object.keys(r.json.error), ['code', 'message']);
      assert.equal(r.json.error.code, code);
      assert.match(r.json.error.message, message);
    });
  }
  it('401 without a valid API token, before the parameters are looked at', async () => {
    const bad: Array<Record<string, string>> = [{}, { authorization: 'Bearer rs_wrong' }, { authorization: `Basic ${Buffer.from(`api:${s.token}`).toString('base64')}` }, { authorization: `Bearer ${s.writeKey}` }];
    for (const headers of bad) {
      for (const path of [`/v1/analytics/overview?${period}`, '/v1/analytics?group_by=planet']) {
        const r = await get(path, headers);
        assert.equal(r.status, 401, `${path} ${JSON.stringify(headers)}`);
        assert.equal(r.json.error.code, 401);
        assert.match(r.json.error.message, /token|credentials/i);
      }
    }
  });
  it('the routes are in the OpenAPI document under the kinescope tag', async () => {
    const doc = (await get('/api/v1/openapi.json')).json;
    for (const path of ['/v1/analytics/overview', '/v1/analytics']) {
      assert.deepEqual(doc.paths[path].get.tags, ['kinescope'], path);
      assert.match(doc.paths[path].get.description, /400400[\s\S]*400216[\s\S]*401/);
      assert.ok(doc.paths[path].get.parameters.some((p: any) => p.name === 'from' && p.in === 'query' && p.required), path);
    }
  });
});

describe('the curl commands of the Kinescope document', () => {
  const curl = async (query: string) => {
    const { stdout } = await run('curl', ['-sS', '-X', 'GET', `${s.url}/v1/analytics${query}`, '-H', `Authorization: Bearer ${s.token}`, '-w', '\n%{http_code}']);
    const nl = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(nl + 1)), json: JSON.parse(stdout.slice(0, nl)) };
  };
  it('overall statistics for a period', async () => {
    const r = await curl(`/overview?from=${D0}&to=${D2}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { data: TOTAL });
  });
  it('detailed statistics grouped by video, by views descending', async () => {
    const r = await curl(`?from=${D0}&to=${D2}&group_by=video_id&order=views.desc&per_page=10`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      data: (['vA1', 'vA2', 'vB1', 'vX'] as const).map((v) => ({ video_id: v, ...V[v] })),
      meta: { pagination: { page: 1, per_page: 10, total: 4 } },
    });
  });
});
