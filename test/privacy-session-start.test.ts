/**
 * A sessions export's row of a session is in the period the session began in, and sums its later
 * records too. A session begun by another viewer one day, in which the erased viewer watched only
 * the next day: the first day's sessions export holds the viewer's record, and the erasure deletes
 * it; the first day's view records export does not, and stays.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { apiClient, exportDone, type Api } from './helpers/api.ts';
import { collect, startTestServer, type TestServer } from './helpers/server.ts';

const VIEWER = 'late-viewer';
const DAY = 86_400_000;
const startOfToday = Math.floor(Date.now() / DAY) * DAY;
const began = startOfToday - DAY - 30 * 60_000; // the day before yesterday, 23:30 UTC
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

let s: TestServer;
let api: Api;
before(async () => {
  s = await startTestServer();
  api = apiClient(s.url, s.token);
  const events = [
    { id: 'a-1', event: 'playStart', timestamp: began, contentId: 'vid-a', sessionId: 'span', userId: 'first-viewer' },
    { id: 'a-2', event: 'watchProgress', timestamp: began + 6000, contentId: 'vid-a', sessionId: 'span', userId: 'first-viewer', data: { from: 0, to: 5 } },
    // An hour later: yesterday, 00:30 UTC, in the same session.
    { id: 'b-1', event: 'playStart', timestamp: began + 3_600_000, contentId: 'vid-b', sessionId: 'span', userId: VIEWER },
    { id: 'b-2', event: 'watchProgress', timestamp: began + 3_606_000, contentId: 'vid-b', sessionId: 'span', userId: VIEWER, data: { from: 0, to: 5 } },
  ];
  const r = await collect(s.url, { writeKey: s.writeKey, events });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.json.accepted, 4, r.text);
});
after(() => s.stop());

it('the erasure deletes the sessions export of the day the viewer\'s session began, not that day\'s view records', async () => {
  const first = day(began);
  const sessions = await exportDone(api, '/api/v1/exports', { startDate: first, endDate: first, scope: 'sessions', format: 'csv', fields: ['sessionId', 'contentIds', 'contentCount'] });
  const views = await exportDone(api, '/api/v1/exports', { startDate: first, endDate: first, scope: 'views', format: 'csv', fields: ['viewId', 'contentId', 'userId'] });
  const text = await (await fetch(sessions.files[0].url)).text();
  assert.match(text, /span,.*vid-b.*,2\r\n/, `the session's row sums the viewer's later record: ${text}`);
  assert.doesNotMatch(await (await fetch(views.files[0].url)).text(), new RegExp(VIEWER), 'the day\'s view records are the first viewer\'s');

  const erased = await api('DELETE', `/api/v1/users/${VIEWER}`);
  assert.equal(erased.status, 200, erased.text);
  assert.deepEqual(erased.json.removed.exportFiles.map((f: { exportId: string }) => f.exportId), [sessions.id]);
  assert.equal((await fetch(sessions.files[0].url)).status, 410);
  assert.equal((await fetch(views.files[0].url)).status, 200);
});
