/** POST /api/v1/users/{userId}/export: the body may be left out, as the README's curl example does. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient, waitExport, type Api } from './helpers/api.ts';
import { collect, startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
let api: Api;
const PATH = '/api/v1/users/user-42/export';

before(async () => {
  s = await startTestServer();
  api = apiClient(s.url, s.token);
  const events = [1, 2, 3].map((i) => ({ id: `b${i}`, event: 'impression', timestamp: Date.now() - 60_000, contentId: 'v', sessionId: 's', userId: 'user-42' }));
  assert.equal((await collect(s.url, events, { 'x-reelstat-key': s.writeKey })).status, 202);
});
after(() => s.stop());

const post = (headers: Record<string, string>, body?: string) =>
  fetch(`${s.url}${PATH}`, { method: 'POST', headers: { authorization: `Bearer ${s.token}`, ...headers }, body });

describe('per-viewer export body', () => {
  it('no body, an empty application/json body and {} all start the default export (JSON Lines)', async () => {
    for (const [what, res] of [
      ['no body', await post({})],
      ['empty JSON body', await post({ 'content-type': 'application/json' }, '')],
      ['{}', await post({ 'content-type': 'application/json' }, '{}')],
    ] as const) {
      const json = await res.json();
      assert.equal(res.status, 202, `${what}: ${JSON.stringify(json)}`);
      const done = await waitExport(api, json.id);
      assert.equal(done.status, 'completed', what);
      assert.equal(done.format, 'jsonl', what);
      assert.equal(done.scope, 'viewer', what);
    }
  });

  it('a key the server does not know is a 400 naming it, as for POST /api/v1/exports, and starts nothing', async () => {
    const before = (await api('GET', '/api/v1/exports')).json.data.length;
    for (const body of [{ foo: 1 }, { viewer: 'someone-else' }]) {
      const r = await post({ 'content-type': 'application/json' }, JSON.stringify(body));
      assert.equal(r.status, 400);
      assert.match((await r.json()).error.message, new RegExp(`"${Object.keys(body)[0]}": unknown parameter; accepted: types, format, fields, gzip, zip, bom`));
    }
    assert.equal((await api('GET', '/api/v1/exports')).json.data.length, before);
  });

  it('a body that is not an object, or not JSON, is still a 400', async () => {
    const arr = await post({ 'content-type': 'application/json' }, '[1]');
    assert.equal(arr.status, 400);
    assert.match((await arr.json()).error.message, /body must be object/);
    const broken = await post({ 'content-type': 'application/json' }, '{');
    assert.equal(broken.status, 400);
    assert.equal((await broken.json()).error.code, 'invalid_body');
    // Other routes of the plugin keep refusing an empty JSON body.
    const put = await fetch(`${s.url}/api/v1/retention`, { method: 'PUT', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body: '' });
    assert.equal(put.status, 400);
    assert.equal((await put.json()).error.code, 'invalid_body');
  });

  it('OpenAPI says the body is optional', async () => {
    const doc = (await api('GET', '/api/v1/openapi.json')).json;
    const op = doc.paths['/api/v1/users/{userId}/export'].post;
    assert.equal(op.requestBody.required, false);
    assert.equal(op['x-optional-body'], undefined);
    assert.equal(doc.paths['/api/v1/retention'].put.requestBody.required, true);
  });
});
