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
  it('holds at most max entries and keeps what was used within the last max/2 insertions', () => {
    const c = new Lru<number, number>(10);
    for (let i = 0; i < 100; i++) {
      c.set(i, i);
      assert.ok(c.size <= 10, `size ${c.size}`);
      for (let j = Math.max(0, i - 4); j <= i; j++) assert.equal(c.get(j), j, `${j} after inserting ${i}`);
    }
    assert.equal(c.get(0), undefined, 'long unused entries go');
  });
  it('a hit keeps an entry alive: one read every few insertions is enough', () => {
    const c = new Lru<string, number>(4);
    c.set('keep', 1);
    for (let i = 0; i < 50; i++) {
      c.set(`k${i}`, i);
      if (i % 2 === 1) assert.equal(c.get('keep'), 1, `after ${i}`);
    }
    assert.equal(c.get('k0'), undefined);
  });
  it('setting a key that is there replaces its value without evicting others', () => {
    const c = new Lru<string, number>(4);
    c.set('a', 1);
    c.set('b', 2);
    c.set('b', 3);
    assert.deepEqual([c.get('a'), c.get('b'), c.size], [1, 3, 2]);
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

  it('returns exactly the Enrichment fields plus deviceType', () => {
    const r = createEnricher({ geo, ipMode: 'full' }).enrich({ ip: '1.1.1.1', userAgent: CHROME, url: 'https://a.com/' });
    assert.deepEqual(Object.keys(r).sort(), ['browser', 'city', 'country', 'deviceType', 'domain', 'ip', 'isBot', 'lat', 'lon', 'org', 'os', 'platform', 'region', 'userAgent'].sort());
  });

  it('URLs that differ in path, query or fragment share a domain; the cache does not mix hosts', () => {
    const e = createEnricher({ geo, ipMode: 'full', cacheSize: 4 });
    const d = (url: string) => e.enrich({ ip: null, userAgent: null, url }).domain;
    assert.equal(d('https://www.Example.com/a?x=1'), 'example.com');
    assert.equal(d('https://www.Example.com/b#c'), 'example.com');
    assert.equal(d('https://www.Example.com?q'), 'example.com');
    assert.equal(d('https://other.example.com/a?x=1'), 'other.example.com');
    assert.equal(d('https://evil.com\\@good.com/'), 'evil.com', 'a backslash ends the authority of an http(s) URL');
    assert.equal(d('https://a.com /x'), null, 'as invalid as the whole URL');
    assert.equal(d('https://a.com:99999/'), null, 'a bad port makes the URL invalid');
    assert.equal(d('foo://Host.example/x'), 'host.example');
    for (const url of ['https://www.Example.com/a', 'https://evil.com\\@good.com/', 'https://a.com /x', 'http:/\\x.com/?u=http://y.com/']) assert.equal(d(url), domainOf(url), url);
  });

  it('a very long user agent is read by its start and still cached', () => {
    const e = createEnricher({ geo, ipMode: 'full' });
    const long = CHROME + ' ' + 'x'.repeat(5000);
    const r = e.enrich({ ip: null, userAgent: long, url: null });
    assert.deepEqual([r.browser, r.os, r.platform, r.userAgent], ['Chrome', 'Windows', 'desktop', long]);
    assert.deepEqual(e.enrich({ ip: null, userAgent: long, url: null }), r);
  });
});
