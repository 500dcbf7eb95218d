/** How the server serves the built dashboard: pages, assets, security headers, and a missing build. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { ensureDashboard } from '../scripts/build-dashboard.mjs';
import { APP_PATHS, DASHBOARD_DIST, dashboardRoutes } from '../src/dashboard/routes.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
before(async () => {
  await ensureDashboard({ quiet: true });
  s = await startTestServer();
});
after(() => s.stop());

describe('dashboard pages and assets', () => {
  it('every page of the app answers the built index.html with a strict CSP, not cached', async () => {
    for (const path of APP_PATHS.map((p) => p.replace(':contentId', 'some%20video'))) {
      const r = await fetch(`${s.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'; script-src 'self'/);
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.equal(r.headers.get('cache-control'), 'no-cache');
      assert.match(await r.text(), /<div id="app"><\/div>/);
    }
  });

  it('serves the hashed assets with long caching, and nothing else from disk', async () => {
    const [js] = readdirSync(join(DASHBOARD_DIST, 'assets')).filter((f) => f.endsWith('.js'));
    const r = await fetch(`${s.url}/assets/${js}`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(r.headers.get('cache-control') ?? '', /immutable/);
    for (const bad of ['/assets/..%2F..%2Fpackage.json', '/assets/.build-hash', '/assets/nope.js', '/assets/..%2Fweb%2Fdist%2Findex.html']) {
      assert.equal((await fetch(`${s.url}${bad}`)).status, 404, bad);
    }
    assert.equal((await fetch(`${s.url}/favicon.svg`)).status, 200);
  });

  it('the API keeps answering JSON 404s for unknown paths', async () => {
    const r = await fetch(`${s.url}/api/v1/nothing-here`);
    assert.equal(r.status, 404);
    assert.equal((await r.json()).error.code, 'not_found');
  });

  it('without a build, pages answer 503 saying how to build it', async () => {
    const app = Fastify();
    await app.register(dashboardRoutes, { dir: mkdtempSync(join(tmpdir(), 'reelstat-nodist-')) });
    const r = await app.inject({ url: '/' });
    assert.equal(r.statusCode, 503);
    assert.match(r.body, /npm start/);
    await app.close();
  });
});
