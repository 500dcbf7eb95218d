/**
 * Erasure compacts the database while ingest goes on: producers keep sending other viewers' events
 * during several erasures; every acknowledged event is stored once, the erased viewer's are gone, and
 * the view records still match the stream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient } from './helpers/api.ts';
import { collect, readAllEvents, startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;

describe('erasure during ingest', () => {
  const acked = new Set<string>();
  const erasures: any[] = [];

  before(async () => {
    s = await startTestServer({ REELSTAT_COLLECT_ACCOUNT_RATE: '0', REELSTAT_COLLECT_IP_RATE: '0' });
    const api = apiClient(s.url, s.token);
    const gone = Array.from({ length: 50 }, (_, i) => ({ id: `gone-${i}`, event: 'impression', timestamp: Date.now() - 60_000, contentId: 'v', sessionId: `g${i % 5}`, userId: 'gone' }));
    assert.equal((await collect(s.url, { writeKey: s.writeKey, events: gone })).json.accepted, 50);
    let producing = true;
    const producer = async (p: number) => {
      for (let b = 0; producing || b < 5; b++) {
        const events = Array.from({ length: 50 }, (_, i) => ({
          id: `p${p}-${b}-${i}`, event: i % 2 ? 'impression' : 'playStart', timestamp: Date.now() - 1000, contentId: 'v', sessionId: `p${p}-${b % 7}`, userId: `user-${p}`,
        }));
        const r = await collect(s.url, { writeKey: s.writeKey, events });
        if (r.status === 202) for (const e of events) acked.add(e.id);
        else assert.equal(r.status, 503, r.text); // a full queue sheds; the client would retry
      }
    };
    const producers = [0, 1, 2].map(producer);
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 150));
      const e = await api('DELETE', '/api/v1/users/gone');
      assert.equal(e.status, 200, e.text);
      erasures.push(e.json);
    }
    producing = false;
    await Promise.all(producers);
  });
  after(() => s.stop());

  it('erased and compacted each time', () => {
    assert.equal(erasures[0].removed.events, 50);
    assert.ok(erasures.every((e) => e.purged === true));
  });

  it('lost no acknowledged event and stored none twice', async () => {
    const events = await readAllEvents(s.url, s.token);
    const ids = events.map((e) => e.id as string);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.every((id) => !id.startsWith('gone-')));
    assert.deepEqual(new Set(ids), acked);
    const stats = await apiClient(s.url, s.token)('GET', '/api/v1/stats?dimensions=video_id');
    const impressions = events.filter((e) => e.event === 'impression').length;
    assert.equal(stats.json.data[0].player_loads, impressions, 'view records caught up with every stored event');
  });
});
