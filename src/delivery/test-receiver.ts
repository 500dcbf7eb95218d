/**
 * A real webhook receiver on loopback for the delivery tests: it verifies every request with
 * `verify`, records it, counts TCP connections, and answers as the test tells it to. It can be
 * taken down (connections refused) and brought back on the same port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verify, type Verified } from './webhook.ts';

export interface Hit {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  verified: Verified;
}

/** What to answer: a status with headers, or 'hang' to never answer. */
export type Answer = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export interface Receiver {
  host: string;
  port: number;
  /** http://host:port (IPv6 hosts bracketed). */
  base: string;
  hits: Hit[];
  readonly connections: number;
  answer: (hit: Hit) => Answer;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(opts: { secret?: string; now?: () => number; host?: string; port?: number } = {}): Promise<Receiver> {
  const host = opts.host ?? '127.0.0.1';
  let connections = 0;
  let server: http.Server;
  const receiver: Receiver = {
    host,
    port: 0,
    base: '',
    hits: [],
    get connections() {
      return connections;
    },
    answer: () => ({ status: 204 }),
    async down() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
    async up() {
      await listen(receiver.port);
    },
    close() {
      return receiver.down();
    },
  };

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const verified = opts.secret ? verify({ secret: opts.secret, headers: req.headers, body, now: (opts.now ?? Date.now)() }) : { ok: false as const, reason: 'no secret' };
          const hit: Hit = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, verified };
          receiver.hits.push(hit);
          const a = receiver.answer(hit);
          if (a === 'hang') return;
          res.writeHead(a.status, a.headers).end(a.body ?? '');
        });
      });
      server.on('connection', () => connections++);
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        receiver.port = (server.address() as AddressInfo).port;
        receiver.base = `http://${host.includes(':') ? `[${host}]` : host}:${receiver.port}`;
        resolve();
      });
    });

  await listen(opts.port ?? 0);
  return receiver;
}
