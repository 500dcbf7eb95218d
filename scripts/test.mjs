// Runs every *.test.ts under src/, sdk/ and test/ with Node's own test runner (Node 20 does not glob .ts itself).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ensureDashboard } from './build-dashboard.mjs';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const only = process.argv.slice(2);
const files = only.length ? only : [...find('src'), ...find('sdk'), ...find('test')].sort();
// The browser tests need the built dashboard; build it once here rather than in each test file.
await ensureDashboard();
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
