import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyIpMode, ipv4ToInt, ipv6ToBigInt, isPrivateIp, normalizeIp } from './ip.ts';

describe('normalizeIp', () => {
  it('keeps IPv4 as is and trims', () => {
    assert.equal(normalizeIp('8.8.8.8'), '8.8.8.8');
    assert.equal(normalizeIp(' 8.8.8.8 '), '8.8.8.8');
  });
  it('turns IPv4-mapped IPv6 into IPv4, dotted or hex', () => {
    assert.equal(normalizeIp('::ffff:8.8.8.8'), '8.8.8.8');
    assert.equal(normalizeIp('::FFFF:8.8.8.8'), '8.8.8.8');
    assert.equal(normalizeIp('::ffff:808:808'), '8.8.8.8');
    assert.equal(normalizeIp('0:0:0:0:0:ffff:c000:02ff'), '192.0.2.255');
  });
  it('gives IPv6 one spelling: lower case, compressed, no brackets or zone', () => {
    assert.equal(normalizeIp('2001:DB8::A'), '2001:db8::a');
    assert.equal(normalizeIp('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    assert.equal(normalizeIp('[::1]'), '::1');
    assert.equal(normalizeIp('fe80::1%eth0'), 'fe80::1');
    assert.equal(normalizeIp('1:0:0:2:0:0:0:3'), '1:0:0:2::3', 'the longest zero run is compressed');
    assert.equal(normalizeIp('1:2:3:4:5:6:0:8'), '1:2:3:4:5:6:0:8', 'a single zero group is not');
    assert.equal(normalizeIp('2001:db8::1.2.3.4'), '2001:db8::102:304');
  });
  it('null for what is not an address', () => {
    for (const v of [null, undefined, '', ' ', 'garbage', '1.2.3', '256.1.1.1', '01.2.3.4', '8.8.8.8:80', '::ffff:1.2.3.4:80', 'g::1', '1::2::3']) {
      assert.equal(normalizeIp(v), null, String(v));
    }
  });
});

describe('applyIpMode', () => {
  const cases: Array<[string | null, string | null, string | null]> = [
    // input, truncate, full
    ['8.8.8.8', '8.8.8.0', '8.8.8.8'],
    ['192.0.2.255', '192.0.2.0', '192.0.2.255'],
    ['2a00:1450:4001:80b::200e', '2a00:1450:4001::', '2a00:1450:4001:80b::200e'],
    ['2001:db8:abcd:1234:5678:9abc:def0:1234', '2001:db8:abcd::', '2001:db8:abcd:1234:5678:9abc:def0:1234'],
    ['::1', '::', '::1'],
    ['::ffff:8.8.8.8', '8.8.8.0', '8.8.8.8'],
    ['::ffff:c000:2ff', '192.0.2.0', '192.0.2.255'],
    ['not an ip', null, null],
    ['', null, null],
    [null, null, null],
  ];
  it('full keeps the (normalized) address', () => {
    for (const [ip, , full] of cases) assert.equal(applyIpMode(ip, 'full'), full, String(ip));
  });
  it('truncate zeroes the last IPv4 octet or the last 80 IPv6 bits', () => {
    for (const [ip, trunc] of cases) assert.equal(applyIpMode(ip, 'truncate'), trunc, String(ip));
  });
  it('truncated IPv6 keeps exactly the first 48 bits', () => {
    const t = applyIpMode('2001:db8:abcd:ffff:ffff:ffff:ffff:ffff', 'truncate')!;
    assert.equal(ipv6ToBigInt(t), BigInt('0x20010db8abcd') << 80n);
  });
  it('drop keeps nothing', () => {
    for (const [ip] of cases) assert.equal(applyIpMode(ip, 'drop'), null, String(ip));
  });
});

describe('address helpers', () => {
  it('ipv4ToInt is unsigned', () => {
    assert.equal(ipv4ToInt('0.0.0.0'), 0);
    assert.equal(ipv4ToInt('8.8.8.8'), 134744072);
    assert.equal(ipv4ToInt('255.255.255.255'), 4294967295);
  });
  it('ipv6ToBigInt', () => {
    assert.equal(ipv6ToBigInt('::1'), 1n);
    assert.equal(ipv6ToBigInt('::ffff:1.2.3.4'), (0xffffn << 32n) | 0x01020304n);
    assert.equal(ipv6ToBigInt('ffff::'), 0xffffn << 112n);
  });
  it('isPrivateIp', () => {
    for (const ip of ['127.0.0.1', '10.0.0.1', '172.31.255.255', '192.168.0.1', '169.254.0.1', '100.127.0.1', '0.1.2.3', '224.0.0.1', '240.0.0.1', '::', '::1', 'fc00::1', 'fdff::1', 'fe80::1', 'febf::1', 'ff02::1']) {
      assert.equal(isPrivateIp(ip), true, ip);
    }
    for (const ip of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2a00:1450:4001::1', '2606:4700::1', 'fec0::1', '::2']) {
      assert.equal(isPrivateIp(ip), false, ip);
    }
  });
});
