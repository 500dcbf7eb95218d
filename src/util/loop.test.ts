import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PollingLoop, type ErrorLog } from './loop.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function recorder(): ErrorLog & { logged: Array<{ err: unknown; msg: string }> } {
  const logged: Array<{ err: unknown; msg: string }> = [];
  return { logged, error: (obj, msg) => logged.push({ err: obj.err, msg }) };
}

describe('PollingLoop', () => {
  test('never runs two rounds at once; kick during a round shares it', async () => {
    let active = 0;
    let most = 0;
    let rounds = 0;
    const loop = new PollingLoop({
      everyMs: 5, log: recorder(), failure: 'x',
      round: async () => {
        active++;
        most = Math.max(most, active);
        await sleep(20);
        active--;
        return ++rounds;
      },
    });
    const a = loop.kick();
    const b = loop.kick();
    assert.equal(a, b, 'a kick while a round is going gets that round');
    assert.equal(await a, 1);
    loop.start();
    for (let i = 0; i < 10; i++) {
      void loop.kick();
      await sleep(7);
    }
    await loop.stop();
    assert.equal(most, 1);
    assert.ok(rounds >= 2, `ticks ran rounds (${rounds})`);
  });

  test('a failed round is logged with the message, not thrown, and the next tick tries again', async () => {
    const log = recorder();
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      let calls = 0;
      const loop = new PollingLoop({
        everyMs: 10, log, failure: 'the queue could not be read; will retry',
        round: async () => {
          calls++;
          if (calls <= 2) throw new Error(`boom ${calls}`);
          return 'ok';
        },
      });
      assert.equal(await loop.kick(), undefined, 'a failed round resolves with undefined');
      loop.start();
      for (let i = 0; i < 100 && calls < 3; i++) await sleep(10);
      await loop.stop();
      assert.ok(calls >= 3, 'retried on the ticks');
      assert.deepEqual(log.logged.map((l) => [(l.err as Error).message, l.msg]), [
        ['boom 1', 'the queue could not be read; will retry'],
        ['boom 2', 'the queue could not be read; will retry'],
      ]);
      // A round that throws before returning a promise is caught too.
      const sync = new PollingLoop({ everyMs: 1000, log, failure: 'sync', round: () => { throw new Error('at once'); } });
      assert.equal(await sync.kick(), undefined);
      assert.equal(log.logged.at(-1)?.msg, 'sync');
      await sleep(10);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('stop clears the timer and awaits the round in flight', async () => {
    const gate = deferred();
    let finished = false;
    let rounds = 0;
    const loop = new PollingLoop({
      everyMs: 5, log: recorder(), failure: 'x',
      round: async () => {
        rounds++;
        await gate.promise;
        finished = true;
      },
    });
    loop.start();
    void loop.kick();
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    assert.equal(loop.stopped, true, 'the round can see the stop');
    await sleep(30);
    assert.equal(stopped, false, 'stop waits for the round');
    gate.resolve();
    await stopping;
    assert.equal(finished, true);
    await sleep(30);
    assert.equal(rounds, 1, 'no tick after stop');
  });

  test('kick after stop does nothing', async () => {
    let rounds = 0;
    const loop = new PollingLoop({ everyMs: 5, log: recorder(), failure: 'x', round: async () => ++rounds });
    await loop.stop();
    assert.equal(await loop.kick(), undefined);
    assert.equal(await loop.start(), undefined, 'start after stop does nothing either');
    await sleep(30);
    assert.equal(rounds, 0);
  });

  test('start runs a round at once, then one a tick', async () => {
    let rounds = 0;
    const loop = new PollingLoop({ everyMs: 10, log: recorder(), failure: 'x', round: async () => ++rounds });
    assert.equal(await loop.start(), 1, 'the first round, before any tick');
    for (let i = 0; i < 100 && rounds < 3; i++) await sleep(10);
    await loop.stop();
    assert.ok(rounds >= 3);
  });

  test('idle awaits the current round, and resolves at once without one', async () => {
    const loop = new PollingLoop({ everyMs: 1000, log: recorder(), failure: 'x', round: () => sleep(20) });
    await loop.idle();
    let done = false;
    void loop.kick().then(() => (done = true));
    await loop.idle();
    assert.equal(done, true);
    await loop.stop();
  });
});
