/**
 * The real server as a child process, started as `npm start` starts it (scripts/start.mjs: the
 * dashboard built if stale, the server bundled into build/server.mjs and run), for kill -9 and
 * SIGTERM tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** The node arguments of `npm start`. */
export const START = ['scripts/start.mjs'];

export interface Child {
  proc: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

export async function spawnServer(dataDir: string, port: number, env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Child> {
  const proc = spawn(process.execPath, START, {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), REELSTAT_DATA_DIR: dataDir, REELSTAT_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited early (${proc.exitCode}): ${out}`);
    if (out.includes('Reelstat is serving on')) break;
    if (Date.now() > until) {
      proc.kill('SIGKILL');
      throw new Error(`server did not start in time: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { proc, url, output: () => out, exited };
}

export function credentials(dataDir: string): { writeKey: string; apiToken: string } {
  return JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
}
