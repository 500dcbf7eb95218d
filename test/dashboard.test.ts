/**
 * The dashboard in a real Chromium against a real server seeded through the collector: every page
 * shows the numbers the stats API gives for the same period, exports are made and downloaded, the
 * schedule's runs and delivery attempts appear, and the phone layout holds. Screenshots go to
 * test-output/dashboard/.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startReceiver, type Receiver } from '../src/delivery/test-receiver.ts';
import { verify } from '../src/delivery/webhook.ts';
import { DESKTOP, launchBrowser, newPage, PHONE, settled, shot, signIn } from './helpers/browser.ts';
import { parseCsv } from './helpers/files.ts';
import { seedWorkspace, sendLivePlayback, SEED_VIDEOS } from './helpers/seed.ts';
import { createAccount, startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
let browser: Browser;
let page: Page;
let errors: string[];
let receiver: Receiver;
/** The server's clock runs this far ahead of the real one (to let a scheduled hour end). */
let ahead = 0;

const api = async (path: string, token = s.token) => {
  const r = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200, `${path}: ${r.status}`);
  return r.json();
};
const int = (n: number) => n.toLocaleString('en-US');
const pct = (r: number | null) => (r === null ? '—' : `${Math.floor(r * 100 + 0.5 + 1e-9)}%`);
const text = async (sel: string) => (await page.locator(sel).first().innerText()).trim();
const HEADLINE = ['views', 'player_loads', 'view_rate', 'unique_views', 'total_watch_time'];

/** The headline cards show the API's totals for the same query. */
async function checkHeadline(query: string) {
  await settled(page);
  const want = (await api(`/api/v1/stats?${query}&metrics=${HEADLINE.join(',')}`)).data[0];
  for (const m of HEADLINE) {
    const got = await page.getAttribute(`[data-metric=${m}]`, 'data-value');
    assert.equal(got, String(want[m] ?? ''), `${m} card`);
  }
  assert.equal(await text('[data-metric=views] .metric-value'), int(want.views));
  assert.equal(await text('[data-metric=player_loads] .metric-value'), int(want.player_loads));
  assert.equal(await text('[data-metric=view_rate] .metric-value'), pct(want.view_rate));
  assert.equal(await text('[data-metric=unique_views] .metric-value'), int(want.unique_views));
  assert.match(await text('[data-metric=total_watch_time] .metric-value'), /^\d+ (s|min|h)/);
  assert.ok(await page.locator('[data-testid=metric-chart] canvas').count(), 'the chart is drawn');
  return want;
}

before(async () => {
  receiver = await startReceiver();
  let first = true;
  receiver.answer = () => (first ? ((first = false), { status: 503 }) : { status: 200 });
  s = await startTestServer({ REELSTAT_ALLOW_PRIVATE_WEBHOOKS: '1' }, { now: () => Date.now() + ahead });
  await seedWorkspace(s.url, s.token);
  browser = await launchBrowser();
  ({ page, errors } = await newPage(browser, DESKTOP));
});
after(async () => {
  await browser?.close();
  await s?.stop();
  await receiver?.close();
});

