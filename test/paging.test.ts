/** limit and offset of the native lists: optional with their defaults, and bounded (a huge offset is a 400, not a 500). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient, type Api } from './helpers/api.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
let api: Api;
before(async () => {
  s = await startTestServer();
  api = apiClient(s.url, s.token);
});
after(() => s.stop());

const LISTS = [
  '/api/v1/exports', '/api/v1/reports', '/api/v1/scheduled-exports', '/api/v1/scheduled-exports/sch_none/deliveries',
  '/api/v1/audit-log', '/api/v1/videos', '/api/v1/projects', '/api/v1/stats?period=today&dimensions=video_id',
];
const sep = (path: string) => (path.includes('?') ? '&' : '?');

describe('paging', () => {
  it('a huge offset or limit is a 400 that names it', async () => {
    for (const path of LISTS) {
      for (const q of ['offset=9223372036854775808', 'offset=1e300', 'offset=1000000001', 'limit=1e300']) {
        const r = await api('GET', `${path}${sep(path)}${q}`);
        assert.equal(r.status, 400, `${path} ${q}: ${r.text}`);
        assert.equal(r.json.error.code, 'validation_failed');
        assert.match(r.json.error.message, new RegExp(`${q.split('=')[0]} must be <= \\d+`), `${path} ${q}`);
      }
    }
  });

  it('the largest offset is accepted', async () => {
    for (const path of LISTS.filter((p) => !p.includes('sch_none'))) {
      const r = await api('GET', `${path}${sep(path)}offset=1000000000`);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
    }
  });

  it('OpenAPI: limit and offset are optional, with their defaults and bounds', async () => {
    const doc = (await api('GET', '/api/v1/openapi.json')).json;
    for (const path of ['/api/v1/exports', '/api/v1/reports', '/api/v1/scheduled-exports', '/api/v1/scheduled-exports/{id}/deliveries', '/api/v1/audit-log']) {
      const q = Object.fromEntries(doc.paths[path].get.parameters.filter((p: any) => p.in === 'query').map((p: any) => [p.name, p]));
      assert.equal(q.limit.required, false, path);
      assert.equal(q.offset.required, false, path);
      assert.equal(q.offset.schema.default, 0, path);
      assert.equal(q.offset.schema.maximum, 1_000_000_000, path);
      assert.equal(typeof q.limit.schema.default, 'number', path);
    }
  });
});
