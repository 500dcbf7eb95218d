/** A readable body fed by a producer that pushes chunks, with backpressure: push waits while the client is slow. */
import { PassThrough, type Readable } from 'node:stream';

export function producerStream(produce: (push: (chunk: string) => Promise<void>) => Promise<void>): Readable {
  const out = new PassThrough();
  const push = (chunk: string) =>
    new Promise<void>((resolve, reject) => {
      if (out.destroyed) return reject(new Error('the client went away'));
      if (out.write(chunk)) return resolve();
      const done = () => {
        out.off('close', done);
        out.off('drain', done);
        if (out.destroyed) reject(new Error('the client went away'));
        else resolve();
      };
      out.once('drain', done);
      out.once('close', done);
    });
  produce(push).then(
    () => out.end(),
    (err) => out.destroy(err),
  );
  return out;
}
