/**
 * R4: the disk fills during ingest. The data directory is a small tmpfs; events are sent until the
 * store cannot take them. Once a write cannot be made durable no request gets a 2xx, /healthz says
 * 503, and every acknowledged event is there, once, when the files are opened again on a disk with
 * room. Two ways to fill it: the WAL cannot grow (8 MiB), or a checkpoint cannot be written (40 MiB;
 * DuckDB then invalidates the database until restarted).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { credentials, freePort, spawnServer, type Child } from './helpers/process.ts';
import { readAllEvents } from './helpers/server.ts';

const ENV = { REELSTAT_COLLECT_ACCOUNT_RATE: '0', REELSTAT_COLLECT_IP_RATE: '0', REELSTAT_SHUTDOWN_GRACE: '2' };
const BATCH = 400;
const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';

function mountTmpfs(dir: string, size: string): string | null {
  if (process.platform !== 'linux') return 'R4 needs Linux to mount a small tmpfs';
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status === 0) return null;
  return `cannot mount a tmpfs here (${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}); R4 needs root (mount -t tmpfs)`;
}

function umount(dir: string): void {
  for (let i = 0; i < 25; i++) {
    if (spawnSync('umount', [dir]).status === 0) return;
    spawnSync('sleep', ['0.2']);
  }
  spawnSync('umount', ['-l', dir]);
}

async function fillDisk(t: TestContext, size: string, stopWith: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'reelstat-diskfull-'));
  const small = join(root, 'small');
  mkdirSync(small);
  const skip = mountTmpfs(small, size);
  if (skip) {
    rmSync(root, { recursive: true, force: true });
    t.skip(skip);
    return;
  }
  let mounted = true;
  let child: Child | null = null;
  const port = await freePort();
  try {
    child = await spawnServer(small, port, ENV);
    const { writeKey, apiToken } = credentials(small);
    const url = child.url;
    const log = () => child?.output().slice(-3000) ?? '';

    // A second write key, never used before the disk fills, so checking it must read the store.
    const made = await fetch(`${url}/api/v1/write-keys`, { method: 'POST', headers: { authorization: `Bearer ${apiToken}` } });
    assert.equal(made.status, 201);
    const spareKey = (await made.json()).writeKey as string;

    let n = 0;
    const acked = new Set<string>();
    // Random text does not compress, so the checkpointed file grows as fast as the WAL.
    const send = async (count = BATCH, key = writeKey): Promise<{ status: number; body: string }> => {
      const events = Array.from({ length: count }, (_, i) => {
        const id = `full-${n++}`;
        return {
          id, event: 'watchProgress', timestamp: Date.now() - 1000, contentId: `v${i % 13}`, sessionId: `s${id}`,
          url: `https://example.com/${id}`, title: randomBytes(600).toString('base64'), data: { from: i, to: i + 5 },
        };
      });
      const res = await fetch(`${url}/api/v1/collect`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-reelstat-key': key, 'user-agent': UA }, body: JSON.stringify(events),
      }).catch((err) => assert.fail(`the server stopped answering (${err.cause?.code ?? err.message}), exit ${child?.proc.exitCode}\n${log()}`));
      const body = await res.text();
      // Whatever got a 2xx must be there afterwards — including anything acknowledged after the disk filled.
      if (res.status >= 200 && res.status < 300) events.forEach((e) => acked.add(e.id));
      return { status: res.status, body };
    };

    let first: { status: number; body: string } | null = null;
    for (let i = 0; i < 1000 && !first; i++) {
      const r = await send();
      if (r.status !== 202) first = r;
    }
    assert.ok(first, `the disk never filled (${acked.size} events acknowledged)`);
    assert.equal(first.status, 503, `${first.body}\n${log()}`);
    assert.equal(JSON.parse(first.body).error.code, 'storage_unavailable');
    assert.ok(acked.size >= BATCH, 'events were stored before the disk filled');
    const before = acked.size;

    // Full: unhealthy, and full-size batches are refused with 503 and Retry-After.
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 503, await health.text());
    for (let i = 0; i < 8; i++) {
      const r = await send();
      assert.equal(r.status, 503, `batch ${i} after the disk filled: ${r.body}\n${log()}`);
    }
    // A single event may still fit in what the failed commit left (DuckDB truncates its WAL back);
    // then it is durable and must be found below. Never anything but 202 or 503.
    const single = await send(1);
    assert.ok(single.status === 202 || single.status === 503, `single event: ${single.status} ${single.body}\n${log()}`);
    const big = await send();
    assert.equal(big.status, 503, big.body);
    const spare = await send(BATCH, spareKey);
    assert.equal(spare.status, 503, `a write key checked against the full store: ${spare.body}\n${log()}`);
    assert.equal(JSON.parse(spare.body).error.code, 'storage_unavailable');
    const after = await fetch(`${url}/healthz`).catch((err) => assert.fail(`the server stopped answering (${err.cause?.code ?? err.message}), exit ${child?.proc.exitCode}\n${log()}`));
    assert.equal(after.status, 503);

    child.proc.kill(stopWith);
    const code = await Promise.race([child.exited, new Promise((r) => setTimeout(() => r('hung'), 15_000))]);
    assert.notEqual(code, 'hung', `${stopWith} on a full disk: the process did not exit\n${log()}`);
    child = null;

    // The files, copied to a disk with room, open and hold everything acknowledged exactly once.
    const copy = join(root, 'copy');
    cpSync(small, copy, { recursive: true });
    umount(small);
    mounted = false;
    child = await spawnServer(copy, port, ENV);
    const events = await readAllEvents(child.url, apiToken);
    const ids = new Map<string, number>();
    for (const e of events) ids.set(e.id, (ids.get(e.id) ?? 0) + 1);
    const lost = [...acked].filter((id) => !ids.has(id));
    assert.equal(lost.length, 0, `${lost.length} acknowledged events lost, e.g. ${lost.slice(0, 3)}`);
    assert.ok([...ids.values()].every((c) => c === 1), 'no event stored twice');
    assert.equal((await fetch(`${child.url}/healthz`)).status, 200);
    assert.equal((await send()).status, 202, 'takes writes again');
    t.diagnostic(`${size}: ${before} acknowledged before the first 503, single event after: ${single.status}, ${stopWith} exit ${code}, ${events.length} stored`);
  } finally {
    if (child && child.proc.exitCode === null) {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
    if (mounted) umount(small);
    rmSync(root, { recursive: true, force: true });
  }
}

describe('R4: disk full during ingest', () => {
  it('the WAL cannot grow: 503, never a 2xx that is not durable; SIGKILL; everything acknowledged survives', { timeout: 120_000 }, (t) =>
    fillDisk(t, '8m', 'SIGKILL'));
  it('a checkpoint cannot be written: 503 from then on; SIGTERM exits; everything acknowledged survives', { timeout: 180_000 }, (t) =>
    fillDisk(t, '40m', 'SIGTERM'));
});
