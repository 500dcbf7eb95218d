import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseCsv, readXlsx } from './helpers/files.ts';
import { collect, startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
const DAY = 86_400_000;
const T = Math.floor(Date.now() / DAY) * DAY - 2 * DAY + 10 * 3_600_000; // two days ago, 10:00 UTC
const day = new Date(T).toISOString().slice(0, 10);
const at = (sec: number) => new Date(T + sec * 1000).toISOString();
const auth = () => ({ authorization: `Bearer ${s.token}` });
const get = async (path: string) => {
  const r = await fetch(`${s.url}${path}`, { headers: auth() });
  return { status: r.status, json: await r.json() };
};

function session(sid: string, user: string | null, steps: Array<[string, number, Record<string, number>?]>, extra: Record<string, unknown> = {}) {
  return steps.map(([event, sec, data], i) => ({
    id: `${sid}-${i}`, event, timestamp: at(sec), contentId: 'v1', sessionId: sid, ...(user ? { userId: user } : {}), ...(data ? { data } : {}), ...extra,
  }));
}

before(async () => {
  s = await startTestServer();
  await fetch(`${s.url}/api/v1/projects/p1`, { method: 'PUT', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Course' }) });
  await fetch(`${s.url}/api/v1/videos/v1`, { method: 'PUT', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Lesson 1', duration: 40, projectId: 'p1', folder: 'course/week1' }) });
  const events = [
    ...session('s1', 'u1', [['impression', 0], ['playStart', 1], ['watchProgress', 11, { from: 0, to: 10 }], ['watchProgress', 21, { from: 10, to: 20 }]], { url: 'https://www.school.test/lesson/1' }),
    ...session('s2', 'u1', [['impression', 100], ['playStart', 100], ['watchProgress', 103, { from: 0, to: 3 }]], { url: 'https://school.test/lesson/1' }),
    ...session('s3', null, [['impression', 200]], { url: 'https://blog.test/post' }),
    ...session('s4', 'u2', [['impression', 300], ['watchProgress', 340, { from: 0, to: 40 }], ['watchProgress', 350, { from: 0, to: 10 }], ['completion', 351]], { url: 'https://school.test/lesson/2' }),
  ];
  const r = await collect(s.url, events, { 'x-reelstat-key': s.writeKey });
  assert.equal(r.json.accepted, events.length);
  // A bot's session counts nowhere.
  const bot = session('bot', 'crawler', [['impression', 400], ['watchProgress', 420, { from: 0, to: 20 }]], { userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' });
  assert.equal((await collect(s.url, bot, auth())).json.accepted, 2);
});
after(() => s.stop());

describe('native stats API', () => {
  it('aggregates one video by the definitions of metrics.md', async () => {
    const r = await get(`/api/v1/stats?from=${day}&to=${day}&video_id=v1&metrics=player_loads,views,unique_views,view_rate,total_watch_time,avg_watch_time,watch_depth,completion_rate`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json.data, [{
      player_loads: 4, views: 2, unique_views: 3, view_rate: 0.5, total_watch_time: 63, avg_watch_time: 31.5, watch_depth: 63 / 80, completion_rate: 1 / 3,
    }]);
  });
  it('groups by date in a time zone, every day of the period listed', async () => {
    const r = await get(`/api/v1/stats?from=${new Date(T - DAY).toISOString().slice(0, 10)}&to=${day}&dimensions=date&metrics=views,player_loads`);
    assert.deepEqual(r.json.data.map((d: any) => [d.date, d.views, d.player_loads]), [[new Date(T - DAY).toISOString().slice(0, 10), 0, 0], [day, 2, 4]]);
  });
  it('filters by project and folder, and ranks groups', async () => {
    const byProject = await get(`/api/v1/stats?from=${day}&to=${day}&project_id=p1&dimensions=video_id&metrics=views`);
    assert.deepEqual(byProject.json.data, [{ video_id: 'v1', title: 'Lesson 1', views: 2 }], 'video rows carry the catalog title');
    const byFolder = await get(`/api/v1/stats?from=${day}&to=${day}&folder=course&metrics=views`);
    assert.equal(byFolder.json.data[0].views, 2);
    const none = await get(`/api/v1/stats?from=${day}&to=${day}&folder=cour&metrics=views`);
    assert.equal(none.json.data[0].views, 0);
  });
  it('refuses unknown metrics, dimensions, orders, dates and zones with a message', async () => {
    for (const [q, re] of [['metrics=fun', /metrics: "fun"/], ['dimensions=planet', /dimensions/], ['order=nope.desc', /order/], ['from=2026-02-30', /from/], ['tz=Mars/Base', /tz/]] as const) {
      const r = await get(`/api/v1/stats?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.json.error.message, re);
    }
  });
  it('heatmap and retention of a video', async () => {
    const r = await get(`/api/v1/videos/v1/heatmap?from=${day}&to=${day}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const expectHeat = [...Array(3).fill(4), ...Array(7).fill(3), ...Array(10).fill(2), ...Array(20).fill(1)];
    const expectRet = [...Array(3).fill(3), ...Array(17).fill(2), ...Array(20).fill(1)];
    assert.deepEqual(r.json.heatmap, expectHeat);
    assert.deepEqual(r.json.retention, expectRet);
    assert.equal(r.json.hm, '0-2:4,3-9:3,10-19:2,20-39');
  });
  it('referrers grouped by domain with their pages', async () => {
    const r = await get(`/api/v1/referrers?from=${day}&to=${day}`);
    assert.deepEqual(r.json.data, [
      { domain: 'school.test', views: 2, player_loads: 3, view_rate: 2 / 3, pages: [
        { url: 'https://school.test/lesson/2', views: 1, player_loads: 1, view_rate: 1 },
        { url: 'https://www.school.test/lesson/1', views: 1, player_loads: 1, view_rate: 1 },
        { url: 'https://school.test/lesson/1', views: 0, player_loads: 1, view_rate: 0 },
      ] },
      { domain: 'blog.test', views: 0, player_loads: 1, view_rate: 0, pages: [{ url: 'https://blog.test/post', views: 0, player_loads: 1, view_rate: 0 }] },
    ]);
  });
  it('realtime counts sessions playing in the last minute', async () => {
    const now = Date.now();
    await collect(s.url, [{ event: 'playStart', timestamp: now, contentId: 'live', sessionId: 'rt1' }, { event: 'watchProgress', timestamp: now, contentId: 'live', sessionId: 'rt2', data: { from: 0, to: 1 } }, { event: 'impression', timestamp: now, contentId: 'live', sessionId: 'rt3' }], { 'x-reelstat-key': s.writeKey });
    const r = await get('/api/v1/realtime?video_id=live');
    assert.equal(r.json.watching_now, 2, 'the impression-only session is not watching');
    const all = await get('/api/v1/realtime');
    assert.equal(all.json.watching_now, 5, 's1, s2, s4 were received within the minute too; the bot is not counted');
  });
});

describe('named periods, hours, all time, referrer files', () => {
  it('period=… gives the same answer as the dates it names', async () => {
    const named = await get('/api/v1/stats?period=last_30_days&metrics=views,player_loads');
    const dflt = await get('/api/v1/stats?metrics=views,player_loads');
    assert.deepEqual(named.json, dflt.json);
    const y = await get('/api/v1/stats?period=yesterday&tz=Asia/Tokyo&metrics=views');
    const tokyoYesterday = new Date(Date.now() + 9 * 3_600_000 - DAY).toISOString().slice(0, 10);
    const ySpelled = await get(`/api/v1/stats?from=${tokyoYesterday}&to=${tokyoYesterday}&tz=Asia/Tokyo&metrics=views`);
    assert.deepEqual(y.json.meta, ySpelled.json.meta);
    const h = await get('/api/v1/stats?period=last_24_hours&metrics=views');
    assert.ok(Math.abs(Date.parse(h.json.meta.to) - Date.parse(h.json.meta.from) - DAY) <= 1);
  });
  it('refuses an unknown period, and a period with dates', async () => {
    let r = await get('/api/v1/stats?period=last_decade');
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /period: "last_decade" is not accepted; expected one of last_24_hours, last_30_days, all_time, today/);
    r = await get(`/api/v1/stats?period=today&from=${day}`);
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /either period or from\/to/);
  });
  it('groups by local hour, every hour listed, also in a zone half an hour off UTC', async () => {
    const r = await get(`/api/v1/stats?from=${day}&to=${day}&dimensions=hour&metrics=views,player_loads`);
    assert.equal(r.json.data.length, 24);
    assert.equal(r.json.data[0].hour, `${day}T00:00:00+00:00`);
    assert.deepEqual(r.json.data.filter((x: any) => x.player_loads > 0), [{ hour: `${day}T10:00:00+00:00`, views: 2, player_loads: 4 }]);
    const k = await get(`/api/v1/stats?from=${day}&to=${day}&tz=Asia/Kolkata&dimensions=hour&metrics=views,player_loads`);
    assert.equal(k.json.data.length, 24);
    assert.deepEqual(k.json.data.filter((x: any) => x.player_loads > 0), [{ hour: `${day}T15:00:00+05:30`, views: 2, player_loads: 4 }]);
    const long = await get('/api/v1/stats?period=last_year&dimensions=hour');
    assert.equal(long.status, 400);
    assert.match(long.json.error.message, /hour covers at most 31 days/);
  });
  it('all_time by date lists the days from the first with data to today', async () => {
    const r = await get('/api/v1/stats?period=all_time&dimensions=date&metrics=views,player_loads');
    assert.equal(r.status, 200);
    assert.equal(r.json.data[0].date, day);
    assert.equal(r.json.data.at(-1).date, new Date().toISOString().slice(0, 10));
    assert.equal(r.json.data.length, 3);
    const total = (await get('/api/v1/stats?period=all_time&metrics=views,player_loads')).json.data[0];
    assert.equal(r.json.data.reduce((a: number, d: any) => a + d.views, 0), total.views);
  });
  it('referrers download as CSV and XLSX with the numbers of the API', async () => {
    const api = (await get(`/api/v1/referrers?from=${day}&to=${day}`)).json.data;
    const expected = api.flatMap((d: any) => [[d.domain, '', d.views, d.player_loads, d.view_rate], ...d.pages.map((p: any) => [d.domain, p.url, p.views, p.player_loads, p.view_rate])]);
    const csv = await fetch(`${s.url}/api/v1/referrers/export?from=${day}&to=${day}&format=csv`, { headers: auth() });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-disposition') ?? '', new RegExp(`attachment; filename="referrers-${day}-${day}\\.csv"`));
    const rows = parseCsv(Buffer.from(await csv.arrayBuffer()));
    assert.deepEqual(rows.map((r) => [r.domain, r.url, Number(r.views), Number(r.player_loads), Number(r.view_rate)]), expected);
    const xlsx = await fetch(`${s.url}/api/v1/referrers/export?from=${day}&to=${day}&format=xlsx`, { headers: auth() });
    assert.equal(xlsx.status, 200);
    const [sheet] = readXlsx(Buffer.from(await xlsx.arrayBuffer()));
    assert.deepEqual(sheet.rows[0], ['domain', 'url', 'views', 'player_loads', 'view_rate']);
    assert.deepEqual(sheet.rows.slice(1).map((r) => r.map((c) => c ?? '')), expected);
    assert.equal((await fetch(`${s.url}/api/v1/referrers/export?format=pdf`, { headers: auth() })).status, 400);
  });
});

describe('days across DST changes', () => {
  it('the sum of the days equals the total, in several zones', async () => {
    const t = await startTestServer();
    try {
      // Around the 2026 autumn changes: Europe on 25 Oct, USA on 1 Nov (within raw retention of today).
      const start = Date.UTC(2026, 9, 23);
      const events = [];
      for (let h = 0; h < 24 * 12; h += 5) {
        const ts = start + h * 3_600_000 + 17 * 60_000;
        if (ts > Date.now() - 89 * DAY) events.push({ event: 'impression', timestamp: ts, contentId: 'd', sessionId: `dst-${h}` }, { event: 'watchProgress', timestamp: ts + 6000, contentId: 'd', sessionId: `dst-${h}`, data: { from: 0, to: 6 } });
      }
      assert.equal((await collect(t.url, events, { 'x-reelstat-key': t.writeKey })).json.accepted, events.length);
      for (const tz of ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC']) {
        const q = `from=2026-10-22&to=2026-11-04&tz=${encodeURIComponent(tz)}&metrics=views,player_loads`;
        const total = (await (await fetch(`${t.url}/api/v1/stats?${q}`, { headers: { authorization: `Bearer ${t.token}` } })).json()).data[0];
        const days = (await (await fetch(`${t.url}/api/v1/stats?${q}&dimensions=date`, { headers: { authorization: `Bearer ${t.token}` } })).json()).data;
        assert.equal(days.length, 14, tz);
        assert.equal(days.reduce((a: number, d: any) => a + d.views, 0), total.views, tz);
        assert.equal(days.reduce((a: number, d: any) => a + d.player_loads, 0), total.player_loads, tz);
        assert.equal(total.views, events.length / 2, tz);
        const hours = (await (await fetch(`${t.url}/api/v1/stats?${q}&dimensions=hour&limit=1000`, { headers: { authorization: `Bearer ${t.token}` } })).json()).data;
        const instants = hours.map((h: any) => Date.parse(h.hour));
        assert.deepEqual(instants, [...instants].sort((a, b) => a - b), `${tz}: hours in time order`);
        assert.equal(new Set(hours.map((h: any) => h.hour)).size, hours.length, tz);
        if (tz === 'Europe/Berlin') assert.equal(hours.length, 14 * 24 + 1, 'the repeated hour of 25 Oct is listed twice, with two offsets');
        assert.equal(hours.reduce((a: number, d: any) => a + d.views, 0), total.views, tz);
        assert.equal(hours.reduce((a: number, d: any) => a + d.player_loads, 0), total.player_loads, tz);
      }
    } finally {
      await t.stop();
    }
  });
});
