/**
 * The export run queue's two lanes (JobRepo.claimRun) on a real DuckDB file: a once run starts unless
 * a once run of its account is running; a scheduled run unless a scheduled run is running; oldest
 * first among those that may start. And ExportService writes up to `workers` runs at once, `hold`
 * waiting for all of them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { ExportService } from '../src/exports/service.ts';
import { LinkSigner } from '../src/exports/links.ts';
import { openDuckDbStore } from '../src/storage/duckdb/index.ts';
import type { ExportJobRow, ExportRunRow, Store } from '../src/storage/types.ts';

let dir = '';
let store: Store;
let clock = Date.UTC(2026, 10, 1);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rs-queue-'));
  store = await openDuckDbStore(join(dir, 'db.duckdb'), { memoryLimit: '256MB', threads: 1 });
  await store.migrate();
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const SPEC = { scope: 'events', format: 'csv', types: ['events'], fields: [], filters: {}, gzip: false, zip: false };

/** A job of `kind` for `account` with one pending run, each created a millisecond after the last. */
async function pending(id: string, account: string, kind: ExportJobRow['kind']): Promise<string> {
  const at = clock++;
  const job: ExportJobRow = { id: `job_${id}`, accountId: account, kind, spec: SPEC, state: 'active', createdAt: at };
  const run: ExportRunRow = {
    id: `run_${id}`, jobId: job.id, accountId: account, periodFrom: at - 3_600_000, periodTo: at, status: 'pending', attempts: 0,
    rows: null, files: null, error: null, createdAt: at, finishedAt: null, expiresAt: null,
  };
  await store.jobs.createJob(job, run);
  return run.id;
}

const claim = async () => (await store.jobs.claimRun())?.id;
const finish = (id: string) => store.jobs.finishRun(id, { rows: 0, files: [], finishedAt: clock, expiresAt: clock + 1 });

describe('export queue: which pending run may start', () => {
  it('once runs queue behind their own account only; scheduled runs behind a scheduled run only', async () => {
    const a1 = await pending('a1', 'acc_a', 'once');
    const a2 = await pending('a2', 'acc_a', 'once');
    const d1 = await pending('d1', 'acc_a', 'daily');
    const b1 = await pending('b1', 'acc_b', 'once');
    const h1 = await pending('h1', 'acc_b', 'hourly');
    assert.equal(await claim(), a1, 'oldest first');
    // a2 is the oldest pending, but acc_a has a once run running: the next that may start is the daily run
    assert.equal(await claim(), d1);
    assert.equal(await claim(), b1, "another account's once run is not held back by acc_a's, nor by a scheduled run");
    assert.equal(await claim(), undefined, 'a2 waits for a1, h1 for d1');
    await finish(d1);
    assert.equal(await claim(), h1, 'the scheduled lane is free again');
    await finish(a1);
    assert.equal(await claim(), a2, "acc_a's once lane is free again");
    const run = await store.jobs.getRun(a2);
    assert.equal(run?.status, 'running');
    assert.equal(run?.attempts, 1);
    for (const id of [a2, b1, h1]) await finish(id);
    assert.equal(await claim(), undefined);
  });
});

describe('export queue: ExportService writes up to `workers` runs at once', () => {
  it('two accounts\' once runs are written together; hold waits for both; stop leaves nothing running', async () => {
    const log = pino({ level: 'silent' });
    const signer = new LinkSigner(Buffer.alloc(32, 7), 60_000, () => 'http://127.0.0.1');
    const original = store.exports.snapshot;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inside = 0;
    let most = 0;
    store.exports.snapshot = (async (fn: never, opts: never) => {
      inside++;
      most = Math.max(most, inside);
      try {
        await gate;
        return await original.call(store.exports, fn, opts);
      } finally {
        inside--;
      }
    }) as typeof original;
    const service = new ExportService(store, signer, { dir: join(dir, 'exports'), partRows: 1000, maxOnDemandDays: 30, log, now: () => clock, settle: async () => {}, workers: 2 });
    try {
      const p1 = await pending('p1', 'acc_p', 'once');
      const p2 = await pending('p2', 'acc_p', 'once');
      const q1 = await pending('q1', 'acc_q', 'once');
      await service.start();
      for (let i = 0; i < 200 && inside < 2; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(inside, 2, 'p1 and q1 are written at once');
      assert.deepEqual([(await store.jobs.getRun(p1))?.status, (await store.jobs.getRun(q1))?.status, (await store.jobs.getRun(p2))?.status], ['running', 'running', 'pending']);
      let held = false;
      const holding = service.hold(async () => {
        held = true;
        return [(await store.jobs.getRun(p1))?.status, (await store.jobs.getRun(q1))?.status, (await store.jobs.getRun(p2))?.status];
      });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(held, false, 'hold waits for the runs being written');
      release();
      assert.deepEqual(await holding, ['completed', 'completed', 'pending'], 'and no run starts while it holds');
      for (let i = 0; i < 400 && (await store.jobs.getRun(p2))?.status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal((await store.jobs.getRun(p2))?.status, 'completed', 'p2 runs after the hold');
      assert.equal(most, 2, 'never more than two at once');
    } finally {
      release();
      await service.stop();
      store.exports.snapshot = original;
    }
    assert.equal(inside, 0);
  });

  it('a run whose end could not be recorded goes back to the queue instead of holding its lane', async () => {
    const log = pino({ level: 'silent' });
    const signer = new LinkSigner(Buffer.alloc(32, 7), 60_000, () => 'http://127.0.0.1');
    const original = store.jobs.finishRun;
    let failures = 1;
    store.jobs.finishRun = (async (...a: Parameters<typeof original>) => {
      if (failures-- > 0) throw new Error('disk full');
      return original.apply(store.jobs, a);
    }) as typeof original;
    const service = new ExportService(store, signer, { dir: join(dir, 'exports'), partRows: 1000, maxOnDemandDays: 30, log, now: () => clock, settle: async () => {}, workers: 2 });
    try {
      const r1 = await pending('r1', 'acc_r', 'once');
      const r2 = await pending('r2', 'acc_r', 'once');
      await service.start();
      for (let i = 0; i < 400 && (await store.jobs.getRun(r2))?.status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 10));
      const [a, b] = [await store.jobs.getRun(r1), await store.jobs.getRun(r2)];
      assert.equal(b?.status, 'completed', 'the account\'s next once run was not held back');
      assert.equal(a?.status, 'completed', 'the unrecorded run ran again');
      assert.equal(a?.attempts, 2);
    } finally {
      await service.stop();
      store.jobs.finishRun = original;
    }
  });
});
