/**
 * The crash drill (reliability figure R1): ingest continuously while the server is killed with
 * SIGKILL at random moments; the client resends what was not acknowledged, with the same ids.
 * Afterwards every acknowledged event must be stored exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAllEvents } from './server.ts';
import { credentials, freePort, spawnServer, type Child } from './process.ts';

export interface CrashReport {
  kills: number;
  sent: number;
  acknowledged: number;
  stored: number;
  lostAcknowledged: number;
  duplicates: number;
  /** Milliseconds from kill to serving again, per kill. */
  restartMs: number[];
}

export async function crashDrill(opts: { kills: number; batch?: number; concurrency?: number; seed?: number }): Promise<CrashReport> {
  const batchSize = opts.batch ?? 100;
  const concurrency = opts.concurrency ?? 4;
  let seed = opts.seed ?? 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const dataDir = mkdtempSync(join(tmpdir(), 'reelstat-crash-'));
  const port = await freePort();
  const env = { REELSTAT_COLLECT_ACCOUNT_RATE: '0', REELSTAT_COLLECT_IP_RATE: '0' };
  let child: Child = await spawnServer(dataDir, port, env);
  const { writeKey, apiToken } = credentials(dataDir);

  const pending: string[][] = [];
  let next = 0;
  const acked = new Set<string>();
  let sent = 0;
  const makeBatch = (): string[] => Array.from({ length: batchSize }, () => `crash-${next++}`);
  const body = (ids: string[]) =>
    JSON.stringify({
      writeKey,
      events: ids.map((id, i) => ({ id, event: i % 2 ? 'impression' : 'playStart', timestamp: Date.now() - 1000, contentId: `v${i % 7}`, sessionId: `s${id}` })),
    });

  let stop = false;
  async function sender(): Promise<void> {
    while (!stop) {
      const ids = pending.shift() ?? makeBatch();
      sent += ids.length;
      try {
        const res = await fetch(`${child.url}/api/v1/collect`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(ids) });
        await res.text();
        if (res.status === 202) ids.forEach((id) => acked.add(id));
        else pending.push(ids);
      } catch {
        pending.push(ids);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  const restartMs: number[] = [];
  const senders = Array.from({ length: concurrency }, () => sender());
  try {
    for (let k = 0; k < opts.kills; k++) {
      await new Promise((r) => setTimeout(r, 150 + rand() * 600));
      child.proc.kill('SIGKILL');
      await child.exited;
      const t0 = Date.now();
      child = await spawnServer(dataDir, port, env);
      restartMs.push(Date.now() - t0);
    }
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    stop = true;
    await Promise.all(senders);
  }
  // Resend everything never acknowledged, until it is.
  for (let tries = 0; pending.length && tries < 100; tries++) {
    const ids = pending.shift()!;
    const res = await fetch(`${child.url}/api/v1/collect`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(ids) });
    await res.text();
    if (res.status === 202) ids.forEach((id) => acked.add(id));
    else pending.push(ids);
  }
  const events = await readAllEvents(child.url, apiToken);
  child.proc.kill('SIGKILL');
  await child.exited;
  rmSync(dataDir, { recursive: true, force: true });

  const seen = new Map<string, number>();
  for (const e of events) seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
  let duplicates = 0;
  for (const n of seen.values()) if (n > 1) duplicates += n - 1;
  let lost = 0;
  for (const id of acked) if (!seen.has(id)) lost++;
  return { kills: opts.kills, sent, acknowledged: acked.size, stored: events.length, lostAcknowledged: lost, duplicates, restartMs };
}
