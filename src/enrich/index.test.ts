import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { defaultGeoPaths, NO_GEO, openGeo, type GeoLookup } from './geo.ts';
import { createEnricher, domainOf, Lru } from './index.ts';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

describe('domainOf', () => {
  it('lower-cases and strips one leading www.', () => {
    assert.equal(domainOf('https://WWW.Example.COM/watch?v=1'), 'example.com');
    assert.equal(domainOf('http://www.www.a.com/'), 'www.a.com');
    assert.equal(domainOf('https://sub.Example.com:8443/p#x'), 'sub.example.com');
    assert.equal(domainOf('https://user:pw@Host.com/'), 'host.com');
    assert.equal(domainOf('https://example.com./'), 'example.com', 'a trailing dot is the same host');
    assert.equal(domainOf('https://bücher.de/'), 'xn--bcher-kva.de');
    assert.equal(domainOf('https://wwwexample.com/'), 'wwwexample.com');
  });
  it('null when there is no host', () => {
    for (const u of [null, '', 'example.com', 'not a url', 'javascript:alert(1)', 'file:///etc/passwd', 'mailto:a@b.c', 'https://www./', 'about:blank']) {
      assert.equal(domainOf(u), null, String(u));
    }
  });
});

describe('Lru', () => {
  it('drops the least recently used entry when full', () => {
    const c = new Lru<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    assert.equal(c.get('a'), 1); // a is now the newest
    c.set('c', 3);
    assert.equal(c.get('b'), undefined);
    assert.equal(c.get('a'), 1);
    assert.equal(c.get('c'), 3);
  });
  it('setting a key that is already there evicts nothing', () => {
    const c = new Lru<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    c.set('b', 3);
    assert.equal(c.get('a'), 1);
    assert.equal(c.get('b'), 3);
  });
});

describe('createEnricher', () => {
  let geo: GeoLookup;
  before(async () => {
    geo = await openGeo(defaultGeoPaths());
  });

  it('geo comes from the full address whatever the IP mode', () => {
    for (const mode of ['full', 'truncate', 'drop'] as const) {
      const r = createEnricher({ geo, ipMode: mode }).enrich({ ip: '8.8.8.8', userAgent: CHROME, url: 'https://www.example.com/x' });
      assert.equal(r.country, 'US', mode);
      assert.match(r.org ?? '', /Google/, mode);
      assert.equal(r.ip, { full: '8.8.8.8', truncate: '8.8.8.0', drop: null }[mode]);
      assert.deepEqual([r.browser, r.os, r.platform, r.isBot, r.deviceType, r.domain], ['Chrome', 'Windows', 'desktop', false, 'web', 'example.com']);
      assert.equal(r.userAgent, CHROME);
    }
  });

  it('IPv6 and mapped addresses in each mode', () => {
    const full = createEnricher({ geo, ipMode: 'full' });
    const trunc = createEnricher({ geo, ipMode: 'truncate' });
    assert.equal(full.enrich({ ip: '2A00:1450:4001::1', userAgent: null, url: null }).ip, '2a00:1450:4001::1');
    assert.equal(trunc.enrich({ ip: '2a00:1450:4001:80b::200e', userAgent: null, url: null }).ip, '2a00:1450:4001::');
    assert.equal(trunc.enrich({ ip: '2a00:1450:4001:80b::200e', userAgent: null, url: null }).country, 'DE');
    assert.equal(full.enrich({ ip: '::ffff:8.8.8.8', userAgent: null, url: null }).ip, '8.8.8.8');
    assert.equal(trunc.enrich({ ip: '::ffff:8.8.8.8', userAgent: null, url: null }).ip, '8.8.8.0');
  });

  it('no address, an invalid one, or a private one: null geo', () => {
    const e = createEnricher({ geo, ipMode: 'full' });
    for (const ip of [null, 'nope', '127.0.0.1', '::1', '192.168.0.10']) {
      const r = e.enrich({ ip, userAgent: null, url: null });
      const { country, region, city, lat, lon, org } = r;
      assert.deepEqual({ country, region, city, lat, lon, org }, NO_GEO, String(ip));
      assert.deepEqual([r.platform, r.deviceType, r.isBot, r.browser, r.domain], ['other', 'other', false, null, null]);
    }
    assert.equal(e.enrich({ ip: 'nope', userAgent: null, url: null }).ip, null);
    assert.equal(e.enrich({ ip: '127.0.0.1', userAgent: null, url: null }).ip, '127.0.0.1');
  });

  it('cached answers equal fresh ones, also past the cache size', () => {
    const e = createEnricher({ geo, ipMode: 'truncate', cacheSize: 2 });
    const inputs = [
      { ip: '8.8.8.8', userAgent: CHROME, url: 'https://a.com/' },
      { ip: '1.1.1.1', userAgent: 'Googlebot/2.1', url: 'https://b.com/' },
      { ip: '2a00:1450:4001::1', userAgent: null, url: 'bad' },
    ];
    const first = inputs.map((i) => e.enrich(i));
    for (let round = 0; round < 3; round++) {
      inputs.forEach((i, k) => assert.deepEqual(e.enrich(i), first[k]));
    }
    const fresh = createEnricher({ geo, ipMode: 'truncate' });
    inputs.forEach((i, k) => assert.deepEqual(fresh.enrich(i), first[k]));
  });
});
