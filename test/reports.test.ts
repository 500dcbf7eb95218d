// Reports (spec/exports.md "Reports"): the real server on loopback with an injectable clock, events
// through the collector, a real SMTP server receiving the one email, the emailed link downloading a
// ZIP read with unzip, csv-parse and openpyxl. Expected numbers are worked out by hand below.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { collect, createAccount, startTestServer, type TestServer } from './helpers/server.ts';
import { parseCsv, readXlsx, unzipMember, unzipTest } from './helpers/files.ts';

const NOW = Date.UTC(2026, 0, 14, 12, 0, 0); // Wednesday 14 January 2026, 12:00 UTC
const T = Date.UTC(2026, 0, 14, 10, 0, 0); // events of "today"
const FIELDS = ['project_id', 'project_name', 'video_id', 'stream_id', 'event_id', 'title', 'duration', 'folder_name', 'folder_id',
  'player_loads', 'unique_views', 'views', 'total_watch_time', 'view_rate', 'peak_concurrent_viewers'];

let s: TestServer;
let smtp: SMTPServer;
const inbox: Array<{ to: string[]; raw: string }> = [];
let clockOffset = 0;

const auth = (token = s.token) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
const put = async (path: string, body: unknown, token = s.token) => {
  const r = await fetch(`${s.url}${path}`, { method: 'PUT', headers: auth(token), body: JSON.stringify(body) });
  assert.equal(r.status, 200, `${path}: ${await r.text()}`);
};
const post = (body: unknown, token = s.token) => fetch(`${s.url}/api/v1/reports`, { method: 'POST', headers: auth(token), body: JSON.stringify(body) });

