/** A report's link ends with its file: after REELSTAT_LINK_TTL, or the account's export file retention when shorter (as an export's). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient, type Api } from './helpers/api.ts';
import { runExport, startTestServer, type TestServer } from './helpers/server.ts';

const DAY = 86_400_000;
let s: TestServer;
let api: Api;
before(async () => {
  s = await startTestServer({ REELSTAT_LINK_TTL: String(7 * 86_400) });
  api = apiClient(s.url, s.token);
});
after(() => s.stop());

async function report(): Promise<any> {
  const r = await api('POST', '/api/v1/reports', { period: 'today' });
  assert.equal(r.status, 202, r.text);
  for (let i = 0; i < 400; i++) {
    const got = await api('GET', `/api/v1/reports/${r.json.id}`);
    if (got.json.status !== 'pending' && got.json.status !== 'running') return got.json;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error('report did not finish');
}

const leftMs = (expiresAt: string) => Date.parse(expiresAt) - Date.now();

describe('report link expiry', () => {
  it('the link TTL (7 days) while the retention keeps files longer', async () => {
    assert.equal((await api('PUT', '/api/v1/retention', { exportFileDays: 30 })).status, 200);
    const done = await report();
    assert.equal(done.status, 'completed', JSON.stringify(done));
    const left = leftMs(done.file.expiresAt);
    assert.ok(left > 7 * DAY - 60_000 && left <= 7 * DAY, String(left));
  });

  it('the account\'s export file retention (1 day) when shorter, the same as an export\'s', async () => {
    assert.equal((await api('PUT', '/api/v1/retention', { exportFileDays: 1 })).status, 200);
    const done = await report();
    assert.equal(done.status, 'completed', JSON.stringify(done));
    const left = leftMs(done.file.expiresAt);
    assert.ok(left > DAY - 60_000 && left <= DAY, String(left));
    assert.equal(new URL(done.url).searchParams.get('expires'), String(Math.floor(Date.parse(done.file.expiresAt) / 1000)));
    const day = new Date().toISOString().slice(0, 10);
    const e = await runExport(s.url, s.token, { startDate: day, endDate: day });
    assert.equal(e.status, 'completed');
    assert.ok(Math.abs(leftMs(e.files[0].expiresAt) - left) < 60_000, 'an export written now ends with the report');
  });
});
