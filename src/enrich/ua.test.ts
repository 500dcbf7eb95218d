import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBotUa, parseUserAgent } from './ua.ts';

const UA = {
  chromeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  iphoneSafari: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  ipad: 'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  androidPhone: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
  androidTablet: 'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  samsungTv: 'Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 85.0.4183.93/6.0 TV Safari/537.36',
  lgTv: 'Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 WebAppManager',
  roku: 'Roku4640X/DVP-7.70 (297.70E04154A)',
  fireTv: 'Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7233) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.110 Mobile Safari/537.36',
  googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  googlebotSmartphone: 'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  headless: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36',
};

describe('parseUserAgent', () => {
  it('Chrome on Windows: desktop, web', () => {
    assert.deepEqual(parseUserAgent(UA.chromeWindows), { browser: 'Chrome', os: 'Windows', platform: 'desktop', isBot: false, deviceType: 'web' });
  });
  it('Firefox on Linux and Safari on a Mac: desktop, web, with ua-parser-js names', () => {
    assert.deepEqual(parseUserAgent(UA.firefoxLinux), { browser: 'Firefox', os: 'Linux', platform: 'desktop', isBot: false, deviceType: 'web' });
    assert.deepEqual(parseUserAgent(UA.safariMac), { browser: 'Safari', os: 'Mac OS', platform: 'desktop', isBot: false, deviceType: 'web' });
  });
  it('an iOS app HTTP stack (CFNetwork) without a device: smartphone, ios', () => {
    const r = parseUserAgent('MyApp/1.0 CFNetwork/1494.0.7 Darwin/23.4.0');
    assert.deepEqual([r.os, r.platform, r.deviceType, r.isBot], ['iOS', 'smartphone', 'ios', false]);
  });
  it('consoles and watches: platform other; a console browser is not "web"', () => {
    const ps5 = parseUserAgent('Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)');
    assert.deepEqual([ps5.platform, ps5.deviceType], ['other', 'other']);
    const watch = parseUserAgent('Mozilla/5.0 (Linux; Android 11; SAMSUNG SM-R890) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/1.0 Chrome/83.0.4103.106 Mobile Safari/537.36');
    assert.deepEqual([watch.platform, watch.deviceType], ['other', 'android']);
  });
  it('iPhone Safari: smartphone, ios', () => {
    const r = parseUserAgent(UA.iphoneSafari);
    assert.equal(r.platform, 'smartphone');
    assert.equal(r.deviceType, 'ios');
    assert.equal(r.os, 'iOS');
    assert.match(r.browser ?? '', /Safari/);
  });
  it('iPad: tablet, ios', () => {
    const r = parseUserAgent(UA.ipad);
    assert.equal(r.platform, 'tablet');
    assert.equal(r.deviceType, 'ios');
  });
  it('Android phone: smartphone, android', () => {
    const r = parseUserAgent(UA.androidPhone);
    assert.deepEqual([r.platform, r.deviceType, r.os, r.browser], ['smartphone', 'android', 'Android', 'Chrome']);
  });
  it('Android without "Mobile": tablet, android', () => {
    const r = parseUserAgent(UA.androidTablet);
    assert.equal(r.platform, 'tablet');
    assert.equal(r.deviceType, 'android');
  });
  it('smart TVs: tv', () => {
    for (const ua of [UA.samsungTv, UA.lgTv, UA.roku, UA.fireTv]) {
      const r = parseUserAgent(ua);
      assert.equal(r.platform, 'tv', ua);
      assert.equal(r.deviceType, 'tv', ua);
      assert.equal(r.isBot, false, ua);
    }
  });
  it('Googlebot, its smartphone variant and headless Chrome are bots', () => {
    assert.equal(parseUserAgent(UA.googlebot).isBot, true);
    assert.equal(parseUserAgent(UA.googlebotSmartphone).isBot, true);
    assert.equal(parseUserAgent(UA.headless).isBot, true);
    assert.deepEqual(parseUserAgent('curl/8.5.0'), { browser: null, os: null, platform: 'other', isBot: true, deviceType: 'other' });
    assert.equal(parseUserAgent(UA.googlebot).platform, 'other');
    assert.equal(parseUserAgent('python-requests/2.31.0').isBot, true);
  });
  it('no user agent: other, not a bot', () => {
    const none = { browser: null, os: null, platform: 'other', isBot: false, deviceType: 'other' };
    assert.deepEqual(parseUserAgent(null), none);
    assert.deepEqual(parseUserAgent(''), none);
  });
});

describe('native players are not bots', () => {
  it('ExoPlayer, OkHttp, Apple TV and Kodi clients are viewers', () => {
    for (const ua of ['ExoPlayerLib/2.19.1', 'okhttp/4.12.0', 'AppleTV11,1/11.1', 'Kodi/20.2', 'MyApp/3.1 (Linux;Android 14) ExoPlayerLib/2.19.1']) {
      assert.equal(isBotUa(ua), false, ua);
      assert.equal(parseUserAgent(ua).isBot, false, ua);
    }
  });
  it('a crawler token next to a player token still makes a bot', () => {
    assert.equal(isBotUa('okhttp/4.12.0 (compatible; Googlebot/2.1)'), true);
    assert.equal(isBotUa('ExoPlayerLib/2.19.1 python-requests/2.31'), true);
  });
  it('checking twice gives the same answer (the global pattern keeps no state)', () => {
    assert.equal(isBotUa('okhttp/4.12.0'), false);
    assert.equal(isBotUa('okhttp/4.12.0'), false);
  });
});