describe('dashboard in Chromium', () => {
  it('refuses a wrong password, then signs in', async () => {
    await page.goto(`${s.url}/videos`);
    await page.waitForSelector('input[name=email]');
    assert.match(page.url(), /\/sign-in\?next=%2Fvideos$/);
    await page.fill('input[name=email]', s.email);
    await page.fill('input[name=password]', 'not the password');
    await page.click('button[type=submit]');
    assert.equal(await text('[role=alert]'), 'Wrong email or password.');
    await shot(page, 'sign-in');
    await page.fill('input[name=password]', s.password);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=videos]');
    assert.match(page.url(), /\/videos$/, 'back to the page asked for');
    const cookies = await page.context().cookies();
    const c = cookies.find((x) => x.name === 'reelstat_session')!;
    assert.ok(c.httpOnly);
    assert.equal(c.sameSite, 'Lax');
    assert.equal(await page.evaluate(() => document.cookie), '', 'the page script cannot read the session cookie');
  });

  it('workspace analytics: headline numbers, watching now, top 25, breakdowns and referrers as the API gives them', async () => {
    await sendLivePlayback(s.url, s.writeKey, ['live-a', 'live-b', 'live-c']);
    const liveBefore = (await api('/api/v1/realtime')).watching_now;
    await page.goto(`${s.url}/`);
    await page.waitForSelector('[data-testid=top-videos]');
    await checkHeadline('period=last_30_days&tz=UTC');
    const live = Number(await page.getAttribute('[data-metric=watching_now]', 'data-value'));
    const liveAfter = (await api('/api/v1/realtime')).watching_now;
    assert.ok(live <= liveBefore && live >= liveAfter, `watching now ${live} between ${liveAfter} and ${liveBefore}`);

    const top = (await api('/api/v1/stats?period=last_30_days&tz=UTC&dimensions=video_id&limit=25&metrics=views,player_loads')).data;
    const rows = await page.$$eval('[data-testid=top-videos] tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-key'), tr.querySelector('[data-col=views]')!.textContent, tr.querySelector('a')!.textContent]));
    assert.deepEqual(rows, top.filter((r: any) => r.player_loads || r.views).map((r: any) => [r.video_id, int(r.views), r.title]));
    assert.equal(rows.length, SEED_VIDEOS.length);

    for (const dim of ['country', 'platform', 'os', 'browser']) {
      const want = (await api(`/api/v1/stats?period=last_30_days&tz=UTC&dimensions=${dim}&limit=10&metrics=views,player_loads`)).data.filter((r: any) => r.player_loads || r.views);
      const got = await page.$$eval(`[data-testid=breakdown-${dim}] tbody tr`, (trs) => trs.map((tr) => [tr.getAttribute('data-key'), tr.querySelector('[data-col=views]')!.textContent, tr.querySelector('[data-col=player_loads]')!.textContent]));
      assert.deepEqual(got, want.map((r: any) => [r[dim] ?? '', int(r.views), int(r.player_loads)]), dim);
      assert.ok(got.length >= 3, `${dim}: several values seeded`);
    }
    assert.match(await text('[data-testid=breakdown-country] tbody'), /Germany/);

    const refs = (await api('/api/v1/referrers?period=last_30_days&tz=UTC')).data;
    const domains = await page.$$eval('[data-testid=referrers] tr.group-row', (trs) => trs.map((tr) => [tr.getAttribute('data-domain'), tr.querySelector('[data-col=views]')!.textContent, tr.querySelector('[data-col=player_loads]')!.textContent]));
    assert.deepEqual(domains, refs.map((d: any) => [d.domain, int(d.views), int(d.player_loads)]));
    assert.equal(await page.locator('[data-testid=referrers] tr.page-row').count(), 0, 'groups start collapsed');
    await page.click(`[data-testid=referrers] tr[data-domain="${refs[0].domain}"] button`);
    const pages = await page.$$eval('[data-testid=referrers] tr.page-row', (trs) => trs.map((tr) => tr.getAttribute('data-url')));
    assert.deepEqual(pages, refs[0].pages.map((p: any) => p.url));
    await shot(page, 'overview');
    assert.deepEqual(errors, []);
  });

  it('referrers download as CSV with the numbers of the API', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=referrers-csv]')]);
    assert.match(download.suggestedFilename(), /^referrers-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
    const rows = parseCsv(readFileSync((await download.path())!));
    const refs = (await api('/api/v1/referrers?period=last_30_days&tz=UTC')).data;
    assert.deepEqual(rows.filter((r) => r.url === '').map((r) => [r.domain, Number(r.views), Number(r.player_loads)]), refs.map((d: any) => [d.domain, d.views, d.player_loads]));
  });

  it('other periods: all time by day, today by hour, a custom range', async () => {
    await page.selectOption('[data-testid=period]', 'all_time');
    await page.waitForURL(/period=all_time/);
    await checkHeadline('period=all_time&tz=UTC');
    await page.selectOption('[data-testid=period]', 'today');
    await page.waitForURL(/period=today/);
    await checkHeadline('period=today&tz=UTC');
    assert.equal(await text('.chart-head h3'), 'Views by hour');
    const from = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
    const to = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
    await page.goto(`${s.url}/?period=custom&from=${from}&to=${to}`);
    await checkHeadline(`from=${from}&to=${to}&tz=UTC`);
    assert.equal(await text('.chart-head h3'), 'Views by day');
  });

  it('per video: metrics, heatmap and retention of that video', async () => {
    await page.goto(`${s.url}/`);
    await settled(page);
    const top = (await api('/api/v1/stats?period=last_30_days&tz=UTC&dimensions=video_id&limit=1&metrics=views')).data[0];
    await page.click(`[data-testid=top-videos] tr[data-key="${top.video_id}"] a`);
    await page.waitForURL(new RegExp(`/videos/${top.video_id}$`));
    await checkHeadline(`period=last_30_days&tz=UTC&video_id=${top.video_id}`);
    assert.equal(await text('[data-testid=video-title]'), top.title);
    const heat = await api(`/api/v1/videos/${top.video_id}/heatmap?period=last_30_days&tz=UTC`);
    assert.ok(heat.records > 0);
    assert.equal(await page.getAttribute('[data-testid=heatmap-summary]', 'data-records'), String(heat.records));
    assert.equal(await page.getAttribute('[data-testid=heatmap-summary]', 'data-seconds'), String(heat.seconds));
    assert.ok(await page.locator('[data-testid=heatmap-chart] canvas').count());
    assert.ok(await page.locator('[data-testid=retention-chart] canvas').count());
    const countries = (await api(`/api/v1/stats?period=last_30_days&tz=UTC&video_id=${top.video_id}&dimensions=country&limit=10&metrics=views`)).data;
    assert.equal(await page.locator('[data-testid=breakdown-country] tbody tr').first().getAttribute('data-key'), countries[0].country);
    await shot(page, 'video');
  });

  it('the videos page lists the catalog with views in the period', async () => {
    await page.goto(`${s.url}/videos`);
    await settled(page);
    const byVideo = new Map((await api('/api/v1/stats?period=last_30_days&tz=UTC&dimensions=video_id&limit=100&metrics=views')).data.map((r: any) => [r.video_id, r.views]));
    const rows = await page.$$eval('[data-testid=videos] tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-key'), tr.querySelector('[data-col=views]')!.textContent]));
    assert.deepEqual(rows.map((r) => r[0]).sort(), SEED_VIDEOS.map((v) => v.id).sort());
    for (const [id, views] of rows) assert.equal(views, int(Number(byVideo.get(id) ?? 0)), id!);
    await shot(page, 'videos');
  });

  it('an on-demand export is created, completes and its part downloads', async () => {
    await page.goto(`${s.url}/exports`);
    const today = new Date().toISOString().slice(0, 10); // the browser's own clock
    // No day after today can be picked (the API refuses it). ($$eval does not wait: the form first.)
    await page.waitForSelector('[data-testid=new-export] input[type=date] >> nth=1');
    assert.deepEqual(await page.$$eval('[data-testid=new-export] input[type=date]', (els) => els.map((e) => e.getAttribute('max'))), [today, today]);
    await page.selectOption('[data-testid=new-export] select >> nth=0', 'views');
    await page.check('[data-testid=new-export] [data-testid=bom]');
    await page.click('[data-testid=new-export] button[type=submit]');
    await page.waitForSelector('[data-testid=exports] tr[data-status=completed]');
    const listed = (await api('/api/v1/exports')).data[0];
    assert.equal(listed.status, 'completed');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=exports] [data-testid=download]')]);
    assert.equal(download.suggestedFilename(), listed.files[0].name);
    const file = readFileSync((await download.path())!);
    assert.deepEqual([...file.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the byte order mark asked for');
    const rows = parseCsv(file.subarray(3));
    assert.equal(rows.length, listed.rows);
    assert.ok(rows.length > 0);
    assert.ok('view_id' in rows[0] || 'viewId' in rows[0], Object.keys(rows[0]).join(','));
    await shot(page, 'exports');
  });

  it('a scheduled export: secret shown once, its run, files and delivery attempts (a 503, then delivered)', async () => {
    await page.goto(`${s.url}/exports?tab=scheduled`);
    await page.fill('[data-testid=new-schedule] input >> nth=0', 'Hourly views');
    await page.selectOption('[data-testid=new-schedule] select >> nth=0', 'hourly');
    await page.fill('[data-testid=new-schedule] input[type=url]', `${receiver.base}/hook`);
    await page.check('[data-testid=new-schedule] [data-testid=bom]');
    await page.click('[data-testid=new-schedule] button[type=submit]');
    const secret = await text('[data-testid=secret] code');
    assert.match(secret, /^whsec_/);
    assert.equal((await api('/api/v1/scheduled-exports')).data.find((x: any) => x.name === 'Hourly views').bom, true, 'the byte order mark asked for');
    await page.click('[data-testid=secret] button:has-text("Done")');
    assert.equal(await page.locator('[data-testid=secret]').count(), 0);
    await page.click('.schedule button:has-text("Runs & deliveries")');
    await page.waitForSelector('[data-testid=schedule-detail] >> text=No run yet');
    // Let the hour end on the server's clock: the scheduler runs it, the outbox delivers it.
    const HOUR = 3_600_000;
    ahead = Math.ceil((Date.now() + 1) / HOUR) * HOUR - Date.now() + 2_000;
    await page.waitForSelector('[data-testid=attempts] >> text=HTTP 503', { timeout: 30_000 });
    ahead += 60_000; // past the first backoff (about 5 s), still within the next hour: the retry is due
    await page.waitForSelector('[data-testid=attempts] >> text=HTTP 200', { timeout: 30_000 });
    const outcomes = await page.$$eval('[data-testid=attempts] tbody tr', (trs) => trs.map((tr) => tr.querySelector('.badge')!.textContent));
    assert.deepEqual(outcomes, ['delivered', 'retry']);
    assert.equal(receiver.hits.length, 2);
    for (const h of receiver.hits) assert.ok(verify({ secret, headers: h.headers, body: h.body, now: Date.now() + ahead }).ok, 'signed with the secret shown once');
    assert.equal(receiver.hits[0].headers['webhook-id'], receiver.hits[1].headers['webhook-id'], 'one delivery, two attempts');
    await shot(page, 'scheduled');
  });

  it('a Contentsquare job in the schedules list says where its runs are read', async () => {
    const post = async (path: string, body: unknown, token: string) => {
      const r = await fetch(`${s.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.ok(r.ok, `${path}: ${r.status}`);
      return r.json();
    };
    const client = await post('/api/v1/oauth-clients', {}, s.token);
    const token = (await (await fetch(`${s.url}/v1/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: client.client_id, client_secret: client.client_secret, grant_type: 'client_credentials' }) })).json()).access_token;
    await post('/v1/exports', { name: 'CS daily', format: 'CSV', scope: 'views', frequency: { value: 'daily' }, deviceLabel: 'all', fields: [{ fieldName: 'view_id' }] }, token);
    await page.goto(`${s.url}/exports?tab=scheduled`);
    const row = page.locator('.schedule', { hasText: 'CS daily' });
    await row.waitFor();
    assert.match(await row.innerText(), /Every day · views · CSV → read through the Contentsquare API/);
  });

  it('a report is built and its ZIP downloads', async () => {
    await page.goto(`${s.url}/exports?tab=reports`);
    await page.selectOption('[data-testid=new-report] select >> nth=0', 'all_time');
    await page.click('[data-testid=new-report] button[type=submit]');
    await page.waitForSelector('[data-testid=reports] tr[data-status=completed]');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=reports] [data-testid=download]')]);
    assert.equal(readFileSync((await download.path())!).subarray(0, 2).toString(), 'PK');
    await shot(page, 'reports');
  });

  it('settings: a new API token is shown once and works; revoking it stops it; retention changed and audited', async () => {
    await page.goto(`${s.url}/settings`);
    await page.waitForSelector('[data-testid=tokens]');
    await page.fill('#tokens input', 'from the dashboard');
    await page.click('#tokens button[type=submit]');
    const token = await text('#tokens [data-testid=secret] code');
    assert.match(token, /^rs_/);
    assert.equal((await fetch(`${s.url}/api/v1/account`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    page.once('dialog', (d) => void d.accept());
    await page.click('#tokens tr:has-text("from the dashboard") button:has-text("Revoke")');
    await page.waitForFunction(() => !document.querySelector('#tokens tbody')?.textContent?.includes('from the dashboard'));
    assert.equal((await fetch(`${s.url}/api/v1/account`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
    // Retention: the form shows the account's settings and changes them through the API; the change is audited.
    assert.equal(await page.inputValue('[data-testid=retention-rawDays]'), '90');
    assert.equal(await page.inputValue('[data-testid=retention-exportFileDays]'), '7');
    await page.fill('[data-testid=retention-exportFileDays]', '5');
    await page.click('[data-testid=retention-form] button[type=submit]');
    await page.waitForSelector('[data-testid=retention-saved]');
    assert.deepEqual(await api('/api/v1/retention'), { rawDays: 90, aggregateDays: 730, exportFileDays: 5 });
    await page.reload();
    await page.waitForSelector('[data-testid=audit-log]');
    assert.match(await text('[data-testid=audit-log] tbody tr'), /Changed retention/);
    // A bad value is refused with the API's reason and changes nothing.
    await page.fill('[data-testid=retention-aggregateDays]', '30');
    await page.click('[data-testid=retention-form] button[type=submit]');
    await page.waitForSelector('#retention .error, #retention [role=alert]');
    assert.equal((await api('/api/v1/retention')).aggregateDays, 730);
    await fetch(`${s.url}/api/v1/retention`, { method: 'PUT', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ exportFileDays: 7 }) });
    await shot(page, 'settings');
  });

  it('on a phone: the layout fits the width and the numbers are there', async () => {
    const phone = await newPage(browser, PHONE);
    try {
      await signIn(phone.page, s.url, s.email, s.password);
      await settled(phone.page);
      const widths = await phone.page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert.ok(widths[0] <= widths[1], `no sideways scrolling: ${widths}`);
      const want = (await api('/api/v1/stats?period=last_30_days&tz=UTC&metrics=views')).data[0];
      assert.equal(await phone.page.locator('[data-metric=views] .metric-value').innerText(), int(want.views));
      assert.ok(await phone.page.locator('nav.nav >> text=Exports').isVisible());
      await phone.page.screenshot({ path: 'test-output/dashboard/phone-overview.png' });
      await phone.page.goto(`${s.url}/videos/${SEED_VIDEOS[0].id}`);
      await settled(phone.page);
      await phone.page.screenshot({ path: 'test-output/dashboard/phone-video.png', fullPage: true });
      assert.deepEqual(phone.errors, []);
    } finally {
      await phone.context.close();
    }
  });

  it('a workspace without data says how to add the SDK', async () => {
    await createAccount(s.url, 'Empty', 'empty@example.com', 'empty-password-1');
    const fresh = await newPage(browser, DESKTOP);
    try {
      await signIn(fresh.page, s.url, 'empty@example.com', 'empty-password-1');
      await fresh.page.waitForSelector('[data-testid=install-sdk]');
      const snippet = await fresh.page.locator('[data-testid=install-sdk] pre').innerText();
      assert.match(snippet, /<script src="http:\/\/127\.0\.0\.1:\d+\/sdk\/reelstat\.js"><\/script>/);
      assert.match(snippet, /Reelstat\.track\(document\.querySelector\('video'\), \{writeKey: 'wk_…', contentId: '…'\}\)/);
      await settled(fresh.page);
      assert.equal(await fresh.page.getAttribute('[data-metric=views]', 'data-value'), '0');
      await shot(fresh.page, 'empty-workspace');
    } finally {
      await fresh.context.close();
    }
  });

  it('signing out ends the session', async () => {
    const cookie = (await page.context().cookies()).find((c) => c.name === 'reelstat_session')!;
    await page.click('[data-testid=sign-out]');
    await page.waitForSelector('input[name=email]');
    const r = await fetch(`${s.url}/api/v1/account`, { headers: { cookie: `reelstat_session=${cookie.value}` } });
    assert.equal(r.status, 401);
  });
});
