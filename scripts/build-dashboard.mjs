// Builds the dashboard (web/) with Vite into web/dist when the build is missing or stale, then
// exits; `npm start` and the test runner call it first. Stale = the hash of web/'s sources and of
// the versions of the packages bundled into it differs from the one stamped into web/dist.
// Concurrent callers (test files run in parallel) take turns through a lock directory; the new
// build is written beside web/dist and renamed into place, so a server never sees half a build.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WEB = join(ROOT, 'web');
const DIST = join(WEB, 'dist');
const STAMP = join(DIST, '.build-hash');
const LOCK = join(WEB, '.build-lock');
const BUNDLED = ['preact', 'uplot', 'vite', '@preact/preset-vite'];

function files(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else out.push(p);
  }
  return out;
}

/** The hash of everything the build reads. */
export function sourceHash() {
  const h = createHash('sha256');
  const inputs = [join(WEB, 'index.html'), join(WEB, 'vite.config.mjs'), ...files(join(WEB, 'src')), ...files(join(WEB, 'public'))];
  for (const f of inputs) h.update(relative(WEB, f)).update('\0').update(readFileSync(f)).update('\0');
  for (const pkg of BUNDLED) h.update(`${pkg}@${JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version}\0`);
  return h.digest('hex');
}

const fresh = (hash) => existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === hash;

async function lock() {
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      // A lock left by a killed build is taken over after two minutes.
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 120_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        /* released meanwhile */
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Builds web/dist unless it is current; resolves to whether it built. */
export async function ensureDashboard({ quiet = false } = {}) {
  const hash = sourceHash();
  if (fresh(hash)) return false;
  await lock();
  try {
    if (fresh(hash)) return false; // another process built it while we waited
    const tmp = join(WEB, `.dist-${process.pid}`);
    const { build } = await import('vite');
    const config = (await import(pathToFileURL(join(WEB, 'vite.config.mjs')).href)).default;
    if (!quiet) process.stdout.write('Building the dashboard (web/ → web/dist)…\n');
    await build({ ...config, configFile: false, logLevel: quiet ? 'error' : 'warn', build: { ...config.build, outDir: tmp } });
    writeFileSync(join(tmp, '.build-hash'), hash + '\n');
    const old = join(WEB, `.dist-old-${process.pid}`);
    if (existsSync(DIST)) renameSync(DIST, old);
    renameSync(tmp, DIST);
    rmSync(old, { recursive: true, force: true });
    return true;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await ensureDashboard({ quiet: process.argv.includes('--quiet') });
  } catch (err) {
    process.stderr.write(`reelstat: could not build the dashboard: ${err.stack ?? err}\n`);
    process.exit(1);
  }
}
