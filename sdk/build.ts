/**
 * Bundles the SDK from its TypeScript source with esbuild, in memory: the classic script
 * (`window.Reelstat`) and the ES module. The server builds once at start and serves the result, so a
 * fresh clone never serves stale or missing files; `npm run sdk:build` writes the same bytes to
 * sdk/dist/ for hosting them elsewhere. The output is deterministic for a given source and version.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, stop } from 'esbuild';
import { ROOT } from '../src/paths.ts';

const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export interface SdkBundle {
  version: string;
  /** /sdk/reelstat.js: a classic script defining window.Reelstat. */
  script: string;
  /** /sdk/reelstat.mjs: an ES module exporting track, trackHls, trackVideojs, version. */
  module: string;
}

async function bundle(entry: string, format: 'iife' | 'esm'): Promise<string> {
  const out = await build({
    entryPoints: [join(ROOT, 'sdk', 'src', entry)],
    bundle: true,
    write: false,
    format,
    globalName: format === 'iife' ? 'Reelstat' : undefined,
    target: 'es2017',
    // Every browser with ES modules but the first few months' of them has import.meta.
    supported: format === 'esm' ? { 'import-meta': true } : undefined,
    platform: 'browser',
    minify: true,
    legalComments: 'none',
    charset: 'utf8',
    define: { __REELSTAT_VERSION__: JSON.stringify(version) },
    banner: { js: `/* Reelstat SDK ${version} (MIT) */` },
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

let built: Promise<SdkBundle> | null = null;

/** The bundles, built once per process. */
export function buildSdk(): Promise<SdkBundle> {
  if (!built) {
    built = Promise.allSettled([bundle('entry-script.ts', 'iife'), bundle('entry-module.ts', 'esm')]).then(async ([script, module]) => {
      // esbuild's service process (~35 MB) would otherwise stay for the server's whole life; a later build starts it again.
      await stop();
      if (script.status === 'rejected') throw script.reason;
      if (module.status === 'rejected') throw module.reason;
      return { version, script: script.value, module: module.value };
    });
    built.catch(() => (built = null));
  }
  return built;
}
