import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { BROWSER_UA } from './helpers/server.ts';
import { credentials, freePort, spawnServer } from './helpers/process.ts';

it('kill -9 during an export run: after restart the run completes, its parts equal a clean run\'s', { timeout: 240_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'reelstat-xcrash-'));
  const port = await freePort();
  const env = { REELSTAT_EXPORT_PART_ROWS: '20000', REELSTAT_COLLECT_IP_RATE: '0', REELSTAT_COLLECT_ACCOUNT_RATE: '0' };
  let child = await spawnServer(dataDir, port, env);
  try {
    const { writeKey, apiToken } = credentials(dataDir);
    const t0 = Date.now() - 3_600_000;
    for (let b = 0; b < 150; b++) {
      const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ id: `k${b}-${i}`, event: 'impression', timestamp: t0 + b * 1000 + i, contentId: `v${i % 9}`, sessionId: `s${b}-${i % 50}`, viewerName: `viewer "${i}", =x` }));
      const r = await fetch(`${child.url}/api/v1/collect?writeKey=${writeKey}`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'user-agent': BROWSER_UA }, body: lines.join('\n') });
      assert.equal(r.status, 202);
    }
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const body = JSON.stringify({ startDate: yesterday, endDate: today, format: 'csv', fields: ['id', 'event', 'timestamp', 'contentId', 'viewerName'] });
    const headers = { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' };
    const create = async () => (await (await fetch(`${child.url}/api/v1/exports`, { method: 'POST', headers, body })).json()).id as string;
    const status = async (id: string) => (await fetch(`${child.url}/api/v1/exports/${id}`, { headers })).json();
    const waitDone = async (id: string) => {
      for (let i = 0; i < 600; i++) {
        const e = await status(id);
        if (e.status === 'completed' || e.status === 'failed') return e;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('export did not finish');
    };

    const crashed = await create();
    for (let i = 0; i < 200 && (await status(crashed)).status !== 'running'; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    child.proc.kill('SIGKILL');
    await child.exited;
    // Nothing half-written is visible: only a temporary directory, or nothing, for that run.
    const visible = existsSync(join(dataDir, 'exports')) ? readdirSync(join(dataDir, 'exports')).filter((n) => !n.startsWith('.tmp-')) : [];
    for (const d of visible) assert.ok(existsSync(join(dataDir, 'exports', d, 'manifest.json')), `a visible run directory without its manifest: ${d}`);

    child = await spawnServer(dataDir, port, env);
    const afterCrash = await waitDone(crashed);
    assert.equal(afterCrash.status, 'completed', JSON.stringify(afterCrash));
    assert.equal(afterCrash.rows, 150_000);
    assert.equal(afterCrash.attempts, 2, 'the first attempt was cut off by the kill and the run redone from scratch');
    assert.equal(afterCrash.files.length, 8);
    assert.ok(!readdirSync(join(dataDir, 'exports')).some((n) => n.startsWith('.tmp-')), 'temporary files swept');

    const clean = await waitDone(await create());
    assert.deepEqual(afterCrash.files.map((f: any) => [f.rows, f.size, f.sha256]), clean.files.map((f: any) => [f.rows, f.size, f.sha256]));
    const part = await fetch(afterCrash.files[3].url);
    assert.equal(part.status, 200);
    const { createHash } = await import('node:crypto');
    assert.equal(createHash('sha256').update(Buffer.from(await part.arrayBuffer())).digest('hex'), afterCrash.files[3].sha256);
  } finally {
    child.proc.kill('SIGKILL');
    await child.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});
