/** A small JSON client for the native API with a Bearer token, and waiting for an export to end. */
import assert from 'node:assert/strict';

export interface ApiAnswer {
  status: number;
  json: any;
  text: string;
  headers: Headers;
}

/** One HTTP request: a JSON body (a string goes as is), an optional Bearer token; the answer parsed as JSON when it is. */
export async function request(base: string, method: string, path: string, body?: unknown, token: string | null = null, headers: Record<string, string> = {}): Promise<ApiAnswer> {
  const h: Record<string, string> = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] ??= 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text, headers: res.headers };
}

export function apiClient(base: string, token: string) {
  return (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> => request(base, method, path, body, token, headers);
}

export type Api = ReturnType<typeof apiClient>;

/** Polls GET /api/v1/exports/{id} until the export is completed or failed. */
export async function waitExport(api: Api, id: string): Promise<any> {
  for (let i = 0; i < 400; i++) {
    const r = await api('GET', `/api/v1/exports/${id}`);
    assert.equal(r.status, 200, r.text);
    if (r.json.status === 'completed' || r.json.status === 'failed') return r.json;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`export ${id} did not finish`);
}

/** Starts an export (POST path with body), waits for it and asserts it completed. */
export async function exportDone(api: Api, path: string, body: Record<string, unknown>): Promise<any> {
  const r = await api('POST', path, body);
  assert.equal(r.status, 202, r.text);
  const done = await waitExport(api, r.json.id);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  return done;
}
