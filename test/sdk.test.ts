// The SDK files the server serves: built at start from sdk/src, under 6 KB gzipped, loadable from
// any site (CORS, CORP), cached by ETag; the classic script defines window.Reelstat aimed at the
// server it came from, the ES module exports the same API.
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { runInNewContext } from 'node:vm';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(() => s.stop());

const MAX_GZIP = 6 * 1024;

/** A GET whose body is left as sent (fetch would undo the gzip). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

describe('/sdk', () => {
  it('serves the classic script under 6 KB gzipped; it defines Reelstat reporting to this server', async () => {
    const r = await fetch(`${s.url}/sdk/reelstat.js`, { headers: { 'accept-encoding': 'gzip', origin: 'https://site.example' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.equal(r.headers.get('cross-origin-resource-policy'), 'cross-origin');
    const raw = await fetch(`${s.url}/sdk/reelstat.js`, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(raw.headers.get('content-encoding'), null);
    const text = await raw.text();
    assert.ok(!/\bimport\b\s*[{*(]|\bexport\s*{/.test(text), 'a classic script has no import/export');
    // Run it as a page would: `window` is the global object, document.currentScript names its URL.
    const sandbox: Record<string, any> = { document: { currentScript: { src: `${s.url}/sdk/reelstat.js` } }, URL };
    sandbox.window = sandbox;
    runInNewContext(text, sandbox);
    const R = sandbox.Reelstat;
    assert.deepEqual(Object.keys(R).sort(), ['track', 'trackHls', 'trackVideojs', 'version']);
    assert.equal(R.version, '0.1.0');
    assert.throws(() => R.track({}, { writeKey: 'wk_x', contentId: 'c' }), /<video> or <audio> element/);
  });

  it('gzip when asked (what browsers download is under the budget), 304 on a matching ETag', async () => {
    for (const name of ['reelstat.js', 'reelstat.mjs']) {
      const plain = await (await fetch(`${s.url}/sdk/${name}`, { headers: { 'accept-encoding': 'identity' } })).text();
      const gz = await rawGet(`${s.url}/sdk/${name}`, { 'accept-encoding': 'gzip, deflate, br' });
      assert.equal(gz.headers['content-encoding'], 'gzip');
      assert.equal(gz.headers.vary, 'Accept-Encoding');
      assert.equal(gunzipSync(gz.body).toString('utf8'), plain);
      assert.ok(gz.body.length < MAX_GZIP, `${name} is served as ${gz.body.length} gzipped bytes; the budget is ${MAX_GZIP}`);
      const etag = gz.headers.etag as string;
      assert.match(etag, /^"[0-9a-f]{20}"$/);
      assert.match(gz.headers['cache-control'] as string, /max-age=300/);
      const cached = await fetch(`${s.url}/sdk/${name}`, { headers: { 'if-none-match': `"other", ${etag}` } });
      assert.equal(cached.status, 304);
      assert.equal((await fetch(`${s.url}/sdk/${name}`, { headers: { 'if-none-match': '"other"' } })).status, 200);
    }
  });

  it('serves the ES module with the same API', async () => {
    const text = await (await fetch(`${s.url}/sdk/reelstat.mjs`)).text();
    const m = await import(`data:text/javascript;base64,${Buffer.from(text).toString('base64')}`);
    assert.deepEqual(Object.keys(m).sort(), ['track', 'trackHls', 'trackVideojs', 'version']);
    // Imported from a data: URL there is no server to default to: the endpoint must be given.
    assert.throws(() => m.track({ addEventListener() {}, currentTime: 0 }, { writeKey: 'wk_x', contentId: 'c' }), /endpoint is required/);
  });

  it('404 for anything else under /sdk', async () => {
    const r = await fetch(`${s.url}/sdk/other.js`);
    assert.equal(r.status, 404);
    assert.equal((await r.json()).error.code, 'not_found');
  });
});
