// Bundles TypeScript entry points into plain JavaScript with esbuild (packages stay imports from
// node_modules): `npm start` runs the server from build/server.mjs, so that no TypeScript loader
// (tsx: a loader thread, the compiler and its cache: ~70 MB in an idle server, ~25 MB in an export
// child) lives in the server's memory; the bench runs
// its children the same way. A bundle takes well under a second, so it is made at every start and
// is never stale. It is written beside its place and renamed in: a running server never sees half
// a file, and two starts at once do not mix their files.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SERVER = join(ROOT, 'build', 'server.mjs');

/** Bundles `entry` (a path from the root) into `outfile` with its source map beside it; answers `outfile`. */
export async function bundle(entry, outfile) {
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

/** build/server.mjs from src/main.ts. */
export const buildServer = () => bundle('src/main.ts', SERVER);

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
