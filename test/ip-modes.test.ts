/**
 * REELSTAT_IP_MODE applied before anything is stored: with `truncate` and `drop` the full address is
 * in no API answer (events stream, view records through the Cincopa CSV) and in neither database file,
 * read as bytes while the server runs (the WAL) and after its shutdown checkpoint. `full` is the
 * control: there the address is found, so the byte search can fail.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { collect, readAllEvents, startTestServer } from './helpers/server.ts';

const V4 = '203.0.113.77';
const V6 = '2001:db8:abcd:12:3456:789a:bcde:f012';
const V6_TAIL = '3456:789a:bcde:f012';

function dbText(dataDir: string): string {
  return ['reelstat.duckdb', 'reelstat.duckdb.wal'].map((f) => join(dataDir, f)).filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('\n');
}

async function run(mode: 'full' | 'truncate' | 'drop') {
  const s = await startTestServer({ REELSTAT_IP_MODE: mode });
  try {
    const r = await collect(s.url, [
      { id: 'a', event: 'impression', timestamp: Date.now() - 5000, contentId: 'v', sessionId: 's4', ip: V4 },
      { id: 'b', event: 'impression', timestamp: Date.now() - 5000, contentId: 'v', sessionId: 's6', ip: V6 },
    ], { authorization: `Bearer ${s.token}` });
    assert.equal(r.json.accepted, 2, r.text);
    const events = await readAllEvents(s.url, s.token);
    const csv = await (await fetch(`${s.url}/ohm_get_v3.aspx?t=by_uid_csv&uid=${s.uid}&p=1-0`)).text();
    const wistia = await (await fetch(`${s.url}/stats/medias/v/events.json`, { headers: { authorization: `Basic ${Buffer.from(`api:${s.token}`).toString('base64')}` } })).text();
    const running = dbText(s.dataDir);
    await s.stop({ keepData: true });
    return { ips: events.map((e) => e.ip), answers: JSON.stringify(events) + csv + wistia, running, stopped: dbText(s.dataDir) };
  } finally {
    await s.stop();
  }
}

describe('IP modes', () => {
  it('full keeps the address (control: the byte search finds it)', async () => {
    const r = await run('full');
    assert.deepEqual(r.ips, [V4, V6]);
    assert.ok(r.running.includes(V4) && r.running.includes(V6_TAIL));
  });

  it('truncate zeroes the last IPv4 octet and the last 80 IPv6 bits before storing', async () => {
    const r = await run('truncate');
    assert.deepEqual(r.ips, ['203.0.113.0', '2001:db8:abcd::']);
    for (const text of [r.answers, r.running, r.stopped]) {
      assert.ok(!text.includes(V4), 'no full IPv4 address');
      assert.ok(!text.includes(V6_TAIL), 'no IPv6 interface bits');
    }
    assert.ok(r.answers.includes('203.0.113.0'));
  });

  it('drop stores no address at all', async () => {
    const r = await run('drop');
    assert.deepEqual(r.ips, [null, null]);
    for (const text of [r.answers, r.running, r.stopped]) {
      assert.ok(!text.includes('203.0.113.'), 'no IPv4 address');
      assert.ok(!text.includes('2001:db8:abcd'), 'no IPv6 address');
    }
  });
});
