import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { csvFields, defaultGeoPaths, NO_GEO, openGeo, type GeoLookup } from './geo.ts';

let geo: GeoLookup;
before(async () => {
  geo = await openGeo(defaultGeoPaths());
});

describe('geo lookups against the bundled DB-IP and ASN files', () => {
  it('8.8.8.8 is in the US and belongs to Google', () => {
    const g = geo.lookup('8.8.8.8');
    assert.equal(g.country, 'US');
    assert.match(g.org ?? '', /Google/);
    assert.equal(typeof g.lat, 'number');
    assert.equal(typeof g.lon, 'number');
    assert.ok(g.city, 'a city');
    assert.ok(g.region, 'a region');
  });

  it('1.1.1.1 belongs to Cloudflare', () => {
    const g = geo.lookup('1.1.1.1');
    assert.match(g.org ?? '', /Cloudflare/);
    assert.match(g.country ?? '', /^[A-Z]{2}$/);
  });

  it('an IPv6 address: 2a00:1450:4001::1 is in Germany, Google', () => {
    const g = geo.lookup('2a00:1450:4001::1');
    assert.equal(g.country, 'DE');
    assert.match(g.org ?? '', /Google/);
  });

  it('IPv6 Cloudflare (2606:4700:4700::1111) finds its organisation through the 64-bit range keys', () => {
    assert.match(geo.lookup('2606:4700:4700::1111').org ?? '', /Cloudflare/);
  });

  it('an IPv4-mapped IPv6 address is looked up as IPv4, in either spelling', () => {
    assert.deepEqual(geo.lookup('::ffff:8.8.8.8'), geo.lookup('8.8.8.8'));
    assert.deepEqual(geo.lookup('::ffff:808:808'), geo.lookup('8.8.8.8'));
  });

  it('loopback, private, link-local, CGNAT, multicast and unspecified addresses give nulls', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.5.4', '192.168.1.1', '169.254.1.1', '100.64.0.1', '224.0.0.1', '0.0.0.0',
      '255.255.255.255', '::1', '::', 'fe80::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:7f00:1']) {
      assert.deepEqual(geo.lookup(ip), NO_GEO, ip);
    }
  });

  it('anything that is not an address gives nulls, without throwing', () => {
    for (const ip of ['', 'garbage', '1.2.3', '256.1.1.1', '8.8.8.8:80', '::ffff:1.2.3.4:80', 'g::1']) assert.deepEqual(geo.lookup(ip), NO_GEO, ip);
  });
});

describe('newer files from the settings', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'reelstat-geo-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads an ASN CSV with quoted organisation names holding commas', async () => {
    const v4 = join(dir, 'asn4.csv');
    const v6 = join(dir, 'asn6.csv');
    // 8.8.8.0–8.8.8.255 and 2a00:1450::/32.
    writeFileSync(v4, '134744064,134744319,15169,"Example, Inc."\n16843008,16843263,13335,Plain Org\n');
    const start6 = BigInt('0x2a001450000000000000000000000000');
    const end6 = BigInt('0x2a001450ffffffffffffffffffffffff');
    writeFileSync(v6, `${start6},${end6},15169,"Six ""Quoted"" Org"\n`);
    const paths = defaultGeoPaths();
    const g = await openGeo({ ...paths, asnV4CsvPath: v4, asnV6CsvPath: v6 });
    assert.equal(g.lookup('8.8.8.8').org, 'Example, Inc.');
    assert.equal(g.lookup('8.8.8.8').country, 'US', 'the city database is still the bundled one');
    assert.equal(g.lookup('1.1.1.1').org, 'Plain Org');
    assert.equal(g.lookup('8.8.4.4').org, null, 'outside every range');
    assert.equal(g.lookup('2a00:1450:4001::1').org, 'Six "Quoted" Org');
    assert.equal(g.lookup('2a01::1').org, null);
  });

  it('an ASN file without ranges is refused, naming the file', async () => {
    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, 'start,end\n');
    await assert.rejects(openGeo({ ...defaultGeoPaths(), asnV4CsvPath: empty }), (err: Error) => err.message.includes(`${empty} holds no ASN ranges`));
  });

  it('csvFields splits RFC 4180 lines', () => {
    assert.deepEqual(csvFields('1,2,3,Org'), ['1', '2', '3', 'Org']);
    assert.deepEqual(csvFields('1,2,3,"A, B ""C"""'), ['1', '2', '3', 'A, B "C"']);
    assert.deepEqual(csvFields('"",x'), ['', 'x']);
  });
});
