import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { ZipFile, yazlCrc32 } from './zip.ts';

const dir = mkdtempSync(join(tmpdir(), 'rs-zip-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the CRC-32 yazl uses is the standard one, continued chunk by chunk, and is the copy yazl requires', () => {
  assert.equal(yazlCrc32.unsigned(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(yazlCrc32.unsigned(''), 0);
  const data = randomBytes(100_000);
  const whole = yazlCrc32.unsigned(data);
  assert.equal(yazlCrc32.unsigned(data.subarray(60_000), yazlCrc32.unsigned(data.subarray(0, 60_000))), whole);
  const yazlsOwn = createRequire(createRequire(import.meta.url).resolve('yazl'))('buffer-crc32');
  assert.equal(yazlsOwn.unsigned, yazlCrc32.unsigned, 'yazl calls the native one');
});

test('a ZIP of streamed and buffered entries passes unzip -t', async () => {
  const z = new ZipFile();
  const s = new PassThrough();
  z.addReadStream(s, 'big.bin', { compressionLevel: 1 });
  z.addBuffer(Buffer.from('small'), 'small.txt');
  z.end();
  const path = join(dir, 'x.zip');
  const written = new Promise<void>((resolve, reject) => z.outputStream.pipe(createWriteStream(path)).on('close', () => resolve()).on('error', reject));
  for (let i = 0; i < 50; i++) s.write(randomBytes(64 * 1024));
  s.end();
  await written;
  assert.match(execFileSync('unzip', ['-t', path]).toString(), /No errors detected/);
});
