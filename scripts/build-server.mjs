// Bundles TypeScript entry points into plain JavaScript with esbuild (packages stay imports from
// node_modules): `npm start` runs the server from build/server.mjs, so that no TypeScript loader
// (tsx: a loader thread, the compiler and its cache: ~70 MB in an idle server, ~25 MB in an export
// child) lives in the server's memory; the bench runs
// its children the same way. The server's bundle is made again only when what it is made from
// changed (the hash of src/, sdk/ and this file, named in its first line: ~1 s of a start saved, 2–3 s on a
// busy machine, where a restart after a crash is timed), so it is never stale. A bundle is written
// beside its place and renamed in: a running server never sees half a file, and two starts at once
// do not mix their files.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SERVER = join(ROOT, 'build', 'server.mjs');

/** Bundles `entry` (a path from the root) into `outfile` with its source map beside it; answers `outfile`. `firstLine`: a comment the bundle starts with. */
export async function bundle(entry, outfile, firstLine = '') {
  const { build } = await import('esbuild');
  const r = await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked', // stack traces name the TypeScript files (process.setSourceMapsEnabled)
    sourcesContent: false,
    logLevel: 'silent',
    ...(firstLine ? { banner: { js: firstLine } } : {}),
  });
  mkdirSync(dirname(outfile), { recursive: true });
  // The map first: the bundle that names it is in place only once its map is.
  const files = [...r.outputFiles].sort((a, b) => Number(b.path.endsWith('.map')) - Number(a.path.endsWith('.map')));
  for (const f of files) {
    const tmp = join(dirname(f.path), `.${basename(f.path)}.${process.pid}.tmp`);
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
  }
  return outfile;
}

/**
 * The folders the server's bundle is made from (src/ imports sdk/build.ts), with what under them is
 * not source. The lifecycle test checks that every file the bundle's map names is under one of them.
 */
export const SOURCE_DIRS = ['src', 'sdk'];
const NOT_SOURCE = new Set(['sdk/dist']);

/** The hash of what the server's bundle is made from: every file under SOURCE_DIRS (a superset of what it imports), and this script. */
export function serverSourceHash() {
  const h = createHash('sha256');
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name), rel = relative(ROOT, p);
      if (NOT_SOURCE.has(rel)) continue;
      if (e.isDirectory()) walk(p);
      else h.update(rel).update('\0').update(readFileSync(p)).update('\0');
    }
  };
  for (const d of SOURCE_DIRS) walk(join(ROOT, d));
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  return h.digest('hex');
}

/** The first `n` bytes of `path` as text, or '' when there is no such file. */
function firstBytes(path, n) {
  if (!existsSync(path)) return '';
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    return buf.toString('utf8', 0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** build/server.mjs from src/main.ts, unless the one there was made from the same sources (its first line names their hash). */
export async function buildServer() {
  const stamp = `// reelstat source hash ${serverSourceHash()}`;
  if (firstBytes(SERVER, stamp.length + 1) === `${stamp}\n`) return SERVER;
  return bundle('src/main.ts', SERVER, stamp);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const t0 = performance.now();
    await buildServer();
    process.stdout.write(`build/server.mjs (${Math.round(performance.now() - t0)} ms)\n`);
  } catch (err) {
    process.stderr.write(`reelstat: could not build the server: ${err.message}\n`);
    process.exit(1);
  }
}
