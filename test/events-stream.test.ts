/**
 * Incremental reads (spec/exports.md "Incremental reads") while ingest goes on: concurrent producers
 * send batches (late events and retried duplicates included) while a consumer follows
 * GET /api/v1/events/stream from cursor to cursor with a small page; afterwards the consumer has seen
 * every acknowledged event exactly once, in arrival order; reading again from any cursor gives the
 * same events, twice; another account's events never appear.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collect, createAccount, startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
const PRODUCERS = 4;
const BATCHES = 25;
const PER_BATCH = 40;

async function page(cursor: string, limit: number, token = s.token): Promise<{ ids: string[]; next: string }> {
  const r = await fetch(`${s.url}/api/v1/events/stream?limit=${limit}&cursor=${cursor}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /ndjson/);
  const ids = (await r.text()).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id);
  return { ids, next: r.headers.get('x-next-cursor')! };
}

/** Follows the stream from `cursor` until an empty page; returns the ids and each page's cursor. */
async function readFrom(cursor: string, limit: number): Promise<{ ids: string[]; cursors: string[] }> {
  const ids: string[] = [];
  const cursors: string[] = [];
  for (;;) {
    const p = await page(cursor, limit);
    if (!p.ids.length) return { ids, cursors };
    ids.push(...p.ids);
    cursors.push(cursor);
    cursor = p.next;
  }
}

describe('the incremental stream while ingest goes on', () => {
  const acked = new Set<string>();
  const seen: string[] = [];
  const cursors: number[] = [];

  before(async () => {
    s = await startTestServer({ REELSTAT_COLLECT_ACCOUNT_RATE: '0', REELSTAT_COLLECT_IP_RATE: '0' });
    const other = await createAccount(s.url, 'Other', 'other@stream.test');
    let producing = true;
    const producer = async (p: number) => {
      for (let b = 0; b < BATCHES; b++) {
        const events = Array.from({ length: PER_BATCH }, (_, i) => ({
          id: `p${p}-b${b}-${i}`, event: 'impression', contentId: 'vid', sessionId: `s${p}-${b}`,
          // Every fifth event is late: it happened hours ago, it arrives now.
          timestamp: Date.now() - (i % 5 === 0 ? 5 * 3_600_000 : 1000),
        }));
        const r = await collect(s.url, { writeKey: s.writeKey, events });
        assert.equal(r.status, 202, r.text);
        for (const e of events) acked.add(e.id);
        if (b % 5 === 4) {
          // A client retrying a batch it is unsure of: duplicates, stored once.
          const again = await collect(s.url, { writeKey: s.writeKey, events });
          assert.equal(again.json.duplicates, PER_BATCH);
        }
        if (p === 0 && b % 5 === 0) await collect(s.url, { writeKey: other.writeKey, events: [{ ...events[0], id: `other-${b}` }] });
      }
    };
    const consumer = async () => {
      let cursor = '';
      for (let idle = 0; ; ) {
        const p = await page(cursor, 37);
        if (p.ids.length) {
          seen.push(...p.ids);
          cursors.push(Number(p.next));
          cursor = p.next;
        } else if (!producing && ++idle > 1) return;
        else await new Promise((r) => setTimeout(r, 5));
      }
    };
    const reading = consumer();
    await Promise.all(Array.from({ length: PRODUCERS }, (_, p) => producer(p)));
    producing = false;
    await reading;
  });
  after(() => s.stop());

  it('saw every acknowledged event once, and nothing else', () => {
    assert.equal(acked.size, PRODUCERS * BATCHES * PER_BATCH);
    assert.equal(new Set(seen).size, seen.length, 'no event twice');
    assert.equal(seen.length, acked.size, 'no event missed');
    assert.ok(seen.every((id) => acked.has(id)), 'only this account\'s events');
  });

  it('cursors only move forward, and arrival order keeps each batch in its order', () => {
    for (let i = 1; i < cursors.length; i++) assert.ok(cursors[i] > cursors[i - 1]);
    const pos = new Map(seen.map((id, i) => [id, i]));
    for (let p = 0; p < PRODUCERS; p++) {
      for (let b = 1; b < BATCHES; b++) assert.ok(pos.get(`p${p}-b${b}-0`)! > pos.get(`p${p}-b${b - 1}-${PER_BATCH - 1}`)!);
    }
  });

  it('reading again from the start or from any cursor gives the same events, every time', async () => {
    const a = await readFrom('', 500);
    const b = await readFrom('', 53);
    assert.deepEqual(a.ids, seen);
    assert.deepEqual(b.ids, seen);
    const mid = String(cursors[Math.floor(cursors.length / 2)]);
    const c = await readFrom(mid, 100);
    const d = await readFrom(mid, 100);
    assert.deepEqual(c.ids, d.ids);
    assert.deepEqual(c.ids, seen.slice(seen.length - c.ids.length));
    assert.ok(c.ids.length > 0 && c.ids.length < seen.length);
  });

  it('refuses a cursor it did not give', async () => {
    const r = await fetch(`${s.url}/api/v1/events/stream?cursor=abc`, { headers: { authorization: `Bearer ${s.token}` } });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: { message: string } }).error.message, /cursor/);
  });
});
