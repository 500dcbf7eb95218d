/** Dashboard sessions: cookie flags, the cookie as a principal, CSRF, expiry, sign-out, failures. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

const json = { 'content-type': 'application/json' };

async function signIn(url: string, email: string, password: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${url}/api/v1/session`, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify({ email, password }) });
  const setCookie = r.headers.get('set-cookie') ?? '';
  const token = /^reelstat_session=([^;]*)/.exec(setCookie)?.[1] ?? '';
  const body = r.headers.get('content-type')?.includes('json') ? await r.json() : null;
  return { status: r.status, setCookie, token, body, cookie: `reelstat_session=${token}`, headers: r.headers };
}

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(() => s.stop());

describe('sign-in', () => {
  it('sets an HttpOnly, SameSite=Lax cookie for the session, not Secure over plain HTTP', async () => {
    const r = await signIn(s.url, s.email.toUpperCase(), s.password);
    assert.equal(r.status, 201);
    assert.match(r.token, /^ses_[A-Za-z0-9]{32}$/);
    const flags = r.setCookie.split(';').map((x) => x.trim());
    assert.ok(flags.includes('HttpOnly'));
    assert.ok(flags.includes('SameSite=Lax'));
    assert.ok(flags.includes('Path=/'));
    assert.ok(flags.includes(`Max-Age=${7 * 86400}`));
    assert.ok(!flags.includes('Secure'));
    assert.equal(r.body.user.email, s.email);
    assert.equal(r.body.account.name, 'default');
    assert.ok(r.body.csrfToken.length >= 40);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.ok(Math.abs(Date.parse(r.body.expiresAt) - Date.now() - 7 * 86400_000) < 60_000);
  });

  it('the cookie is a principal for the account APIs; GET /api/v1/session gives the same CSRF token', async () => {
    const r = await signIn(s.url, s.email, s.password);
    const me = await fetch(`${s.url}/api/v1/session`, { headers: { cookie: r.cookie } });
    assert.equal(me.status, 200);
    assert.equal((await me.json()).csrfToken, r.body.csrfToken);
    const account = await fetch(`${s.url}/api/v1/account`, { headers: { cookie: r.cookie } });
    assert.equal(account.status, 200);
    assert.equal((await account.json()).name, 'default');
    for (const path of ['/api/v1/stats', '/api/v1/realtime', '/api/v1/referrers', '/api/v1/exports', '/api/v1/scheduled-exports', '/api/v1/reports', '/api/v1/tokens', '/api/v1/videos']) {
      const x = await fetch(`${s.url}${path}`, { headers: { cookie: r.cookie } });
      assert.equal(x.status, 200, path);
    }
  });

  it('without a cookie or token the APIs answer 401', async () => {
    assert.equal((await fetch(`${s.url}/api/v1/stats`)).status, 401);
    assert.equal((await fetch(`${s.url}/api/v1/session`)).status, 401);
  });

  it('keeps only the SHA-256 of the session token in the store', async () => {
    const r = await signIn(s.url, s.email, s.password);
    const row = await s.server.store.sessions.findByTokenHash(createHash('sha256').update(r.token).digest('hex'));
    assert.ok(row);
    assert.ok(!JSON.stringify(row).includes(r.token));
    assert.ok(!JSON.stringify(row).includes(r.body.csrfToken));
  });

  it('takes only JSON: what a cross-site form can send is refused without a session', async () => {
    const body = JSON.stringify({ email: s.email, password: s.password });
    for (const [type, payload] of [['text/plain', body], ['application/x-www-form-urlencoded', `email=${encodeURIComponent(s.email)}&password=${encodeURIComponent(s.password)}`], ['multipart/form-data; boundary=x', `--x\r\ncontent-disposition: form-data; name="email"\r\n\r\n${s.email}\r\n--x--`]]) {
      const r = await fetch(`${s.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': type }, body: payload });
      assert.ok(r.status === 400 || r.status === 415, `${type}: ${r.status}`);
      assert.equal(r.headers.get('set-cookie'), null, type);
    }
  });

  it('a wrong password and an unknown email get the same 401', async () => {
    const a = await signIn(s.url, s.email, 'not the password');
    const b = await signIn(s.url, 'nobody@example.com', 'not the password');
    assert.equal(a.status, 401);
    assert.equal(b.status, 401);
    assert.equal(a.body.error.message, b.body.error.message);
    assert.equal(a.setCookie, '');
  });
});

describe('CSRF', () => {
  it('refuses changes made with the cookie but without the CSRF header, and changes nothing', async () => {
    const r = await signIn(s.url, s.email, s.password);
    const list = async () => (await (await fetch(`${s.url}/api/v1/tokens`, { headers: { cookie: r.cookie } })).json()).data.length;
    const before = await list();
    for (const headers of [{}, { 'x-csrf-token': 'forged' }, { 'x-csrf-token': '' }] as Array<Record<string, string>>) {
      const x = await fetch(`${s.url}/api/v1/tokens`, { method: 'POST', headers: { cookie: r.cookie, ...headers } });
      assert.equal(x.status, 403);
      assert.match((await x.json()).error.message, /X-CSRF-Token/);
    }
    const del = await fetch(`${s.url}/api/v1/export-uid`, { method: 'DELETE', headers: { cookie: r.cookie } });
    assert.equal(del.status, 403);
    assert.equal((await (await fetch(`${s.url}/api/v1/account`, { headers: { cookie: r.cookie } })).json()).exportUidEnabled, true);
    assert.equal(await list(), before);
    const ok = await fetch(`${s.url}/api/v1/tokens`, { method: 'POST', headers: { cookie: r.cookie, 'x-csrf-token': r.body.csrfToken } });
    assert.equal(ok.status, 201);
    assert.equal(await list(), before + 1);
  });

  it('another session\'s CSRF token does not pass', async () => {
    const a = await signIn(s.url, s.email, s.password);
    const b = await signIn(s.url, s.email, s.password);
    const x = await fetch(`${s.url}/api/v1/tokens`, { method: 'POST', headers: { cookie: a.cookie, 'x-csrf-token': b.body.csrfToken } });
    assert.equal(x.status, 403);
  });

  it('a bearer token needs no CSRF header and wins over a bad cookie', async () => {
    const x = await fetch(`${s.url}/api/v1/tokens`, { method: 'POST', headers: { cookie: 'reelstat_session=ses_forged', authorization: `Bearer ${s.token}` } });
    assert.equal(x.status, 201);
  });
});

describe('sign-out', () => {
  it('needs the CSRF header, ends the session and clears the cookie', async () => {
    const r = await signIn(s.url, s.email, s.password);
    const refused = await fetch(`${s.url}/api/v1/session`, { method: 'DELETE', headers: { cookie: r.cookie } });
    assert.equal(refused.status, 403);
    assert.equal((await fetch(`${s.url}/api/v1/session`, { headers: { cookie: r.cookie } })).status, 200);
    const out = await fetch(`${s.url}/api/v1/session`, { method: 'DELETE', headers: { cookie: r.cookie, 'x-csrf-token': r.body.csrfToken } });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /^reelstat_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax/);
    const after = await fetch(`${s.url}/api/v1/stats`, { headers: { cookie: r.cookie } });
    assert.equal(after.status, 401);
    assert.match(after.headers.get('set-cookie') ?? '', /Max-Age=0/);
  });
});

describe('HTTPS', () => {
  it('marks the cookie Secure over HTTPS behind a trusted proxy, and only then', async () => {
    const proxied = await startTestServer({ REELSTAT_TRUST_PROXY: '1' });
    try {
      const viaHttps = await signIn(proxied.url, proxied.email, proxied.password, { 'x-forwarded-proto': 'https' });
      assert.ok(viaHttps.setCookie.split('; ').includes('Secure'));
      const viaHttp = await signIn(proxied.url, proxied.email, proxied.password, { 'x-forwarded-proto': 'http' });
      assert.ok(!viaHttp.setCookie.split('; ').includes('Secure'));
    } finally {
      await proxied.stop();
    }
    // Without REELSTAT_TRUST_PROXY the header is anyone's to send and is ignored.
    const spoofed = await signIn(s.url, s.email, s.password, { 'x-forwarded-proto': 'https' });
    assert.ok(!spoofed.setCookie.split('; ').includes('Secure'));
  });
});

describe('expiry and failures', () => {
  it('a session ends REELSTAT_SESSION_TTL after sign-in; an expired cookie is refused without counting as a failure', async () => {
    let clock = Date.now();
    const t = await startTestServer({ REELSTAT_SESSION_TTL: '3600', REELSTAT_AUTH_MAX_FAILURES: '2' }, { now: () => clock });
    try {
      const r = await signIn(t.url, t.email, t.password);
      assert.ok(r.setCookie.includes('Max-Age=3600'));
      clock += 3599_000;
      assert.equal((await fetch(`${t.url}/api/v1/account`, { headers: { cookie: r.cookie } })).status, 200);
      clock += 2_000;
      for (let i = 0; i < 4; i++) {
        const x = await fetch(`${t.url}/api/v1/account`, { headers: { cookie: r.cookie } });
        assert.equal(x.status, 401);
        assert.match((await x.json()).error.message, /expired/);
        assert.match(x.headers.get('set-cookie') ?? '', /Max-Age=0/);
      }
      // Not locked out: the expired cookie did not count.
      assert.equal((await signIn(t.url, t.email, t.password)).status, 201);
    } finally {
      await t.stop();
    }
  });

  it('failed sign-ins and forged cookies go through the failure limiter: 429 with Retry-After, even for the right password', async () => {
    const t = await startTestServer({ REELSTAT_AUTH_MAX_FAILURES: '3' });
    try {
      assert.equal((await signIn(t.url, t.email, 'wrong-1')).status, 401);
      assert.equal((await signIn(t.url, t.email, 'wrong-2')).status, 401);
      assert.equal((await fetch(`${t.url}/api/v1/account`, { headers: { cookie: 'reelstat_session=ses_forgedforgedforgedforgedforged00' } })).status, 401);
      const locked = await signIn(t.url, t.email, t.password);
      assert.equal(locked.status, 429);
      assert.ok(Number(locked.headers.get('retry-after')) >= 1);
      assert.equal(locked.setCookie, '');
    } finally {
      await t.stop();
    }
  });
});

describe('secrets at rest', () => {
  it('no session token or CSRF token is in any file of the data directory', async () => {
    const t = await startTestServer();
    const r = await signIn(t.url, t.email, t.password);
    assert.equal(r.status, 201);
    await t.stop({ keepData: true });
    for (const f of readdirSync(t.dataDir, { recursive: true }) as string[]) {
      if (statSync(join(t.dataDir, f)).isDirectory()) continue;
      const bytes = readFileSync(join(t.dataDir, f)).toString('latin1');
      assert.ok(!bytes.includes(r.token), `${f} holds the session token`);
      assert.ok(!bytes.includes(r.body.csrfToken), `${f} holds the CSRF token`);
    }
  });
});
