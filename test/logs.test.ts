/**
 * R21, the log half: with the most verbose logging, no credential ever reaches stdout or stderr —
 * apart from the one-time print of the first account's credentials on the first start.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { credentials, freePort, spawnServer } from './helpers/process.ts';

const ADMIN = 'admin-token-for-the-log-test-0123456789';
const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

/** The output without the one-time credential block main.ts prints on a first start. */
function withoutCredentialBlock(out: string): string {
  const start = out.indexOf('Reelstat created the "default" account');
  assert.ok(start >= 0, 'the first start prints the credentials');
  const end = out.indexOf('\n\n', start);
  assert.ok(end > start);
  const rest = out.slice(0, start) + out.slice(end);
  assert.ok(!rest.includes('Reelstat created the "default" account'), 'printed only once');
  return rest;
}

it('no secret in the log, at log level trace', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reelstat-logs-'));
  const c = await spawnServer(dir, await freePort(), { REELSTAT_LOG_LEVEL: 'trace', REELSTAT_ADMIN_TOKEN: ADMIN });
  try {
    const creds = credentials(dir) as { writeKey: string; apiToken: string; uid: string; password: string; users: Array<{ email: string }> };
    const secrets: Record<string, string> = { writeKey: creds.writeKey, apiToken: creds.apiToken, uid: creds.uid, password: creds.password, admin: ADMIN };
    const event = (id: string) => ({ id, event: 'impression', timestamp: Date.now() - 1000, contentId: 'v', sessionId: 's' });
    const call = async (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) => {
      const res = await fetch(`${c.url}${path}`, { ...init, headers: { 'user-agent': BROWSER, ...init.headers } });
      const text = await res.text();
      return { status: res.status, json: text.startsWith('{') ? JSON.parse(text) : null };
    };
    const json = { 'content-type': 'application/json' };

    // The write key in the query, in the header, in the body; a wrong one in the query.
    assert.equal((await call(`/api/v1/collect?writeKey=${creds.writeKey}`, { method: 'POST', headers: json, body: JSON.stringify([event('q1')]) })).status, 202);
    assert.equal((await call('/api/v1/collect', { method: 'POST', headers: { ...json, 'x-reelstat-key': creds.writeKey }, body: JSON.stringify(event('h1')) })).status, 202);
    assert.equal((await call('/api/v1/collect', { method: 'POST', headers: json, body: JSON.stringify({ writeKey: creds.writeKey, events: [event('b1')] }) })).status, 202);
    secrets.wrongKey = 'wk_NotARealKeyButStillSecret0123456789';
    assert.equal((await call(`/api/v1/collect?writeKey=${secrets.wrongKey}`, { method: 'POST', headers: json, body: JSON.stringify([event('w1')]) })).status, 401);
    // A body that is not JSON, holding the key.
    assert.equal((await call('/api/v1/collect', { method: 'POST', headers: json, body: `{"writeKey": "${creds.writeKey}", "events": [` })).status, 400);
    // A 404 with the key in the query.
    assert.equal((await call(`/api/v1/nothing-here?writeKey=${creds.writeKey}&uid=${creds.uid}`)).status, 404);

    // A bearer token, a wrong one, basic auth.
    assert.equal((await call('/api/v1/videos', { headers: { authorization: `Bearer ${creds.apiToken}` } })).status, 200);
    secrets.wrongToken = 'rs_WrongTokenThatMustNotBeLogged0123456789';
    assert.equal((await call('/api/v1/videos', { headers: { authorization: `Bearer ${secrets.wrongToken}` } })).status, 401);
    const basic = Buffer.from(`${creds.users[0].email}:${creds.password}`).toString('base64');
    secrets.basic = basic;
    assert.equal((await call('/api/v1/videos', { headers: { authorization: `Basic ${basic}` } })).status, 401);
    secrets.wrongAdmin = 'not-the-admin-token-but-secret-0123456789';
    assert.equal((await call('/api/v1/admin/accounts', { method: 'POST', headers: { ...json, authorization: `Bearer ${secrets.wrongAdmin}` }, body: JSON.stringify({ name: 'x', email: 'x@x.test', password: 'xxxxxxxxxx' }) })).status, 401);

    // Secrets made through the API, shown once in their answers.
    const token = await call('/api/v1/tokens', { method: 'POST', headers: { ...json, authorization: `Bearer ${creds.apiToken}` }, body: '{"name": "ci"}' });
    assert.equal(token.status, 201);
    secrets.newToken = token.json.token;
    const oauth = await call('/api/v1/oauth-clients', { method: 'POST', headers: { authorization: `Bearer ${creds.apiToken}` } });
    assert.equal(oauth.status, 201);
    secrets.clientSecret = oauth.json.client_secret;
    secrets.acmePassword = 'acme password that is secret';
    const acme = await call('/api/v1/admin/accounts', {
      method: 'POST', headers: { ...json, authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ name: 'Acme', email: 'owner@acme.test', password: secrets.acmePassword }),
    });
    assert.equal(acme.status, 201);
    Object.assign(secrets, { acmeWriteKey: acme.json.writeKey, acmeToken: acme.json.apiToken, acmeUid: acme.json.uid });
    secrets.userPassword = 'another user password';
    assert.equal((await call('/api/v1/account/users', {
      method: 'POST', headers: { ...json, authorization: `Bearer ${acme.json.apiToken}` }, body: JSON.stringify({ email: 'second@acme.test', password: secrets.userPassword }),
    })).status, 201);
    // Invalid credentials many times over, until the limiter answers 429.
    for (let i = 0; i < 25; i++) await call('/api/v1/videos', { headers: { authorization: `Bearer ${secrets.wrongToken}` } });

    c.proc.kill('SIGTERM');
    assert.equal(await c.exited, 0);
    const log = withoutCredentialBlock(c.output());
    assert.match(log, /"msg":"request"/, 'debug request lines were logged');
    assert.match(log, /"level":10|"level":20/, 'trace/debug output is on');
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(value && value.length >= 8, `${name} is a real secret`);
      assert.ok(!log.includes(value), `${name} appears in the log:\n${log}`);
    }
    for (const email of ['owner@acme.test', 'second@acme.test']) assert.ok(!log.includes(email), `${email} in the log`);
  } finally {
    if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
