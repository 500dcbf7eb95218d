/**
 * The process as an operator sees it: configuration errors, the one-time credential print, the
 * SIGTERM drain (R3), health and the API reference — all against the server as `npm start` runs it
 * (scripts/start.mjs), as a child.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { credentials, freePort, spawnServer, START, type Child } from './helpers/process.ts';
import { readAllEvents } from './helpers/server.ts';
import { ROOT } from '../src/paths.ts';
import { buildServer, serverSourceHash, SOURCE_DIRS } from '../scripts/build-server.mjs';

const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'reelstat-life-'));
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** SIGTERM, then the exit code — or, when something else ended the process, what and why. */
async function stop(c: Child): Promise<number | string> {
  if (c.proc.exitCode === null) c.proc.kill('SIGTERM');
  const code = await c.exited;
  return code ?? `killed by ${c.proc.signalCode}; output:\n${c.output().slice(-2000)}`;
}

const ev = (id: string) => ({ id, event: 'impression', timestamp: Date.now() - 1000, contentId: 'life-video', sessionId: 'life-s' });

/** Runs the server (npm start) with env until it exits on its own. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, START, {
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', REELSTAT_DATA_DIR: dataDir(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    const t = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    proc.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

/** A response read to its end. */
function finish(req: ClientRequest): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

function send(url: string, path: string, opts: { method?: string; agent?: Agent; body?: string; headers?: Record<string, string> } = {}) {
  const req = request(`${url}${path}`, { method: opts.method ?? 'GET', agent: opts.agent, headers: opts.headers });
  const done = finish(req);
  req.end(opts.body);
  return done;
}

describe('configuration errors stop start-up', () => {
  for (const [name, value] of [['PORT', 'abc'], ['REELSTAT_IP_MODE', 'foo'], ['REELSTAT_SHUTDOWN_GRACE', '-1'], ['REELSTAT_ADMIN_TOKEN', 'short'], ['REELSTAT_GEOIP_CITY_V4', '/nonexistent/city.mmdb']]) {
    it(`${name}=${value}: exit code 2 and a message naming ${name}`, async () => {
      const r = await runToExit({ [name]: value });
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, new RegExp(`configuration error: ${name}\\b`));
      assert.doesNotMatch(r.out, /serving on/);
    });
  }
  it('a geo file with no ASN ranges: exit code 1 and a message naming the file', async () => {
    const dir = dataDir();
    const bad = join(dir, 'asn.csv');
    writeFileSync(bad, 'not,a range\n');
    const r = await runToExit({ REELSTAT_GEOIP_ASN_V4: bad });
    assert.equal(r.code, 1, r.out);
    assert.ok(r.out.includes(`reelstat: could not start: ${bad} holds no ASN ranges`), r.out);
  });
});

describe('first start', () => {
  it('prints the credentials once; a second start with the same data does not', async () => {
    const dir = join(dataDir(), 'data'); // made by the server
    const port = await freePort();
    let c = await spawnServer(dir, port);
    const creds = credentials(dir) as { writeKey: string; apiToken: string; uid: string; password: string };
    assert.equal(statSync(join(dir, 'credentials.json')).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700, 'the data directory (the database, export files, keys) is the owner\'s alone');
    const first = c.output();
    assert.match(first, /These credentials are shown once/);
    for (const s of [creds.writeKey, creds.apiToken, creds.uid, creds.password]) assert.ok(first.includes(s), 'printed on the first start');
    assert.equal(await stop(c), 0);

    c = await spawnServer(dir, port);
    const second = c.output();
    assert.doesNotMatch(second, /shown once/);
    for (const s of [creds.writeKey, creds.apiToken, creds.uid, creds.password]) assert.ok(!second.includes(s), 'not printed again');
    assert.match(second, /serving on/);
    assert.equal(await stop(c), 0);
  });
});

describe('npm start runs the bundled server', () => {
  it('build/server.mjs is plain JavaScript made from the sources as they are, and finds the files beside the code: migrations, dashboard, SDK', async () => {
    const dir = dataDir();
    const c = await spawnServer(dir, await freePort());
    try {
      const bundle = join(ROOT, 'build', 'server.mjs');
      const js = readFileSync(bundle, 'utf8');
      assert.ok(js.startsWith(`// reelstat source hash ${serverSourceHash()}\n`), 'made from src/ as it is now (bundled again whenever it changes)');
      // A start whose sources did not change runs the bundle there.
      const made = statSync(bundle).mtimeMs;
      await buildServer();
      assert.equal(statSync(bundle).mtimeMs, made, 'not bundled again');
      assert.doesNotMatch(js, /^import .* from ['"]\.{1,2}\//m, 'the project\'s own modules are inside the bundle');
      assert.match(js, /sourceMappingURL=server\.mjs\.map\s*$/);
      assert.ok(existsSync(`${bundle}.map`));
      // Every file inside the bundle is one the hash reads: a change to any of them bundles again.
      const sources = (JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] }).sources.map((s) => relative(ROOT, join(ROOT, 'build', s)));
      assert.ok(sources.length > 50 && sources.includes('sdk/build.ts'), sources.join(' '));
      for (const s of sources) assert.ok(SOURCE_DIRS.some((d) => s.startsWith(`${d}/`)), `${s} is bundled but not in ${SOURCE_DIRS}`);
      assert.equal(readdirSync(join(ROOT, 'build')).filter((f) => f.endsWith(`.${c.proc.pid}.tmp`)).length, 0, 'no temporary files of this start left');

      assert.equal((await fetch(`${c.url}/healthz`)).status, 200); // the migrations ran: the store answers
      const app = await fetch(`${c.url}/`);
      assert.equal(app.status, 200);
      assert.match(await app.text(), /<script type="module"[^>]+src="\/assets\//, 'the built dashboard, not the "not built" page');
      const sdk = await fetch(`${c.url}/sdk/reelstat.js`);
      assert.equal(sdk.status, 200);
      assert.match(await sdk.text(), /Reelstat SDK/);
    } finally {
      assert.equal(await stop(c), 0);
    }
  });
});

