/**
 * R19: webhook URLs aimed at loopback, private, link-local, metadata and rebinding addresses make
 * 0 connections. Only loopback receivers are used; nothing here may reach another host, so every
 * non-loopback target must be refused before a socket exists (counted on net.client.socket).
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { forbiddenAddressReason } from './address.ts';
import { startReceiver, type Receiver } from './test-receiver.ts';
import { checkWebhookUrl, newWebhookSecret, sendWebhook, type Resolver } from './webhook.ts';

const secret = newWebhookSecret();

describe('address classification', () => {
  const refused = [
    '127.0.0.1', '127.255.255.254', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
    '169.254.1.1', '100.64.0.1', '100.127.255.255', '0.0.0.0', '0.1.2.3', '198.18.0.1', '198.19.255.255',
    '224.0.0.1', '239.1.1.1', '255.255.255.255', '240.0.0.1', '192.0.0.192', '192.0.2.1', '168.63.129.16',
    '::', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::127.0.0.1',
    'fd00:ec2::254', 'fc00::1', 'fe80::1', 'fe80::1%eth0', 'fec0::1', 'ff02::1', '64:ff9b::7f00:1', '64:ff9b:1::1',
    '2002:7f00:1::1', '2002:a00:1::', '2001:db8::1', '2001::1', '100::1', '3fff::1', '4000::1',
  ];
  const allowed = ['93.184.216.34', '8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '198.20.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'];

  test('every non-public address has a reason', () => {
    for (const a of refused) assert.ok(forbiddenAddressReason(a), `${a} should be refused`);
    assert.match(forbiddenAddressReason('169.254.169.254')!, /metadata/);
    assert.match(forbiddenAddressReason('fd00:ec2::254')!, /metadata/);
    assert.match(forbiddenAddressReason('::ffff:127.0.0.1')!, /IPv4-mapped form of 127\.0\.0\.1, a loopback/);
  });

  test('public addresses pass', () => {
    for (const a of allowed) assert.equal(forbiddenAddressReason(a), null, a);
  });
});

describe('checkWebhookUrl (schedule creation)', () => {
  test('refuses bad syntax, other schemes and literal private hosts with clear messages', () => {
    const err = (u: string) => {
      const r = checkWebhookUrl(u);
      assert.equal(r.ok, false, u);
      return (r as { error: string }).error;
    };
    assert.match(err(''), /empty/);
    assert.match(err('not a url'), /not a valid absolute URL/);
    assert.match(err('file:///etc/passwd'), /scheme "file" is not accepted/);
    assert.match(err('gopher://example.com/'), /scheme "gopher"/);
    assert.match(err('http://2130706433/'), /127\.0\.0\.1 is a loopback address.*REELSTAT_ALLOW_PRIVATE_WEBHOOKS=1/);
    assert.match(err('http://LOCALHOST./x'), /localhost is the local machine/);
    assert.match(err('http://api.localhost/'), /local machine/);
    assert.match(err('http://[::ffff:127.0.0.1]/'), /IPv4-mapped/);
    assert.match(err('http://169.254.169.254/latest/meta-data'), /cloud metadata/);
  });

  test('accepts public hosts, and private ones when allowed', () => {
    for (const u of ['https://hooks.example.com/reelstat', 'http://93.184.216.34:8080/x?y=1', 'https://[2606:4700:4700::1111]/']) {
      assert.equal(checkWebhookUrl(u).ok, true, u);
    }
    assert.equal(checkWebhookUrl('http://127.0.0.1:9/', { allowPrivate: true }).ok, true);
    assert.equal(checkWebhookUrl('http://localhost/', { allowPrivate: true }).ok, true);
    // Port 0: no destination; refused even where private hosts are allowed.
    for (const allowPrivate of [false, true]) {
      const r = checkWebhookUrl('https://example.com:0/x', { allowPrivate });
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.error, /port 0/);
    }
  });
});

describe('R19: refused targets make zero connections', () => {
  let v4: Receiver;
  let v6: Receiver | null = null;
  let sockets = 0;
  const onSocket = () => sockets++;
  before(async () => {
    v4 = await startReceiver({ secret });
    v4.answer = () => ({ status: 200 });
    try {
      v6 = await startReceiver({ secret, host: '::1', port: v4.port });
      v6.answer = () => ({ status: 200 });
    } catch {
      v6 = null; // no IPv6 loopback here: [::1] is still checked for refusal
    }
    subscribe('net.client.socket', onSocket);
  });
  after(async () => {
    unsubscribe('net.client.socket', onSocket);
    await v4.close();
    await v6?.close();
  });
  const connections = () => v4.connections + (v6?.connections ?? 0);

  test('literal, encoded and named private targets are refused before any socket exists', async () => {
    const p = v4.port;
    const urls = [
      `http://127.0.0.1:${p}/`, `http://localhost:${p}/`, `http://LOCALHOST.:${p}/`, `http://[::1]:${p}/`,
      `http://[::ffff:127.0.0.1]:${p}/`, `http://[0:0:0:0:0:ffff:7f00:1]:${p}/`, `http://2130706433:${p}/`,
      `http://0x7f.1:${p}/`, `http://0177.0.0.1:${p}/`, `http://127.1:${p}/`, `http://0x7f000001:${p}/`,
      `http://017700000001:${p}/`, `http://0.0.0.0:${p}/`, `http://[::]:${p}/`, `http://0:${p}/`,
      'http://10.0.0.1/', 'http://192.168.1.1/', 'http://172.16.0.1/', 'http://169.254.169.254/latest/meta-data',
      'http://[fd00:ec2::254]/', 'http://100.64.0.1/', 'http://198.18.0.1/', 'http://[fe80::1]/', 'http://224.0.0.1/',
      'http://[64:ff9b::a9fe:a9fe]/', 'http://[2002:a9fe:a9fe::]/', 'https://192.168.0.10:8443/hook',
    ];
    sockets = 0;
    for (const url of urls) {
      // Refused by the URL check first, so a regression cannot send traffic anywhere but loopback.
      assert.equal(checkWebhookUrl(url).ok, false, url);
      const r = await sendWebhook({ url, id: 'msg_ssrf', body: '{}', secret, allowPrivate: false, timeoutMs: 2000 });
      assert.equal(r.ok, false, url);
      assert.equal(r.blocked, true, `${url}: ${r.error}`);
      assert.equal(r.status, null, url);
      assert.match(r.error!, /REELSTAT_ALLOW_PRIVATE_WEBHOOKS=1/, url);
    }
    assert.equal(sockets, 0, 'no client socket was even created');
    assert.equal(connections(), 0);
    assert.equal(v4.hits.length, 0);
  });

  test('a name that resolves to a private address at connect time is refused (DNS rebinding)', async () => {
    // The name looked public when the schedule was checked; at connect time it points at loopback.
    let calls = 0;
    const rebinding: Resolver = async () => (calls++ === 0 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
    const url = `http://rebind.reelstat.test:${v4.port}/hook`;
    assert.equal(checkWebhookUrl(url).ok, true);
    assert.deepEqual(await rebinding('rebind.reelstat.test'), [{ address: '93.184.216.34', family: 4 }]);
    const r = await sendWebhook({ url, id: 'm', body: '{}', secret, resolve: rebinding });
    assert.equal(r.ok, false);
    assert.equal(r.blocked, true);
    assert.match(r.error!, /resolves to 127\.0\.0\.1, a loopback address; refused before connecting/);

    // ANY private address in the answer refuses the name, whichever one would be tried first.
    const mixed: Resolver = async () => [{ address: '93.184.216.34', family: 4 }, { address: '::ffff:169.254.169.254', family: 6 }, { address: '127.0.0.1', family: 4 }];
    const m = await sendWebhook({ url, id: 'm', body: '{}', secret, resolve: mixed });
    assert.equal(m.blocked, true);
    assert.match(m.error!, /169\.254\.169\.254/);
    assert.equal(connections(), 0);

    // Control: with private targets allowed, the same resolver is what the socket connects to.
    const allowed = await sendWebhook({ url, id: 'm', body: '{}', secret, resolve: rebinding, allowPrivate: true });
    assert.equal(allowed.ok, true, allowed.error ?? '');
    assert.equal(v4.connections, 1);
    assert.equal(v4.hits.length, 1);
    assert.equal(v4.hits[0]!.verified.ok, true);
  });

  test('a real DNS name for loopback (through /etc/hosts) is refused at connect time', async (t) => {
    const name = 'rebind.reelstat.test';
    const line = `127.0.0.1 ${name} # reelstat delivery test`;
    let original: string;
    try {
      original = readFileSync('/etc/hosts', 'utf8');
      writeFileSync('/etc/hosts', original.replace(/\n?$/, '\n') + line + '\n');
    } catch {
      t.skip('/etc/hosts is not writable here; the injected-resolver test covers rebinding');
      return;
    }
    try {
      const before = connections();
      const url = `http://${name}:${v4.port}/hook`;
      const r = await sendWebhook({ url, id: 'm', body: '{}', secret, timeoutMs: 2000 });
      assert.equal(r.blocked, true, r.error ?? '');
      assert.match(r.error!, /resolves to 127\.0\.0\.1/);
      assert.equal(connections(), before);
      const control = await sendWebhook({ url, id: 'm', body: '{}', secret, timeoutMs: 2000, allowPrivate: true });
      assert.equal(control.ok, true, control.error ?? '');
      assert.equal(connections(), before + 1);
    } finally {
      const now = readFileSync('/etc/hosts', 'utf8');
      writeFileSync('/etc/hosts', now.split('\n').filter((l) => l !== line).join('\n'));
    }
  });
});
