/**
 * The project's root folder (where package.json is), for the files the server reads beside its
 * code: migrations, the built dashboard, the SDK's source. Found from this module's own place,
 * which is src/ under tsx (tests, bench) and build/ in the server's bundle (npm start).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function projectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'reelstat') return dir;
    if (dirname(dir) === dir) throw new Error(`no reelstat package.json above ${from}`);
  }
}

export const ROOT = projectRoot(dirname(fileURLToPath(import.meta.url)));
