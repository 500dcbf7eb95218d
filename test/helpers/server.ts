/** Starts the real server in this process on a loopback port with a fresh data directory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startServer, type Server } from '../../src/server.ts';

export interface TestServer {
  url: string;
  server: Server;
  dataDir: string;
  writeKey: string;
  token: string;
  uid: string;
  email: string;
  password: string;
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export async function startTestServer(env: Record<string, string> = {}, opts: { now?: () => number; mono?: () => number; dataDir?: string } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'reelstat-test-'));
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    REELSTAT_DATA_DIR: dataDir,
    REELSTAT_ADMIN_TOKEN: ADMIN_TOKEN,
    REELSTAT_LOG_LEVEL: 'silent',
    REELSTAT_SHUTDOWN_GRACE: '2',
    ...env,
  });
  const server = await startServer(config, createLogger(config.logLevel), { now: opts.now, mono: opts.mono });
  const a = server.firstAccount;
  return {
    url: server.url,
    server,
    dataDir,
    writeKey: a?.writeKey ?? '',
    token: a?.apiToken ?? '',
    uid: a?.uid ?? '',
    email: a?.users[0].email ?? '',
    password: a?.password ?? '',
    async stop({ keepData = false } = {}) {
      await server.close();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A second account made through the admin API. */
export async function createAccount(url: string, name: string, email: string, password = 'correct horse battery') {
  const res = await fetch(`${url}/api/v1/admin/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, email, password }),
  });
  if (res.status !== 201) throw new Error(`admin create failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; name: string; uid: string; writeKey: string; apiToken: string; users: Array<{ email: string }> };
}

export async function collect(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/api/v1/collect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': BROWSER_UA, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** POST /api/v1/exports (202, pending), then polls until the export completed or failed; returns it. */
export async function runExport(url: string, token: string, body: Record<string, unknown>): Promise<any> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const r = await fetch(`${url}/api/v1/exports`, { method: 'POST', headers, body: JSON.stringify(body) });
  const created = await r.json();
  if (r.status !== 202 || created.status !== 'pending') throw new Error(`export not started: ${r.status} ${JSON.stringify(created)}`);
  for (let i = 0; i < 800; i++) {
    const e = await (await fetch(`${url}/api/v1/exports/${created.id}`, { headers })).json();
    if (e.status === 'completed' || e.status === 'failed') return e;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error('export did not finish');
}

/** Reads every event of the token's account through the incremental stream. */
export async function readAllEvents(url: string, token: string): Promise<any[]> {
  const out: any[] = [];
  let cursor = '';
  for (;;) {
    const res = await fetch(`${url}/api/v1/events/stream?limit=10000&cursor=${cursor}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`stream ${res.status}: ${await res.text()}`);
    const lines = (await res.text()).split('\n').filter(Boolean);
    if (!lines.length) return out;
    for (const l of lines) out.push(JSON.parse(l));
    cursor = res.headers.get('x-next-cursor')!;
  }
}

/** Node's fetch says "node", which is a bot; tests send as a desktop browser unless they say otherwise. */
export const BROWSER_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

let counter = 0;
/** A valid event; fields can be overridden. */
export function ev(over: Record<string, unknown> = {}) {
  counter++;
  return {
    id: `e-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`,
    event: 'impression',
    timestamp: new Date(Date.now() - 60_000).toISOString(),
    contentId: 'vid-1',
    sessionId: 'sess-1',
    ...over,
  };
}
