/** npm run sdk:build: writes the SDK bundles the server serves to sdk/dist/ (to host them on a CDN). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSdk } from '../sdk/build.ts';

const out = join(import.meta.dirname, '..', 'sdk', 'dist');
const b = await buildSdk();
mkdirSync(out, { recursive: true });
for (const [name, text] of [['reelstat.js', b.script], ['reelstat.mjs', b.module]] as const) {
  writeFileSync(join(out, name), text);
  process.stdout.write(`sdk/dist/${name}  ${text.length} bytes, ${gzipSync(text, { level: 9 }).length} gzipped\n`);
}
