/** Shared bench helpers: child servers pinned to a core, autocannon runs, medians, result files. */
import autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ROOT, bundle, buildServer } from '../scripts/build-server.mjs';

export const CORES = cpus().length;
const hasTaskset = spawnSync('sh', ['-c', 'command -v taskset']).status === 0;

/** Runs a command pinned to core `core` when taskset exists and there is more than one core. */
export function pinned(core: number, cmd: string, args: string[], env: Record<string, string>): ChildProcess {
  const full = hasTaskset && CORES > 1 ? ['taskset', ['-c', String(core), cmd, ...args]] as const : [cmd, args] as const;
  return spawn(full[0], [...full[1]], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * `entry` (a TypeScript file, from the root) as `npm start` runs the server: bundled into plain
 * JavaScript (build/server.mjs for src/main.ts, else under build/), so that the child measured holds
 * no TypeScript loader. Answers the file to run with node.
 */
export function bundled(entry: string): Promise<string> {
  return entry === 'src/main.ts' ? buildServer() : bundle(entry, join(ROOT, 'build', entry.replace(/\.ts$/, '.mjs')));
}

/** Pins this (the load) process to a core. */
export function pinSelf(core: number): void {
  if (hasTaskset && CORES > 1) spawnSync('taskset', ['-cp', String(core), String(process.pid)]);
}

export async function waitFor(proc: ChildProcess, text: string, timeoutMs = 60_000): Promise<string> {
  let out = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for "${text}": ${out}`)), timeoutMs);
    const on = (d: Buffer) => {
      out += d;
      if (out.includes(text)) {
        clearTimeout(t);
        resolve(out);
      }
    };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', on);
    proc.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

export interface LoadResult {
  reqPerSec: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export async function load(opts: autocannon.Options): Promise<LoadResult> {
  const r = await autocannon({ ...opts });
  return { reqPerSec: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function saveResult(name: string, data: unknown): string {
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${name}-${new Date().toISOString().slice(0, 10)}.json`;
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), cores: CORES, node: process.version, ...(data as object) }, null, 2) + '\n');
  return file;
}
