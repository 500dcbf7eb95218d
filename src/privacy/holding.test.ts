import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExportRunRow, RunWithSpec, ViewerFootprint } from '../storage/types.ts';
import { holdsViewer, scrubSpec } from './holding.ts';

const HOUR = 3_600_000;
const fp: ViewerFootprint = { events: 3, records: 1, sessions: ['s1'], hours: [100, 105], sessionHours: [98], contentIds: ['v1', 'v2'] };
const run = (from: number, to: number, spec: Record<string, unknown>): RunWithSpec => ({
  run: { id: 'r', jobId: 'j', accountId: 'a', periodFrom: from * HOUR, periodTo: to * HOUR, status: 'completed' } as ExportRunRow,
  jobKind: 'once',
  spec,
});

test('a run holds the viewer when its period covers one of their hours and no filter excludes them', () => {
  assert.equal(holdsViewer(run(99, 101, { scope: 'events' }), fp, 'u'), true);
  assert.equal(holdsViewer(run(101, 105, { scope: 'views' }), fp, 'u'), false, 'the period ends where hour 105 starts');
  assert.equal(holdsViewer(run(105, 106, { scope: 'sessions', filters: { userId: 'u' } }), fp, 'u'), true);
  assert.equal(holdsViewer(run(0, 200, { scope: 'events', filters: { userId: 'other' } }), fp, 'u'), false);
  assert.equal(holdsViewer(run(0, 200, { scope: 'events', filters: { sessionId: 's2' } }), fp, 'u'), false);
  assert.equal(holdsViewer(run(0, 200, { scope: 'events', filters: { sessionId: 's1', country: 'DE' } }), fp, 'u'), true);
  assert.equal(holdsViewer(run(0, 200, { scope: 'videos' }), fp, 'u'), false, 'one row a video');
  assert.equal(holdsViewer(run(0, 1, { scope: 'events', viewer: 'u' }), fp, 'u'), true, 'the viewer\'s own export');
  // Hour 98 holds the start of a session of the viewer's, whose records came later.
  assert.equal(holdsViewer(run(98, 99, { scope: 'sessions' }), fp, 'u'), true, 'a sessions row sums the session\'s later records');
  assert.equal(holdsViewer(run(98, 99, { scope: 'views' }), fp, 'u'), false, 'view records are in the period they started in');
  assert.equal(holdsViewer(run(0, 200, { scope: 'events', viewer: 'w' }), fp, 'u'), false, 'another viewer\'s export');
  // An export of one video: only one the viewer played holds them; unknown contents (an erasure
  // recorded before they were kept) hold them all.
  assert.equal(holdsViewer(run(0, 200, { scope: 'views', filters: { contentId: 'v2' } }), fp, 'u'), true);
  assert.equal(holdsViewer(run(0, 200, { scope: 'sessions', filters: { contentId: 'v3' } }), fp, 'u'), false, 'a video the viewer never played');
  assert.equal(holdsViewer(run(0, 200, { scope: 'events', filters: { contentId: 'v3' } }), { ...fp, contentIds: null }, 'u'), true);
});

test('scrubSpec replaces the viewer wherever a spec names them, and nothing else', () => {
  const spec = { scope: 'events', viewer: 'u', filters: { userId: 'u', country: 'DE' } };
  assert.deepEqual(scrubSpec(spec, 'u', 'X'), { scope: 'events', viewer: 'X', filters: { userId: 'X', country: 'DE' } });
  assert.deepEqual(scrubSpec({ scope: 'views', filters: { userId: 'w' } }, 'u', 'X'), { scope: 'views', filters: { userId: 'w' } });
  assert.equal(spec.viewer, 'u', 'the input is not changed');
});
