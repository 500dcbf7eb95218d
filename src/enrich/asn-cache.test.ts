import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadAsnTable } from './asn-cache.ts';
import { parseAsnCsv, type AsnTable } from './asn.ts';
import { defaultGeoPaths } from './geo.ts';

const dir = mkdtempSync(join(tmpdir(), 'reelstat-asncache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const same = (a: AsnTable, b: AsnTable) => {
  assert.equal(a.v6, b.v6);
  assert.deepEqual(a.starts, b.starts);
  assert.deepEqual(a.ends, b.ends);
  assert.deepEqual(a.org, b.org);
  assert.deepEqual(a.names, b.names);
};

describe('the parsed copy of an ASN table', () => {
  it('of the bundled files is written on first load and read back equal to a fresh parse', async () => {
    const cache = join(dir, 'bundled');
    const p = defaultGeoPaths();
    for (const [csv, v6] of [[p.asnV4CsvPath, false], [p.asnV6CsvPath, true]] as const) {
      const parsed = parseAsnCsv(readFileSync(csv), v6);
      same(await loadAsnTable(csv, v6, cache), parsed);
      const file = join(cache, v6 ? 'asn-v6.bin' : 'asn-v4.bin');
      assert.ok(existsSync(file), 'the copy is written');
      same(await loadAsnTable(csv, v6, cache), parsed);
      assert.equal((await loadAsnTable(csv, v6, cache)).find(v6 ? '2a00:1450:4001::1' : '8.8.8.8')?.includes('Google'), true);
    }
  });

  it('is used while the CSV keeps its path, size and time, and dropped when the CSV changes', async () => {
    const cache = join(dir, 'change');
    const csv = join(dir, 'asn4.csv');
    writeFileSync(csv, '134744064,134744319,15169,Alpha\n');
    const atime = new Date('2026-01-01T00:00:00Z'), mtime = new Date('2026-01-02T00:00:00Z'); // whole seconds: utimes keeps them exactly
    utimesSync(csv, atime, mtime);
    const first = await loadAsnTable(csv, false, cache);
    assert.equal(first.find('8.8.8.8'), 'Alpha');
    writeFileSync(csv, '134744064,134744319,15169,Omega\n'); // same size
    utimesSync(csv, atime, mtime);
    assert.equal((await loadAsnTable(csv, false, cache)).find('8.8.8.8'), 'Alpha', 'read from the copy, not the CSV');
    utimesSync(csv, atime, new Date(mtime.getTime() + 5000));
    assert.equal((await loadAsnTable(csv, false, cache)).find('8.8.8.8'), 'Omega', 'a newer CSV is parsed');
    writeFileSync(csv, '134744064,134744319,15169,Omega Longer\n');
    utimesSync(csv, atime, new Date(mtime.getTime() + 5000));
    assert.equal((await loadAsnTable(csv, false, cache)).find('8.8.8.8'), 'Omega Longer', 'another size is parsed');
    const other = join(dir, 'other.csv');
    writeFileSync(other, '134744064,134744319,15169,Other\n');
    assert.equal((await loadAsnTable(other, false, cache)).find('8.8.8.8'), 'Other', 'another path is parsed');
  });

  it('a damaged copy is ignored and written anew', async () => {
    const cache = join(dir, 'damaged');
    const csv = join(dir, 'asn-d.csv');
    writeFileSync(csv, '134744064,134744319,15169,"Dee, Inc."\n16843008,16843263,13335,Cee\n');
    const good = await loadAsnTable(csv, false, cache);
    const file = join(cache, 'asn-v4.bin');
    const whole = readFileSync(file);
    const damages: Buffer[] = [
      whole.subarray(0, whole.length - 3), // short
      Buffer.concat([whole, Buffer.from('x')]), // long
      Buffer.from('not a copy at all'),
      Buffer.from(whole.toString('latin1').replace('"format":1', '"format":9'), 'latin1'), // another version
      Buffer.alloc(0),
    ];
    // Names JSON broken, and an organisation index past the names.
    const badNames = Buffer.from(whole); badNames[badNames.length - 2] = 0x7b;
    const badOrg = Buffer.from(whole); badOrg.writeUInt32LE(99, whole.indexOf(Buffer.from('["')) - 4);
    damages.push(badNames, badOrg);
    writeFileSync(join(cache, 'asn-v4.bin.dead.tmp'), 'left by a start killed while writing');
    utimesSync(join(cache, 'asn-v4.bin.dead.tmp'), new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    writeFileSync(join(cache, 'asn-v4.bin.busy.tmp'), 'being written by another server sharing the folder');
    for (const d of damages) {
      writeFileSync(file, d);
      same(await loadAsnTable(csv, false, cache), good);
      assert.deepEqual(readFileSync(file), whole, 'written anew');
    }
    assert.deepEqual(readdirSync(cache).sort(), ['asn-v4.bin', 'asn-v4.bin.busy.tmp'], 'a temporary file left behind is removed, a fresh one kept');
  });

  it('a data folder where the copy cannot be written still loads the table, from the CSV', async () => {
    const csv = join(dir, 'asn-ro.csv');
    writeFileSync(csv, '16843008,16843263,13335,Cee\n');
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, 'a file where the folder would be');
    assert.equal((await loadAsnTable(csv, false, join(blocker, 'cache'))).find('1.1.1.1'), 'Cee');
    assert.equal((await loadAsnTable(csv, false, null)).find('1.1.1.1'), 'Cee', 'no cache folder at all');
  });

  it('a missing CSV is an error naming it, copy or not', async () => {
    const missing = join(dir, 'missing.csv');
    await assert.rejects(loadAsnTable(missing, false, join(dir, 'm')), (err: NodeJS.ErrnoException) => err.code === 'ENOENT' && err.message.includes(missing));
  });
});
