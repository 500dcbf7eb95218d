/**
 * Scheduled exports end to end: the real server on loopback with an injected clock, a real webhook
 * receiver (src/delivery/test-receiver.ts) whose requests are verified with the schedule's secret,
 * a real SMTP server, and a restart on the same data directory. Moving the clock stands in for
 * waiting: a day of retries takes a few seconds.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { startReceiver, type Hit, type Receiver } from '../src/delivery/test-receiver.ts';
import { verify } from '../src/delivery/webhook.ts';
import { parseSpec } from '../src/exports/service.ts';
import { collect, createAccount, startTestServer, type TestServer } from './helpers/server.ts';

const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;
/** A Wednesday, mid-morning UTC. */
const T0 = Date.parse('2026-03-04T10:30:00Z');
const PRIVATE = { REELSTAT_ALLOW_PRIVATE_WEBHOOKS: '1' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(40);
  }
}

function api(s: TestServer, token = s.token) {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${s.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  return {
    call,
    create: (body: unknown) => call('POST', '/scheduled-exports', body),
    get: (id: string) => call('GET', `/scheduled-exports/${id}`),
    attempts: async (id: string) => (await call('GET', `/scheduled-exports/${id}/deliveries?limit=1000`)).json.data as any[],
  };
}

/** Events inside [from, from + 1 h) of the fake clock's day. */
async function sendEvents(s: TestServer, at: number, n: number, tag: string) {
  const events = Array.from({ length: n }, (_, i) => ({
    id: `${tag}-${i}`, event: 'impression', timestamp: new Date(at + i * 1000).toISOString(), contentId: 'vid-1', sessionId: `${tag}-s${i}`,
  }));
  const r = await collect(s.url, events, { 'x-reelstat-key': s.writeKey });
  assert.equal(r.json.accepted, n, r.text);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
async function download(url: string): Promise<Buffer> {
  const r = await fetch(url);
  assert.equal(r.status, 200, `${url}: ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

describe('webhook delivery (R18): down, 429 with Retry-After, then delivered with one webhook-id', () => {
  const clock = { t: T0 };
  let s: TestServer;
  let rx: Receiver;
  before(async () => {
    s = await startTestServer(PRIVATE, { now: () => clock.t });
    rx = await startReceiver({ now: () => clock.t });
  });
  after(async () => {
    await s.stop();
    await rx.close().catch(() => undefined);
  });

  test('every attempt is signed, listed, and the receiver gets the export once it recovers', async () => {
    await sendEvents(s, T0 - 2 * H, 5, 'in-window');
    await sendEvents(s, T0 + 14 * H, 2, 'next-day'); // 2026-03-05, outside the first window
    const { create, get, attempts } = api(s);
    const made = await create({ frequency: 'daily', format: 'jsonl', fields: ['id', 'event', 'timestamp'], delivery: { webhook: `${rx.base}/hook?x=1` } });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const secret: string = made.json.secret;
    assert.match(secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
    const id: string = made.json.id;
    assert.equal(made.json.state, 'active');
    assert.equal((await get(id)).json.secret, undefined, 'the secret is shown once');

    await rx.down();
    clock.t = Date.parse('2026-03-05T00:00:30Z');
    const first = await until('a refused attempt', async () => (await attempts(id)).find((a) => a.outcome === 'retry'));
    assert.equal(first.statusCode, null);
    assert.match(first.error, /ECONNREFUSED/);
    // Two more refused attempts, each made when its planned time comes.
    for (let i = 2; i <= 3; i++) {
      const last = (await attempts(id))[0];
      clock.t = Date.parse(last.nextAttemptAt);
      await until(`refused attempt ${i}`, async () => (await attempts(id)).length >= i);
    }
    await rx.up();
    let n = 0;
    rx.answer = () => (n++ === 0 ? { status: 429, headers: { 'retry-after': '900' } } : { status: 204 });
    clock.t = Date.parse((await attempts(id))[0].nextAttemptAt);
    const limited = await until('the 429', async () => (await attempts(id)).find((a) => a.statusCode === 429));
    assert.equal(limited.outcome, 'retry');
    assert.ok(Date.parse(limited.nextAttemptAt) - Date.parse(limited.at) >= 900_000, 'waited the Retry-After, not the short backoff');
    await sleep(1200);
    assert.equal(rx.hits.length, 1, 'no attempt before the Retry-After time');
    clock.t = Date.parse(limited.nextAttemptAt);
    await until('delivery', async () => (await attempts(id)).find((a) => a.outcome === 'delivered'));

    const log = await attempts(id);
    assert.deepEqual(log.map((a) => a.attempt), [5, 4, 3, 2, 1], 'newest first, every attempt kept');
    assert.deepEqual(log.map((a) => a.statusCode), [204, 429, null, null, null]);
    assert.equal(new Set(log.map((a) => a.deliveryId)).size, 1);
    for (const a of log) assert.ok(typeof a.durationMs === 'number' && a.at);

    assert.equal(rx.hits.length, 2);
    const ids = new Set(rx.hits.map((h: Hit) => h.headers['webhook-id']));
    assert.deepEqual(ids, new Set([log[0].deliveryId]), 'the same webhook-id on every attempt');
    for (const h of rx.hits) {
      assert.equal(h.path, '/hook?x=1');
      const sentAt = Number(h.headers['webhook-timestamp']) * 1000; // this attempt's time on the fake clock
      assert.equal(verify({ secret, headers: h.headers, body: h.body, now: sentAt }).ok, true, 'signed with the schedule secret');
      assert.equal(verify({ secret: 'whsec_' + Buffer.alloc(32, 1).toString('base64'), headers: h.headers, body: h.body, now: sentAt }).ok, false);
    }
    const body = JSON.parse(rx.hits[1]!.body);
    assert.equal(body.type, 'export.completed');
    assert.deepEqual(body.period, { from: '2026-03-04T00:00:00.000Z', to: '2026-03-05T00:00:00.000Z' });
    assert.equal(body.files.length, 1);
    const f = body.files[0];
    const file = await download(f.url);
    assert.equal(file.length, f.size);
    assert.equal(sha256(file), f.sha256);
    const rows = file.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.id).sort(), ['in-window-0', 'in-window-1', 'in-window-2', 'in-window-3', 'in-window-4']);
    assert.equal(f.rows, 5);

    const view = (await get(id)).json;
    assert.equal(view.runs.length, 1);
    assert.equal(view.runs[0].id, body.exportId);
    assert.equal(view.runs[0].status, 'completed');
    assert.equal(view.runs[0].delivery.status, 'delivered');
    assert.equal(view.runs[0].delivery.id, log[0].deliveryId);
    assert.equal(view.runs[0].delivery.attempts.length, 5);
    assert.equal(view.nextRunAt, '2026-03-06T00:00:00.000Z');
  });

  test('410 Gone disables the schedule: no further runs until resumed', async () => {
    const { create, get, attempts, call } = api(s);
    rx.hits.length = 0;
    rx.answer = () => ({ status: 410 });
    const made = await create({ frequency: 'hourly', delivery: { webhook: `${rx.base}/gone` } });
    assert.equal(made.status, 201);
    const id = made.json.id;
    clock.t += H;
    const gone = await until('the 410', async () => (await attempts(id)).find((a) => a.statusCode === 410));
    assert.equal(gone.outcome, 'disabled');
    assert.equal(gone.nextAttemptAt, null);
    const view = (await get(id)).json;
    assert.equal(view.state, 'disabled');
    assert.match(view.disabledReason, /410/);
    assert.equal(view.runs[0].delivery.status, 'failed');
    assert.equal(rx.hits.length, 1);

    clock.t += 5 * H;
    await sleep(1500);
    assert.equal((await get(id)).json.runs.length, 1, 'a disabled schedule makes no runs');
    assert.equal(rx.hits.length, 1, 'and sends nothing');

    rx.answer = () => ({ status: 200 });
    const resumed = await call('POST', `/scheduled-exports/${id}/resume`);
    assert.equal(resumed.status, 200);
    assert.equal(resumed.json.state, 'active');
    assert.equal(resumed.json.disabledReason, null);
    clock.t += H;
    await until('a delivery after resume', async () => (await attempts(id)).find((a) => a.outcome === 'delivered'));
    assert.equal((await get(id)).json.runs.length, 2, 'the hours while disabled are skipped');
  });
});

describe('email delivery through a real SMTP server', () => {
  const clock = { t: T0 };
  const inbox: string[] = [];
  let smtp: SMTPServer;
  let s: TestServer;
  before(async () => {
    smtp = new SMTPServer({
      authOptional: true, secure: false, disabledCommands: ['STARTTLS'], logger: false,
      onData(stream, _session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          inbox.push(Buffer.concat(chunks).toString('utf8'));
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    const port = (smtp.server.address() as AddressInfo).port;
    s = await startTestServer({ REELSTAT_SMTP_URL: `smtp://127.0.0.1:${port}`, REELSTAT_SMTP_FROM: 'exports@reelstat.test' }, { now: () => clock.t });
  });
  after(async () => {
    await s.stop();
    await new Promise<void>((r) => smtp.close(() => r()));
  });

  test('a message with working download links, no attachment', async () => {
    await sendEvents(s, T0 - H, 3, 'mail');
    const { create, attempts } = api(s);
    const made = await create({ frequency: 'daily', format: 'csv', bom: true, fields: ['id'], delivery: { email: 'analyst@example.com' } });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    assert.equal(made.json.bom, true);
    assert.equal(made.json.secret, undefined, 'no webhook secret for email');
    assert.deepEqual(made.json.delivery, { email: 'analyst@example.com' });
    clock.t = Date.parse('2026-03-05T01:00:00Z');
    await until('the email', async () => inbox.length > 0);
    const log = await until('the attempt', async () => (await attempts(made.json.id)).find((a) => a.outcome === 'delivered'));
    assert.equal(log.statusCode, null);
    const raw = inbox[0]!;
    assert.doesNotMatch(raw, /Content-Disposition:\s*attachment/i);
    assert.match(raw, /^To: analyst@example\.com/m);
    // Undo quoted-printable (soft breaks, =3D) to read the links.
    const text = raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replaceAll('&amp;', '&');
    const urls = [...new Set(text.match(/http:\/\/127\.0\.0\.1:\d+\/downloads\/[^\s"<]+/g) ?? [])];
    assert.equal(urls.length, 1, text);
    const csv = (await download(urls[0]!)).toString('utf8');
    assert.ok(csv.startsWith('\uFEFFid\r\n'), 'a byte order mark first (bom)');
    assert.deepEqual(csv.trim().split(/\r?\n/).sort(), ['id', 'mail-0', 'mail-1', 'mail-2']);
  });
});

describe('restart: missed periods run exactly once, pending deliveries resume', () => {
  const clock = { t: T0 };
  let rx: Receiver;
  after(async () => {
    await rx.close().catch(() => undefined);
  });

  test('three days down: exactly three daily runs on restart, each delivered once', async () => {
    rx = await startReceiver({ now: () => clock.t });
    let s = await startTestServer(PRIVATE, { now: () => clock.t });
    const dataDir = s.dataDir;
    const token = s.token;
    let a = api(s);
    const made = await a.create({ frequency: 'daily', delivery: { webhook: `${rx.base}/r` } });
    assert.equal(made.status, 201);
    const id = made.json.id;
    // A job made by someone else (as the Contentsquare dialect does): daily at 04:00 UTC, no delivery.
    const other = { id: 'job_cs_daily', accountId: (await s.server.auth.authenticateToken(token, '127.0.0.1')).accountId, kind: 'daily' as const, spec: { ...parseSpec({ format: 'csv' }), delayMinutes: 240 }, state: 'active' as const, createdAt: T0 };
    await s.server.store.jobs.createJob(other as never, null);

    await rx.down();
    clock.t = Date.parse('2026-03-05T00:10:00Z');
    const refused = await until('a refused attempt', async () => (await a.attempts(id))[0]);
    assert.equal(refused.outcome, 'retry');
    const runsOf = async (job: string) => s.server.store.jobs.runsOf(other.accountId, job);
    assert.equal((await runsOf(other.id)).length, 0, 'the 04:00 job waits for its delay');
    await s.stop({ keepData: true });

    clock.t += 3 * DAY; // 2026-03-08T00:10Z: 3/5, 3/6 and 3/7 ended while down
    await rx.up();
    s = await startTestServer(PRIVATE, { now: () => clock.t, dataDir });
    a = api(s, token);
    try {
      await until('four delivered', async () => (await a.get(id)).json.runs.filter((r: any) => r.delivery?.status === 'delivered').length === 4);
      await sleep(1500); // more scheduler ticks: nothing new
      const runs = (await a.get(id)).json.runs;
      assert.deepEqual(runs.map((r: any) => r.period.from.slice(0, 10)), ['2026-03-07', '2026-03-06', '2026-03-05', '2026-03-04']);
      const hooks = rx.hits.map((h) => h.headers['webhook-id']);
      assert.equal(hooks.length, 4, 'each period delivered once');
      assert.equal(new Set(hooks).size, 4);
      assert.ok(hooks.includes(refused.deliveryId), 'the delivery pending before the stop went out with its webhook-id');
      // The other job: 3/4, 3/5, 3/6 are past 04:00 the day after; 3/7 is not yet.
      const cs = await runsOf(other.id);
      assert.deepEqual(cs.map((r) => new Date(r.periodFrom).toISOString().slice(0, 10)), ['2026-03-06', '2026-03-05', '2026-03-04']);
      clock.t = Date.parse('2026-03-08T04:00:00Z');
      await until('the 04:00 run', async () => (await runsOf(other.id)).length === 4);
    } finally {
      await s.stop();
    }
  });
});

describe('the API: validation, pause/resume/delete, accounts', () => {
  const clock = { t: T0 };
  let s: TestServer;
  before(async () => {
    s = await startTestServer({}, { now: () => clock.t });
  });
  after(() => s.stop());
  const hook = { webhook: 'https://hooks.example.com/reelstat' };

  test('bad input: 400 naming the field and what is accepted', async () => {
    const { create } = api(s);
    const cases: Array<[unknown, RegExp]> = [
      [{ delivery: hook }, /frequency: required; expected one of hourly, daily, weekly/],
      [{ frequency: 'monthly', delivery: hook }, /frequency: "monthly" is not accepted; expected one of hourly, daily, weekly/],
      [{ frequency: 'daily' }, /delivery: required; expected \{"webhook"/],
      [{ frequency: 'daily', delivery: { webhook: 'https://a.example', email: 'a@b.co' } }, /delivery: give exactly one destination/],
      [{ frequency: 'daily', delivery: { webhook: 'http://127.0.0.1:9/x' } }, /delivery\.webhook: .*loopback.*REELSTAT_ALLOW_PRIVATE_WEBHOOKS=1/],
      [{ frequency: 'daily', delivery: { webhook: 'http://169.254.169.254/latest' } }, /metadata/],
      [{ frequency: 'daily', delivery: { webhook: 'http://localhost/x' } }, /local machine/],
      [{ frequency: 'daily', delivery: { webhook: 'http://2130706433:8080/x' } }, /127\.0\.0\.1 is a loopback address/],
      [{ frequency: 'daily', delivery: { webhook: 'http://[::ffff:10.0.0.1]/x' } }, /IPv4-mapped form of 10\.0\.0\.1, a private address/],
      [{ frequency: 'daily', delivery: { webhook: 'ftp://files.example.com/x' } }, /scheme "ftp" is not accepted/],
      [{ frequency: 'daily', delivery: { email: 'not an address' } }, /delivery\.email: .*not a valid email address/],
      [{ frequency: 'daily', delivery: { email: 'a@b.co' } }, /delivery\.email: .*REELSTAT_SMTP_URL/],
      [{ frequency: 'daily', delivery: hook, format: 'pdf' }, /format: "pdf" is not accepted; expected one of/],
      [{ frequency: 'daily', delivery: hook, fields: ['nope'] }, /nope/],
      [{ frequency: 'daily', delivery: hook, delayMinutes: -5 }, /delayMinutes: expected a whole number of minutes from 0 to 10080/],
      [{ frequency: 'daily', delivery: hook, frequncy: 'x' }, /frequncy: unknown field; accepted: frequency/],
      [[1, 2], /expected a JSON object/],
    ];
    for (const [body, re] of cases) {
      const r = await create(body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, 'validation_failed');
      assert.match(r.json.error.message, re, JSON.stringify(body));
    }
    const noAuth = await fetch(`${s.url}/api/v1/scheduled-exports`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(noAuth.status, 401);
  });

  test('pause, resume (paused periods skipped), delete; another account sees nothing', async () => {
    const { create, get, call } = api(s);
    const made = await create({ frequency: 'hourly', name: 'hourly views', scope: 'views', format: 'csv', delivery: hook, delayMinutes: 5 });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const id = made.json.id;
    assert.match(made.json.secret, /^whsec_/);
    assert.equal(made.json.name, 'hourly views');
    assert.equal(made.json.delayMinutes, 5);
    assert.deepEqual(made.json.delivery, hook);
    const list = await call('GET', '/scheduled-exports');
    assert.deepEqual(list.json.data.map((j: any) => j.id), [id]);
    assert.ok(list.json.data.every((j: any) => j.secret === undefined));

    clock.t = Date.parse('2026-03-04T11:05:00Z'); // 10:00–11:00 ended 5 minutes ago
    await until('the first run', async () => (await get(id)).json.runs.length === 1);
    const paused = await call('POST', `/scheduled-exports/${id}/pause`);
    assert.equal(paused.status, 200);
    assert.equal(paused.json.state, 'paused');
    clock.t = Date.parse('2026-03-04T14:30:00Z');
    await sleep(1500);
    assert.equal((await get(id)).json.runs.length, 1, 'no runs while paused');
    const resumed = await call('POST', `/scheduled-exports/${id}/resume`);
    assert.equal(resumed.json.state, 'active');
    assert.equal(resumed.json.nextRunAt, '2026-03-04T15:05:00.000Z');
    clock.t = Date.parse('2026-03-04T15:06:00Z');
    await until('the run after resume', async () => (await get(id)).json.runs.length === 2);
    assert.deepEqual((await get(id)).json.runs.map((r: any) => r.period.from), ['2026-03-04T14:00:00.000Z', '2026-03-04T10:00:00.000Z']);

    // Another account: 404 everywhere, empty list.
    const acme = await createAccount(s.url, 'Acme', 'owner@acme.test');
    const them = api(s, acme.apiToken);
    for (const [m, p] of [['GET', ''], ['GET', '/deliveries'], ['POST', '/pause'], ['POST', '/resume'], ['DELETE', '']]) {
      const r = await them.call(m!, `/scheduled-exports/${id}${p}`);
      assert.equal(r.status, 404, `${m} ${p}`);
      assert.equal(r.json.error.code, 'not_found');
    }
    assert.deepEqual((await them.call('GET', '/scheduled-exports')).json.data, []);
    // An on-demand export is not a schedule.
    const once = await call('POST', '/exports', { startDate: '2026-03-04', endDate: '2026-03-04' });
    assert.equal((await call('GET', `/scheduled-exports/${once.json.id}`)).status, 404);

    const del = await call('DELETE', `/scheduled-exports/${id}`);
    assert.equal(del.status, 204);
    assert.equal((await get(id)).status, 404);
    assert.equal((await call('DELETE', `/scheduled-exports/${id}`)).status, 404);
    assert.deepEqual((await call('GET', '/scheduled-exports')).json.data, []);
    clock.t += 3 * H;
    await sleep(1200);
    const runs = await s.server.store.jobs.runsOf((await s.server.auth.authenticateToken(s.token, '127.0.0.1')).accountId, id);
    assert.equal(runs.length, 2, 'a deleted schedule makes no runs');
  });

  test('the routes are in the OpenAPI document', async () => {
    const doc = await (await fetch(`${s.url}/api/v1/openapi.json`)).json();
    for (const p of ['/api/v1/scheduled-exports', '/api/v1/scheduled-exports/{id}', '/api/v1/scheduled-exports/{id}/pause', '/api/v1/scheduled-exports/{id}/resume', '/api/v1/scheduled-exports/{id}/deliveries']) {
      assert.ok(doc.paths[p], p);
    }
    const create = doc.paths['/api/v1/scheduled-exports'].post;
    const body = create.requestBody.content['application/json'].schema;
    assert.ok(body.properties.scope.enum.includes('sessions'), 'every scope accepted is documented');
    assert.deepEqual(body.properties.filters.properties.deviceLabel.enum, ['all', 'desktop', 'mobile', 'tablet']);
    assert.match(create.description, /key is the base64-decoded part of the secret after whsec_/);
  });
});
