import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { ADMIN_TOKEN, collect, createAccount, ev, readAllEvents, startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(() => s.stop());

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const json = { 'content-type': 'application/json' };

describe('first start', () => {
  it('makes the default account and writes credentials.json with mode 0600', () => {
    const file = join(s.dataDir, 'credentials.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const c = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(c.name, 'default');
    assert.match(c.writeKey, /^wk_/);
    assert.match(c.apiToken, /^rs_/);
    assert.match(c.uid, /^[A-Za-z0-9]{12}$/);
    assert.ok(c.password.length >= 12);
  });
  it('healthz answers 200', async () => {
    const r = await fetch(`${s.url}/healthz`);
    assert.equal(r.status, 200);
    assert.equal((await r.json()).status, 'ok');
  });
});

describe('admin API', () => {
  it('creates an account with the spec shape', async () => {
    const a = await createAccount(s.url, 'Acme', 'Owner@Acme.test', 'at least 8 chars');
    assert.match(a.id, /^acc_/);
    assert.equal(a.name, 'Acme');
    assert.match(a.uid, /^[A-Za-z0-9]{12}$/);
    assert.match(a.writeKey, /^wk_/);
    assert.match(a.apiToken, /^rs_/);
    assert.deepEqual(a.users, [{ email: 'owner@acme.test' }]);
  });
  it('refuses a wrong admin token, a short password and a taken email', async () => {
    let r = await fetch(`${s.url}/api/v1/admin/accounts`, { method: 'POST', headers: { ...json, ...bearer('wrong-token-wrong-token') }, body: JSON.stringify({ name: 'x', email: 'x@x.test', password: '12345678' }) });
    assert.equal(r.status, 401);
    // The token before the body: without it, a bad body is a 401 too, not the schema's message.
    r = await fetch(`${s.url}/api/v1/admin/accounts`, { method: 'POST', headers: { ...json, ...bearer('wrong-token-wrong-token') }, body: '{}' });
    assert.equal(r.status, 401);
    r = await fetch(`${s.url}/api/v1/admin/accounts`, { method: 'POST', headers: { ...json, ...bearer(ADMIN_TOKEN) }, body: JSON.stringify({ name: 'x', email: 'x@x.test', password: 'short' }) });
    assert.equal(r.status, 400);
    assert.match((await r.json()).error.message, /password/);
    r = await fetch(`${s.url}/api/v1/admin/accounts`, { method: 'POST', headers: { ...json, ...bearer(ADMIN_TOKEN) }, body: JSON.stringify({ name: 'x', email: 'owner@acme.test', password: '12345678' }) });
    assert.equal(r.status, 409);
  });
  it('is off without REELSTAT_ADMIN_TOKEN', async () => {
    const t = await startTestServer({ REELSTAT_ADMIN_TOKEN: '' });
    try {
      const r = await fetch(`${t.url}/api/v1/admin/accounts`, { method: 'POST', headers: { ...json, ...bearer('anything-anything') }, body: JSON.stringify({ name: 'x', email: 'y@x.test', password: '12345678' }) });
      assert.equal(r.status, 404);
      assert.match((await r.json()).error.message, /REELSTAT_ADMIN_TOKEN/);
    } finally {
      await t.stop();
    }
  });
});

describe('credentials of an account', () => {
  it('API tokens: create, list, use, revoke', async () => {
    const made = await (await fetch(`${s.url}/api/v1/tokens`, { method: 'POST', headers: { ...json, ...bearer(s.token) }, body: JSON.stringify({ name: 'ci' }) })).json();
    assert.match(made.token, /^rs_/);
    const list = await (await fetch(`${s.url}/api/v1/tokens`, { headers: bearer(s.token) })).json();
    assert.ok(list.data.some((t: any) => t.id === made.id && t.name === 'ci' && !('token' in t)));
    assert.equal((await fetch(`${s.url}/api/v1/videos`, { headers: bearer(made.token) })).status, 200);
    assert.equal((await fetch(`${s.url}/api/v1/tokens/${made.id}`, { method: 'DELETE', headers: bearer(s.token) })).status, 204);
    assert.equal((await fetch(`${s.url}/api/v1/videos`, { headers: bearer(made.token) })).status, 401);
    assert.equal((await fetch(`${s.url}/api/v1/tokens/${made.id}`, { method: 'DELETE', headers: bearer(s.token) })).status, 404);
  });
  it('write keys: create and revoke; a write key reads nothing', async () => {
    const made = await (await fetch(`${s.url}/api/v1/write-keys`, { method: 'POST', headers: bearer(s.token) })).json();
    assert.equal((await collect(s.url, ev(), { 'x-reelstat-key': made.writeKey })).status, 202);
    assert.equal((await fetch(`${s.url}/api/v1/videos`, { headers: bearer(made.writeKey) })).status, 401);
    await fetch(`${s.url}/api/v1/write-keys/${made.id}`, { method: 'DELETE', headers: bearer(s.token) });
    assert.equal((await collect(s.url, ev(), { 'x-reelstat-key': made.writeKey })).status, 401);
  });
  it('export UID: rotate gives a new one, disable turns it off', async () => {
    const r1 = await (await fetch(`${s.url}/api/v1/export-uid`, { method: 'POST', headers: bearer(s.token) })).json();
    const r2 = await (await fetch(`${s.url}/api/v1/export-uid`, { method: 'POST', headers: bearer(s.token) })).json();
    assert.match(r1.uid, /^[A-Za-z0-9]{12}$/);
    assert.notEqual(r1.uid, r2.uid);
    await assert.rejects(s.server.auth.authenticateUid(r1.uid, '10.9.9.1'));
    assert.equal((await s.server.auth.authenticateUid(r2.uid, '10.9.9.1')).via, 'uid');
    assert.equal((await fetch(`${s.url}/api/v1/export-uid`, { method: 'DELETE', headers: bearer(s.token) })).status, 204);
    await assert.rejects(s.server.auth.authenticateUid(r2.uid, '10.9.9.1'));
    const account = await (await fetch(`${s.url}/api/v1/account`, { headers: bearer(s.token) })).json();
    assert.equal(account.exportUidEnabled, false);
  });
  it('OAuth clients: create gives client_id and client_secret once', async () => {
    const r = await fetch(`${s.url}/api/v1/oauth-clients`, { method: 'POST', headers: { ...json, ...bearer(s.token) }, body: JSON.stringify({ name: 'cs' }) });
    assert.equal(r.status, 201);
    const c = await r.json();
    assert.match(c.client_id, /^oc_/);
    assert.match(c.client_secret, /^ocs_/);
    const p = await s.server.auth.authenticateClient(c.client_id, c.client_secret, '10.9.9.2');
    assert.ok(p.accountId);
    await assert.rejects(s.server.auth.authenticateClient(c.client_id, c.client_secret + 'x', '10.9.9.2'));
    const list = await (await fetch(`${s.url}/api/v1/oauth-clients`, { headers: bearer(s.token) })).json();
    assert.ok(list.data.some((x: any) => x.clientId === c.client_id && !('client_secret' in x)));
  });
  it('users sign in by password, which is checked', async () => {
    assert.equal((await s.server.auth.authenticateBasic(s.email, s.password, '10.9.9.3')).via, 'password');
    await assert.rejects(s.server.auth.authenticateBasic(s.email, s.password + '!', '10.9.9.3'));
  });
});

describe('cross-account isolation', () => {
  it('one account never reads or changes another account\'s data', async () => {
    const a = await createAccount(s.url, 'A', 'a-iso@example.test');
    const b = await createAccount(s.url, 'B', 'b-iso@example.test');
    await collect(s.url, [ev({ contentId: 'secret-video', id: 'iso-1', title: 'A only' })], { 'x-reelstat-key': a.writeKey });
    await fetch(`${s.url}/api/v1/projects/p1`, { method: 'PUT', headers: { ...json, ...bearer(a.apiToken) }, body: JSON.stringify({ name: 'A project' }) });
    // B sees none of it
    assert.equal((await fetch(`${s.url}/api/v1/videos/secret-video`, { headers: bearer(b.apiToken) })).status, 404);
    assert.equal((await (await fetch(`${s.url}/api/v1/videos`, { headers: bearer(b.apiToken) })).json()).meta.total, 0);
    assert.equal((await fetch(`${s.url}/api/v1/projects/p1`, { headers: bearer(b.apiToken) })).status, 404);
    assert.deepEqual(await readAllEvents(s.url, b.apiToken), []);
    // B cannot revoke A's credentials
    const aTokens = await (await fetch(`${s.url}/api/v1/tokens`, { headers: bearer(a.apiToken) })).json();
    assert.equal((await fetch(`${s.url}/api/v1/tokens/${aTokens.data[0].id}`, { method: 'DELETE', headers: bearer(b.apiToken) })).status, 404);
    assert.equal((await fetch(`${s.url}/api/v1/videos`, { headers: bearer(a.apiToken) })).status, 200);
    // B writing the same content id and event id lands in B only
    await collect(s.url, [ev({ contentId: 'secret-video', id: 'iso-1', title: 'B title' })], { 'x-reelstat-key': b.writeKey });
    const va = await (await fetch(`${s.url}/api/v1/videos/secret-video`, { headers: bearer(a.apiToken) })).json();
    assert.equal(va.title, 'A only');
    assert.equal((await readAllEvents(s.url, a.apiToken)).length, 1);
    // B's project with A's id is B's own
    await fetch(`${s.url}/api/v1/projects/p1`, { method: 'PUT', headers: { ...json, ...bearer(b.apiToken) }, body: JSON.stringify({ name: 'B project' }) });
    assert.equal((await (await fetch(`${s.url}/api/v1/projects/p1`, { headers: bearer(a.apiToken) })).json()).name, 'A project');
  });
});

describe('failed credentials', () => {
  it('repeated bad credentials from one address get 429', async () => {
    const t = await startTestServer({ REELSTAT_AUTH_MAX_FAILURES: '5' });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 8; i++) codes.push((await fetch(`${t.url}/api/v1/videos`, { headers: bearer('rs_wrong' + i) })).status);
      assert.deepEqual(codes.slice(0, 5), [401, 401, 401, 401, 401]);
      assert.equal(codes[6], 429);
      const r = await fetch(`${t.url}/api/v1/videos`, { headers: bearer(t.token) });
      assert.equal(r.status, 429, 'even a right token from that address waits out the window');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
    } finally {
      await t.stop();
    }
  });
});

