import assert from 'node:assert/strict';
import { it } from 'node:test';
import { crashDrill } from './helpers/crash.ts';

it('kill -9 during ingest, 10 times: no acknowledged event lost, none stored twice', { timeout: 300_000 }, async () => {
  const r = await crashDrill({ kills: 10 });
  assert.equal(r.lostAcknowledged, 0, JSON.stringify(r));
  assert.equal(r.duplicates, 0, JSON.stringify(r));
  assert.ok(r.acknowledged > 1000, `too little was ingested to mean anything: ${JSON.stringify(r)}`);
  assert.equal(r.stored, r.acknowledged, 'everything resent was stored exactly once');
  assert.ok(Math.max(...r.restartMs) < 10_000, `serving again within 10 s: ${r.restartMs}`);
});
