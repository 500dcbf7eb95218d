import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAsnCsv } from './asn.ts';
import { defaultGeoPaths, NO_GEO, openGeo, type GeoLookup } from './geo.ts';

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

  it('IPv6 Cloudflare (2606:4700:4700::1111)', () => {
    assert.match(geo.lookup('2606:4700:4700::1111').org ?? '', /Cloudflare/);
  });

  it('81.2.69.142 is in London, GB', () => {
    const g = geo.lookup('81.2.69.142');
    assert.deepEqual([g.country, g.city], ['GB', 'London']);
    assert.ok(Math.abs((g.lat ?? 0) - 51.5) < 1 && Math.abs(g.lon ?? 99) < 1, `${g.lat},${g.lon}`);
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
});

describe('parseAsnCsv', () => {
  const csv = (text: string) => new TextEncoder().encode(text);
  const v4 = (text: string) => parseAsnCsv(csv(text), false);
  const v6 = (text: string) => parseAsnCsv(csv(text), true);

  it('range bounds are inclusive; outside every range is null', () => {
    const t = v4('134744064,134744319,15169,Google LLC\n'); // 8.8.8.0–8.8.8.255
    assert.equal(t.size, 1);
    assert.equal(t.find('8.8.8.0'), 'Google LLC');
    assert.equal(t.find('8.8.8.255'), 'Google LLC');
    assert.equal(t.find('8.8.7.255'), null);
    assert.equal(t.find('8.8.9.0'), null);
    assert.equal(t.find('0.0.0.0'), null);
    assert.equal(t.find('255.255.255.255'), null);
  });

  it('quoted names with commas, "" escapes and newlines; CRLF; a header; unquoted commas', () => {
    const t = v4(['start,end,asn,org', '1,1,1,"A, B ""C"""', '2,2,2,Plain, with comma', '3,3,3,"multi\nline"', '4,4,4,crlf', '5,5,5,'].join('\r\n'));
    assert.equal(t.size, 5);
    assert.equal(t.find('0.0.0.1'), 'A, B "C"');
    assert.equal(t.find('0.0.0.2'), 'Plain, with comma');
    assert.equal(t.find('0.0.0.3'), 'multi\nline');
    assert.equal(t.find('0.0.0.4'), 'crlf');
    assert.equal(t.find('0.0.0.5'), null, 'an empty name is no organisation');
  });

  it('one AS number under two names keeps both', () => {
    const t = v4('10,19,64500,First Name\n20,29,64500,Second Name\n30,39,64500,First Name\n');
    assert.deepEqual(['0.0.0.15', '0.0.0.25', '0.0.0.35'].map((ip) => t.find(ip)), ['First Name', 'Second Name', 'First Name']);
  });

  it('unsorted input is sorted; reversed, oversized and malformed lines are skipped', () => {
    const t = v4('300,399,3,Three\n100,199,1,One\n200,299,2,Two\n50,40,9,Reversed\n4294967296,4294967296,9,Too big\nx,1,1,Bad\n1,2\n');
    assert.equal(t.size, 3);
    assert.deepEqual(['0.0.0.150', '0.0.0.250', '0.0.1.94', '0.0.0.45'].map((ip) => t.find(ip)), ['One', 'Two', 'Three', null]);
    assert.equal(v4('4294967295,4294967295,1,Top\n').find('255.255.255.255'), 'Top');
    const nested = v4('100,199,1,Outer\n120,129,2,Inner\n');
    assert.deepEqual(['0.0.0.110', '0.0.0.125', '0.0.0.150', '0.0.0.200'].map((ip) => nested.find(ip)), ['Outer', 'Inner', 'Outer', null]);
  });

  it('IPv6 ranges are compared on all 128 bits, not only the top 64', () => {
    const n = (hex: string) => BigInt('0x' + hex).toString();
    // Three ranges inside one /64 (as in the real file for 2001:500:30ff::/48), then one that ends at the top.
    const t = v6([
      `${n('2001050030ff00000000000000000000')},${n('2001050030ff0000000000000000002f')},396585,Low`,
      `${n('2001050030ff00000000000000000030')},${n('2001050030ff00000000000000000030')},396552,Middle`,
      `${n('2001050030ff00000000000000000031')},${n('2001050030ffffffffffffffffffffff')},396585,High`,
      `${n('ffff0000000000000000000000000000')},${n('ffffffffffffffffffffffffffffffff')},1,Top`,
      `${n('1' + '0'.repeat(32))},${n('1' + '0'.repeat(32))},1,Beyond 128 bits`,
    ].join('\n'));
    assert.equal(t.size, 4);
    assert.equal(t.find('2001:500:30ff::'), 'Low');
    assert.equal(t.find('2001:500:30ff::2f'), 'Low');
    assert.equal(t.find('2001:500:30ff::30'), 'Middle');
    assert.equal(t.find('2001:500:30ff::31'), 'High');
    assert.equal(t.find('2001:500:30ff:ffff:ffff:ffff:ffff:ffff'), 'High');
    assert.equal(t.find('2001:500:3100::'), null);
    assert.equal(t.find('2001:500:30fe:ffff:ffff:ffff:ffff:ffff'), null);
    assert.equal(t.find('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), 'Top');
  });

  it('the bundled files: sizes and both address families', async () => {
    const { readFile } = await import('node:fs/promises');
    const p = defaultGeoPaths();
    const t4 = parseAsnCsv(await readFile(p.asnV4CsvPath), false);
    const t6 = parseAsnCsv(await readFile(p.asnV6CsvPath), true);
    assert.ok(t4.size > 300_000, `${t4.size} IPv4 ranges`);
    assert.ok(t6.size > 50_000, `${t6.size} IPv6 ranges`);
    assert.equal(t4.find('1.1.1.1'), 'Cloudflare, Inc.', 'a quoted name from the real file');
    assert.match(t6.find('2001:4860:4860::8888') ?? '', /Google/);
  });
});