describe('secrets at rest', () => {
  it('no token, key, UID or password is stored in clear in the database file', async () => {
    const t = await startTestServer();
    const extra = await (await fetch(`${t.url}/api/v1/tokens`, { method: 'POST', headers: bearer(t.token) })).json();
    const client = await (await fetch(`${t.url}/api/v1/oauth-clients`, { method: 'POST', headers: bearer(t.token) })).json();
    const secrets = [t.token, t.writeKey, t.uid, t.password, extra.token, client.client_secret];
    await t.stop({ keepData: true });
    try {
      // Every byte of every file the store wrote.
      for (const f of readdirSync(t.dataDir, { recursive: true }) as string[]) {
        if (f === 'credentials.json' || statSync(join(t.dataDir, f)).isDirectory()) continue;
        const bytes = readFileSync(join(t.dataDir, f)).toString('latin1');
        for (const sec of secrets) assert.ok(!bytes.includes(sec), `${f} holds a secret in clear`);
      }
      // And every text cell, read back through DuckDB.
      const db = await DuckDBInstance.create(join(t.dataDir, 'reelstat.duckdb'));
      const c = await db.connect();
      for (const table of ['accounts', 'credentials', 'users']) {
        const rows = (await c.runAndReadAll(`SELECT * FROM ${table}`)).getRowObjectsJS();
        assert.ok(rows.length > 0);
        const text = JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
        for (const sec of secrets) assert.ok(!text.includes(sec), `${table} holds a secret in clear`);
      }
      c.closeSync();
      db.closeSync();
    } finally {
      spawnSync('rm', ['-rf', t.dataDir]);
    }
  });
});
