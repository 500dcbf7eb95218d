/**
 * A byte sink over a chain of writable stages (a gzip, a hash, then the file), written with
 * backpressure. pipeline() listens for 'error' on every stage for as long as the chain lives, so a
 * failed write (a full disk) fails the next write() or end() instead of reaching the process as an
 * unhandled 'error' event — which a bare stream does when it fails between two writes, while the
 * writer awaits something else (a DuckDB statement, the next line of a file).
 */
import { once } from 'node:events';
import { PassThrough, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Hash } from 'node:crypto';

export interface StreamSink {
  write(chunk: Buffer | string): Promise<void>;
  /** Ends the chain and waits until the last stage has finished (the file is written and closed). */
  end(): Promise<void>;
  /** Stops the chain after a failure of the writer's own (every stage is destroyed, the file closed). */
  destroy(): Promise<void>;
}

export function streamSink(...stages: Array<Transform | Writable>): StreamSink {
  const head = new PassThrough();
  let failure: unknown = null;
  const done = (pipeline as (...s: Array<PassThrough | Transform | Writable>) => Promise<void>)(head, ...stages);
  done.catch((err: unknown) => {
    failure ??= err;
  });
  const failed = () => {
    if (failure) throw failure;
  };
  return {
    async write(chunk) {
      failed();
      if (!head.write(chunk)) await Promise.race([once(head, 'drain'), done]);
      failed();
    },
    async end() {
      failed();
      head.end();
      await done;
    },
    async destroy() {
      head.destroy(new Error('the writer stopped'));
      await done.catch(() => undefined);
      // The pipeline settles on the first error, while a file may still be opening or closing on
      // libuv's threads (it appeared after its writer had failed: a test's folder was not empty).
      await Promise.all(stages.map((s) => (s.closed ? undefined : new Promise((closed) => s.once('close', closed)))));
    },
  };
}

/** A stage that hashes the bytes going through it. */
export function hashing(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
}