describe('SIGTERM drains (R3)', () => {
  it('the request in flight finishes with 202 and is stored; new requests get 503; exit 0', { timeout: 60_000 }, async () => {
    const dir = dataDir();
    const port = await freePort();
    const c = await spawnServer(dir, port, { REELSTAT_LOG_LEVEL: 'info', REELSTAT_SHUTDOWN_GRACE: '20' });
    const { writeKey, apiToken } = credentials(dir);
    const collectHeaders = { 'content-type': 'application/json', 'x-reelstat-key': writeKey };

    // A keep-alive connection that is open and idle when the drain starts.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    assert.equal((await send(c.url, '/healthz', { agent: keepAlive })).status, 200);

    // The request in flight: headers and half the body now, the rest after SIGTERM.
    const inflightIds = Array.from({ length: 50 }, (_, i) => `drain-inflight-${i}`);
    const body = JSON.stringify({ events: inflightIds.map(ev) });
    const slow = request(`${c.url}/api/v1/collect`, { method: 'POST', headers: { ...collectHeaders, 'transfer-encoding': 'chunked' } });
    const slowDone = finish(slow);
    slow.flushHeaders();
    slow.write(body.slice(0, body.length >> 1));
    // The server has read those headers once a later request on another connection was answered.
    assert.equal((await send(c.url, '/healthz')).status, 200);
    await new Promise((r) => setTimeout(r, 200));

    c.proc.kill('SIGTERM');
    // main.ts logs "draining" in the same tick as it starts the drain.
    for (const until = Date.now() + 10_000; !c.output().includes('"msg":"draining"'); ) {
      assert.ok(Date.now() < until, `no drain log: ${c.output()}`);
      await new Promise((r) => setTimeout(r, 10));
    }

    const lateIds = ['drain-late-1', 'drain-late-2'];
    const onKeepAlive = await send(c.url, '/api/v1/collect', { method: 'POST', agent: keepAlive, headers: collectHeaders, body: JSON.stringify(lateIds.map(ev)) });
    assert.equal(onKeepAlive.status, 503, onKeepAlive.body);
    assert.equal(JSON.parse(onKeepAlive.body).error.code, 'shutting_down');
    assert.ok(Number(onKeepAlive.headers['retry-after']) > 0, 'Retry-After');
    assert.equal(onKeepAlive.headers.connection, 'close');
    const onNewConnection = await send(c.url, '/api/v1/collect', { method: 'POST', headers: collectHeaders, body: JSON.stringify([ev('drain-late-3')]) });
    assert.equal(onNewConnection.status, 503, onNewConnection.body);
    const health = await send(c.url, '/healthz');
    assert.equal(health.status, 503);
    assert.equal(c.proc.exitCode, null, 'still draining while a request is in flight');

    slow.end(body.slice(body.length >> 1));
    const res = await slowDone;
    assert.equal(res.status, 202, res.body);
    assert.deepEqual(JSON.parse(res.body), { accepted: 50, duplicates: 0, rejected: [] });
    assert.equal(await c.exited, 0, c.output());
    keepAlive.destroy();

    const again = await spawnServer(dir, port);
    try {
      const ids = new Set((await readAllEvents(again.url, apiToken)).map((e) => e.id));
      for (const id of inflightIds) assert.ok(ids.has(id), `acknowledged ${id} stored`);
      for (const id of [...lateIds, 'drain-late-3']) assert.ok(!ids.has(id), `refused ${id} not stored`);
    } finally {
      assert.equal(await stop(again), 0);
    }
  });
});

describe('health and the API reference', () => {
  it('/healthz, /api/v1/openapi.json and /api/v1/docs', async () => {
    const dir = dataDir();
    const c = await spawnServer(dir, await freePort());
    try {
      const h = await fetch(`${c.url}/healthz`);
      assert.equal(h.status, 200);
      assert.equal((await h.json()).status, 'ok');

      const spec = await (await fetch(`${c.url}/api/v1/openapi.json`)).json();
      assert.match(spec.openapi, /^3\./);
      const paths = ['/api/v1/collect', '/api/v1/videos/{contentId}', '/api/v1/oauth-clients', '/api/v1/events/stream'];
      for (const p of paths) assert.ok(spec.paths[p], `${p} in ${Object.keys(spec.paths).join(' ')}`);
      assert.ok(spec.paths['/api/v1/collect'].post);
      assert.ok(spec.paths['/api/v1/videos/{contentId}'].put && spec.paths['/api/v1/videos/{contentId}'].get);

      const docs = await fetch(`${c.url}/api/v1/docs`);
      assert.equal(docs.status, 200);
      assert.match(docs.headers.get('content-type') ?? '', /text\/html/);
      const html = await docs.text();
      assert.match(html, /^<!doctype html>/i);
      for (const p of paths) assert.ok(html.includes(p), `${p} in the reference page`);
    } finally {
      assert.equal(await stop(c), 0);
    }
  });
});