async function waitReport(id: string, token = s.token) {
  for (let i = 0; i < 400; i++) {
    const r = await (await fetch(`${s.url}/api/v1/reports/${id}`, { headers: auth(token) })).json();
    if (r.status === 'completed' || r.status === 'failed') return r;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error('report not finished');
}

async function report(body: Record<string, unknown>, token = s.token) {
  const r = await post(body, token);
  const created = await r.json();
  assert.equal(r.status, 202, JSON.stringify(created));
  assert.equal(created.status, 'pending');
  const done = await waitReport(created.id, token);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  return done;
}

async function zipOf(url: string): Promise<Buffer> {
  const r = await fetch(url);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/zip');
  const zip = Buffer.from(await r.arrayBuffer());
  // A report's link resumes like an export's: its last bytes by a range.
  const tail = await fetch(url, { headers: { range: 'bytes=-22' } });
  assert.equal(tail.status, 206);
  assert.deepEqual(Buffer.from(await tail.arrayBuffer()), zip.subarray(-22));
  return zip;
}

/** The report's one data file, parsed: CSV rows as objects of strings. */
async function csvRows(url: string) {
  const zip = await zipOf(url);
  const names = unzipTest(zip);
  assert.equal(names.length, 1, `one file in the ZIP: ${names}`);
  assert.match(names[0]!, /\.csv$/);
  return parseCsv(unzipMember(zip, names[0]!));
}

async function waitEmail(to: string) {
  for (let i = 0; i < 400; i++) {
    const m = inbox.find((x) => x.to.includes(to));
    if (m) return m;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`no email to ${to}`);
}

/** The download link in a message (quoted-printable undone). */
function linkIn(raw: string): string {
  const text = raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  const m = /(http:\/\/127\.0\.0\.1:\d+\/downloads\/reports\/[^\s"<>]+)/.exec(text);
  assert.ok(m, 'a download link in the email');
  return m[1]!.replace(/&amp;/g, '&');
}

const at = (ms: number) => new Date(ms).toISOString();

before(async () => {
  smtp = new SMTPServer({
    authOptional: true, secure: false, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  const port = (smtp.server.address() as AddressInfo).port;
  s = await startTestServer({ REELSTAT_SMTP_URL: `smtp://127.0.0.1:${port}`, REELSTAT_SMTP_FROM: 'reports@reelstat.test' }, { now: () => NOW + clockOffset });

  // The catalog: folders a, a/b, a/b/c, ab (not inside a), c, and an entry without a folder.
  await put('/api/v1/projects/p1', { name: 'Project One' });
  await put('/api/v1/projects/p2', { name: 'Second, "quoted"' });
  await put('/api/v1/videos/a1', { title: '=HYPERLINK("http://x")', duration: 100, kind: 'video', projectId: 'p1', folder: 'a' });
  await put('/api/v1/videos/a2', { title: 'Stream 😀, live\r\nnow', duration: 60, kind: 'stream', projectId: 'p2', folder: 'a/b' });
  await put('/api/v1/videos/a3', { title: '-minus', kind: 'event', folder: 'a/b/c' });
  await put('/api/v1/videos/ab', { title: 'Not in a', duration: 10, folder: 'ab' });
  await put('/api/v1/videos/c1', { title: 'C one', duration: 30, folder: 'c' });
  await put('/api/v1/videos/root', { title: 'No folder', duration: 20 });
  await put('/api/v1/videos/zero', { title: '@nothing happened', duration: 45, folder: 'a', projectId: 'p1' });

  const e = (id: string, event: string, contentId: string, sessionId: string, t: number, data?: unknown) =>
    ({ id, event, contentId, sessionId, timestamp: at(t), ...(data ? { data } : {}) });
  const events = [
    // a1 (100 s): s1 watches 0→10 (a view, 10 s); s2 watches 0→3 (played, 3 s, not a view); s3 only loads.
    e('1', 'impression', 'a1', 's1', T), e('2', 'playStart', 'a1', 's1', T + 1000), e('3', 'watchProgress', 'a1', 's1', T + 11_000, { from: 0, to: 10 }),
    e('4', 'impression', 'a1', 's2', T), e('5', 'watchProgress', 'a1', 's2', T + 3000, { from: 0, to: 3 }),
    e('6', 'impression', 'a1', 's3', T + 20_000),
    // a2 (60 s): s4 0→5 then 5→12 (one run, 12 s), s5 0→6 two minutes later; both views.
    e('7', 'impression', 'a2', 's4', T), e('8', 'watchProgress', 'a2', 's4', T + 5000, { from: 0, to: 5 }), e('9', 'watchProgress', 'a2', 's4', T + 12_000, { from: 5, to: 12 }),
    e('10', 'impression', 'a2', 's5', T + 120_000), e('11', 'watchProgress', 'a2', 's5', T + 126_000, { from: 0, to: 6 }),
    // a3 (no duration): s6 0→8, a view.
    e('12', 'impression', 'a3', 's6', T), e('13', 'watchProgress', 'a3', 's6', T + 8000, { from: 0, to: 8 }),
    // ab: outside folder a.
    e('14', 'impression', 'ab', 's7', T), e('15', 'watchProgress', 'ab', 's7', T + 5000, { from: 0, to: 5 }),
    // c1 yesterday: counts in yesterday's reports only.
    e('16', 'impression', 'c1', 's8', T - 86_400_000), e('17', 'watchProgress', 'c1', 's8', T - 86_400_000 + 6000, { from: 0, to: 6 }),
  ];
  const r = await collect(s.url, events, { 'x-reelstat-key': s.writeKey });
  assert.equal(r.json.accepted, events.length, r.text);
});

after(async () => {
  await s.stop();
  await new Promise<void>((r) => smtp.close(() => r()));
});

// Hand-computed rows for today (14 January 2026), CSV text.
const A1 = { project_id: 'p1', project_name: 'Project One', video_id: 'a1', stream_id: '', event_id: '', title: `'=HYPERLINK("http://x")`, duration: '100',
  folder_name: 'a', player_loads: '3', unique_views: '2', views: '1', total_watch_time: '13', view_rate: '0.13', peak_concurrent_viewers: '2' };
const A2 = { project_id: 'p2', project_name: 'Second, "quoted"', video_id: '', stream_id: 'a2', event_id: '', title: 'Stream 😀, live\r\nnow', duration: '60',
  folder_name: 'a/b', player_loads: '2', unique_views: '2', views: '2', total_watch_time: '18', view_rate: '0.15', peak_concurrent_viewers: '1' };
const A3 = { project_id: '', project_name: '', video_id: '', stream_id: '', event_id: 'a3', title: "'-minus", duration: '',
  folder_name: 'a/b/c', player_loads: '1', unique_views: '1', views: '1', total_watch_time: '8', view_rate: '0', peak_concurrent_viewers: '1' };
const ZERO = { project_id: 'p1', project_name: 'Project One', video_id: 'zero', stream_id: '', event_id: '', title: "'@nothing happened", duration: '45',
  folder_name: 'a', player_loads: '0', unique_views: '0', views: '0', total_watch_time: '0', view_rate: '0', peak_concurrent_viewers: '0' };
const noFolderId = (r: Record<string, string>) => {
  const { folder_id, ...rest } = r;
  return rest;
};

describe('reports', () => {
  it('CSV for folder "a" (nested folders in, "ab" out), emailed once with a signed link to a ZIP', async () => {
    const to = 'owner@example.com';
    const done = await report({ period: 'today', folders: ['a'], format: 'csv', email: to });
    assert.deepEqual(done.period, { preset: 'today', from: '2026-01-14', to: '2026-01-14', tz: 'UTC' });
    assert.equal(done.rows, 4);
    assert.deepEqual(done.fields, FIELDS);
    const mail = await waitEmail(to);
    const link = linkIn(mail.raw);
    assert.equal(link, done.url);
    assert.equal(link, done.file.url);
    const rows = await csvRows(link);
    assert.deepEqual(Object.keys(rows[0]!), FIELDS);
    assert.deepEqual(rows.map(noFolderId), [A1, A2, A3, ZERO]);
    // folder ids: stable per path, the same for a1 and zero (both in "a"), different for a/b
    assert.match(rows[0]!.folder_id!, /^fld_[0-9a-f]{16}$/);
    assert.equal(rows[0]!.folder_id, rows[3]!.folder_id);
    assert.notEqual(rows[0]!.folder_id, rows[1]!.folder_id);
    for (const r of rows) for (const v of Object.values(r)) assert.ok(!/^[=+\-@\t\r]/.test(v), `a cell starts a formula: ${v}`);
    // one report, one email
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(inbox.filter((m) => m.to.includes(to)).length, 1);
    const again = await (await fetch(`${s.url}/api/v1/reports/${done.id}`, { headers: auth() })).json();
    assert.deepEqual(again.email, { to, status: 'sent', error: null });
  });

  it('the numbers equal the stats API for the same day', async () => {
    const st = await (await fetch(`${s.url}/api/v1/stats?from=2026-01-14&to=2026-01-14&dimensions=video_id&metrics=player_loads,unique_views,views,total_watch_time,watch_depth,peak_concurrent_viewers`, { headers: auth() })).json();
    const a1 = st.data.find((r: any) => r.video_id === 'a1' || r.key?.video_id === 'a1');
    assert.ok(a1, JSON.stringify(st).slice(0, 400));
    const m = a1.metrics ?? a1;
    assert.deepEqual([m.player_loads, m.unique_views, m.views, m.total_watch_time, m.watch_depth, m.peak_concurrent_viewers], [3, 2, 1, 13, 0.13, 2]);
  });

  it('XLSX with chosen fields in the chosen order, read by openpyxl', async () => {
    const done = await report({ period: 'custom', from: '2026-01-14', to: '2026-01-14', folders: ['a/b'], format: 'xlsx', fields: ['title', 'views', 'stream_id', 'view_rate', 'duration'] });
    const zip = await zipOf(done.url);
    const names = unzipTest(zip);
    assert.equal(names.length, 1);
    assert.match(names[0]!, /\.xlsx$/);
    const sheets = readXlsx(unzipMember(zip, names[0]!));
    assert.equal(sheets.length, 1);
    assert.deepEqual(sheets[0]!.rows, [
      ['title', 'views', 'stream_id', 'view_rate', 'duration'],
      ['Stream 😀, live\r\nnow', 2, 'a2', 0.15, 60],
      ["'-minus", 1, null, 0, null],
    ]);
  });

  it('several folders, the whole catalog, and yesterday', async () => {
    const two = await csvRows((await report({ period: 'today', folders: ['a/b', 'c', 'a/b/c'], fields: ['video_id', 'stream_id', 'event_id', 'views'] })).url);
    assert.deepEqual(two, [
      { video_id: '', stream_id: 'a2', event_id: '', views: '2' },
      { video_id: '', stream_id: '', event_id: 'a3', views: '1' },
      { video_id: 'c1', stream_id: '', event_id: '', views: '0' },
    ]);
    const all = await csvRows((await report({ period: 'yesterday', fields: ['video_id', 'stream_id', 'event_id', 'folder_name', 'views', 'total_watch_time'] })).url);
    assert.deepEqual(all.map((r) => [r.video_id || r.stream_id || r.event_id, r.folder_name, r.views, r.total_watch_time]), [
      ['a1', 'a', '0', '0'], ['a2', 'a/b', '0', '0'], ['a3', 'a/b/c', '0', '0'], ['ab', 'ab', '0', '0'],
      ['c1', 'c', '1', '6'], ['root', '', '0', '0'], ['zero', 'a', '0', '0'],
    ]);
    // bom: the CSV starts with a UTF-8 byte order mark (Excel then reads it as UTF-8), its rows unchanged.
    const marked = await report({ period: 'today', folders: ['a/b', 'c', 'a/b/c'], fields: ['video_id', 'stream_id', 'event_id', 'views'], bom: true });
    assert.equal(marked.bom, true);
    const zip = await zipOf(marked.url);
    const csv = unzipMember(zip, unzipTest(zip)[0]!);
    assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.deepEqual(parseCsv(csv.subarray(3)), two);
  });

  it('a report with no email has its link only through GET; the list shows it', async () => {
    const done = await report({ period: 'all_time', folders: ['c'] });
    assert.deepEqual(done.period, { preset: 'all_time', from: null, to: null, tz: 'UTC' });
    assert.equal(done.email, null);
    assert.equal(done.rows, 1);
    const list = await (await fetch(`${s.url}/api/v1/reports?limit=100`, { headers: auth() })).json();
    assert.ok(list.data.some((r: any) => r.id === done.id));
    assert.ok(list.data.length >= 5);
    assert.ok(list.data[0].createdAt >= list.data.at(-1).createdAt);
  });

  it('signed links: altered → 403, expired → 410 and the report shows expired', async () => {
    const done = await report({ period: 'today', folders: ['c'] });
    const url = new URL(done.url);
    const sig = url.searchParams.get('sig')!;
    const bad = new URL(url);
    bad.searchParams.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    assert.equal((await fetch(bad)).status, 403);
    const other = new URL(url.toString().replace(done.id, done.id.slice(0, -1) + (done.id.endsWith('a') ? 'b' : 'a')));
    assert.equal((await fetch(other)).status, 403);
    clockOffset = 7 * 86_400_000 + 1000;
    try {
      assert.equal((await fetch(url)).status, 410);
      const r = await (await fetch(`${s.url}/api/v1/reports/${done.id}`, { headers: auth() })).json();
      assert.equal(r.status, 'expired');
      assert.equal(r.url, null);
    } finally {
      clockOffset = 0;
    }
  });

  it('refuses bad requests with what was wrong and what is accepted', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /period: required; expected one of all_time, today/],
      [{ period: 'last_decade' }, /period: "last_decade" is not accepted; expected one of .*custom/],
      [{ period: 'custom' }, /from and to: both required with period custom/],
      [{ period: 'custom', from: '2026-01-01' }, /from and to: both required/],
      [{ period: 'custom', from: '2026-02-30', to: '2026-03-01' }, /from: "2026-02-30" is not a date; expected YYYY-MM-DD/],
      [{ period: 'custom', from: '2026-03-02', to: '2026-03-01' }, /to: 2026-03-01 is before from 2026-03-02/],
      [{ period: 'today', from: '2026-01-01', to: '2026-01-02' }, /only with period custom/],
      [{ period: 'today', tz: 'Mars/Olympus' }, /tz: "Mars\/Olympus" is not an IANA time zone/],
      [{ period: 'today', folders: { a: 1 } }, /folders must be array/],
      [{ period: 'today', folders: ['/a'] }, /folders\[0\]: "\/a" is not a folder path/],
      [{ period: 'today', folders: ['a', 'a//b'] }, /folders\[1\]: "a\/\/b" is not a folder path/],
      [{ period: 'today', folders: ['nope'] }, /folders\[0\]: no content in this account is in folder "nope"/],
      [{ period: 'today', folders: ['a/b/c/d'] }, /no content .* "a\/b\/c\/d"/],
      [{ period: 'today', fields: ['views', 'plays'] }, /fields\[1\]: unknown field "plays"; accepted: project_id, project_name/],
      [{ period: 'today', fields: ['views', 'views'] }, /selected twice/],
      [{ period: 'today', fields: [] }, /fields: expected a non-empty list/],
      [{ period: 'today', format: 'pdf' }, /format: "pdf" is not accepted; expected csv or xlsx/],
      [{ period: 'today', format: 'xlsx', bom: true }, /bom: a byte order mark applies to CSV only/],
      [{ period: 'today', bom: 'yes' }, /bom must be boolean/],
      // values of another type are refused, not coerced
      [{ period: 'today', bom: 'true' }, /bom: expected true or false/],
      [{ period: 'today', bom: 1 }, /bom: expected true or false/],
      [{ period: 'today', folders: 'a' }, /folders: expected a list of folder paths/],
      [{ period: 'today', fields: 'views' }, /fields: expected a non-empty list/],
      [{ period: 'x'.repeat(5000) }, /^period: "x{79}… \(5002 characters\) is not accepted/],
      [{ period: 'today', email: 'not-an-address' }, /email: .*not a valid email address/],
      [{ period: 'today', email: 'a@b.c, d@e.f' }, /email: .*one plain address/],
      [{ period: 'today', colour: 'red' }, /colour: unknown parameter; accepted: period, from, to/],
    ];
    for (const [body, re] of cases) {
      const r = await post(body);
      const j = await r.json();
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${JSON.stringify(j)}`);
      assert.equal(j.error.code, 'validation_failed');
      assert.match(j.error.message, re, JSON.stringify(body));
    }
    const noAuth = await fetch(`${s.url}/api/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"period":"today"}' });
    assert.equal(noAuth.status, 401);
    assert.equal((await fetch(`${s.url}/api/v1/reports/rep_missing`, { headers: auth() })).status, 404);
  });
});

describe('report periods (clock fixed at Wednesday 2026-01-14 12:00 UTC)', () => {
  let token: string;
  before(async () => {
    // A second account: its reports must not see the first account's catalog, and the reverse.
    const b = await createAccount(s.url, 'Periods', 'periods@example.com');
    token = b.apiToken;
    await put('/api/v1/videos/pv', { title: 'Periods', duration: 50, folder: 'p' }, token);
    const days: Array<[string, number]> = [
      ['today', T], ['yesterday', Date.UTC(2026, 0, 13, 10)], ['monday-0030', Date.UTC(2026, 0, 12, 0, 30)], ['last-week', Date.UTC(2026, 0, 8, 10)],
      ['this-month', Date.UTC(2026, 0, 2, 10)], ['last-month', Date.UTC(2025, 11, 20, 10)], ['last-year', Date.UTC(2025, 10, 1, 10)],
    ];
    const events = days.flatMap(([sid, t]) => [
      { id: `${sid}-i`, event: 'impression', contentId: 'pv', sessionId: sid, timestamp: at(t) },
      { id: `${sid}-w`, event: 'watchProgress', contentId: 'pv', sessionId: sid, timestamp: at(t + 5000), data: { from: 0, to: 5 } },
    ]);
    const r = await collect(s.url, events, { 'x-reelstat-key': b.writeKey });
    assert.equal(r.json.accepted, events.length, r.text);
  });

  const views = async (body: Record<string, unknown>) => {
    const done = await report({ fields: ['video_id', 'views', 'player_loads'], ...body }, token);
    const rows = await csvRows(done.url);
    assert.deepEqual(rows.map((r) => r.video_id), ['pv'], 'only this account\'s catalog');
    assert.equal(rows[0]!.player_loads, rows[0]!.views);
    return { views: Number(rows[0]!.views), period: done.period };
  };

  it('each preset covers its whole local days; weeks start on Monday', async () => {
    const want: Array<[string, number, string | null, string | null]> = [
      ['today', 1, '2026-01-14', '2026-01-14'],
      ['yesterday', 1, '2026-01-13', '2026-01-13'],
      ['this_week', 3, '2026-01-12', '2026-01-18'],
      ['last_week', 1, '2026-01-05', '2026-01-11'],
      ['this_month', 5, '2026-01-01', '2026-01-31'],
      ['last_month', 1, '2025-12-01', '2025-12-31'],
      ['last_year', 2, '2025-01-01', '2025-12-31'],
      ['all_time', 7, null, null],
    ];
    for (const [period, n, from, to] of want) {
      const got = await views({ period });
      assert.deepEqual(got, { views: n, period: { preset: period, from, to, tz: 'UTC' } }, period);
    }
    assert.equal((await views({ period: 'custom', from: '2026-01-08', to: '2026-01-13' })).views, 3);
  });

  it('tz moves the days: Monday 00:30 UTC is Sunday evening in New York', async () => {
    const tz = 'America/New_York';
    assert.deepEqual(await views({ period: 'this_week', tz }), { views: 2, period: { preset: 'this_week', from: '2026-01-12', to: '2026-01-18', tz } });
    assert.equal((await views({ period: 'last_week', tz })).views, 2);
    assert.equal((await views({ period: 'custom', from: '2026-01-11', to: '2026-01-11', tz })).views, 1);
  });

  it('a clock in another week moves the presets with it', async () => {
    clockOffset = 7 * 86_400_000; // Wednesday 21 January
    try {
      assert.deepEqual((await views({ period: 'last_week' })), { views: 3, period: { preset: 'last_week', from: '2026-01-12', to: '2026-01-18', tz: 'UTC' } });
      assert.equal((await views({ period: 'this_week' })).views, 0);
    } finally {
      clockOffset = 0;
    }
  });

  it('accounts are isolated', async () => {
    const mine = await report({ period: 'today' });
    assert.equal((await fetch(`${s.url}/api/v1/reports/${mine.id}`, { headers: auth(token) })).status, 404);
    const list = await (await fetch(`${s.url}/api/v1/reports?limit=100`, { headers: auth(token) })).json();
    assert.ok(!list.data.some((r: any) => r.id === mine.id));
    const r = await post({ period: 'today', folders: ['a'] }, token);
    assert.equal(r.status, 400, 'folder "a" is the other account\'s');
  });
});

describe('reports without SMTP', () => {
  it('an email is refused when the server sends no email; without one the report is built', async () => {
    const t = await startTestServer({}, { now: () => NOW });
    try {
      const r = await fetch(`${t.url}/api/v1/reports`, { method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ period: 'today', email: 'a@example.com' }) });
      assert.equal(r.status, 400);
      assert.match((await r.json()).error.message, /email: this server sends no email \(REELSTAT_SMTP_URL is not set\)/);
      const ok = await fetch(`${t.url}/api/v1/reports`, { method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ period: 'today' }) });
      assert.equal(ok.status, 202);
      const { id } = await ok.json();
      let st: any;
      for (let i = 0; i < 200 && st?.status !== 'completed'; i++) {
        await new Promise((res) => setTimeout(res, 25));
        st = await (await fetch(`${t.url}/api/v1/reports/${id}`, { headers: { authorization: `Bearer ${t.token}` } })).json();
      }
      assert.equal(st.status, 'completed');
      assert.equal(st.rows, 0);
      const zip = Buffer.from(await (await fetch(st.url)).arrayBuffer());
      assert.equal(unzipTest(zip).length, 1);
      assert.deepEqual(parseCsv(unzipMember(zip, unzipTest(zip)[0]!)), []);
    } finally {
      await t.stop();
    }
  });
});
