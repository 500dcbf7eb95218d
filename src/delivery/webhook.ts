/**
 * Webhook delivery of scheduled exports (spec/exports.md "Scheduled exports").
 *
 * Signing follows Standard Webhooks (https://www.standardwebhooks.com):
 *   webhook-id         the message id, the same on every retry of one message
 *   webhook-timestamp  unix seconds of this attempt
 *   webhook-signature  "v1," + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`))
 * where the secret is "whsec_" + base64(key). A receiver checks it with `verify` (or any Standard
 * Webhooks library), rejecting timestamps more than 5 minutes away from its clock.
 *
 * One call of `sendWebhook` is one attempt; `planNext` (retry.ts) says what follows it. Nothing
 * here stores anything.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { BlockedAddressError, checkWebhookUrl, guardedLookup, type Resolver } from './address.ts';
import { parseRetryAfter, type AttemptResult } from './retry.ts';

export { checkWebhookUrl, forbiddenAddressReason, type Resolver, type UrlCheck } from './address.ts';
export { nextAttemptDelay, parseRetryAfter, planNext, RETRY_WINDOW_MS, type AttemptResult, type Plan } from './retry.ts';

const SECRET_PREFIX = 'whsec_';
export const DEFAULT_TIMEOUT_MS = 10_000;
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** A new signing secret: "whsec_" + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** A new message id for the webhook-id header ("msg_" + 22 url-safe characters). */
export function newMessageId(): string {
  return 'msg_' + randomBytes(16).toString('base64url');
}

function secretKey(secret: string): Buffer {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(b64, 'base64');
  if (key.length === 0) throw new Error('the webhook secret is empty or not base64');
  return key;
}

/** The webhook-signature value ("v1,<base64>") of a message. `timestamp` is in unix seconds. */
export function sign(args: { secret: string; id: string; timestamp: number; body: string }): string {
  const mac = createHmac('sha256', secretKey(args.secret)).update(`${args.id}.${args.timestamp}.${args.body}`).digest('base64');
  return `v1,${mac}`;
}

/** The three headers of one attempt. */
export function signedHeaders(args: { secret: string; id: string; timestamp: number; body: string }): Record<string, string> {
  return { 'webhook-id': args.id, 'webhook-timestamp': String(args.timestamp), 'webhook-signature': sign(args) };
}

export type Verified = { ok: true; id: string; timestamp: number } | { ok: false; reason: string };

type HeaderBag = Record<string, string | string[] | undefined> | Headers;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/**
 * Checks a received webhook: `body` must be the raw request body exactly as received. Accepts any
 * of several space-separated signatures (secret rotation). `now` is in ms (default Date.now()).
 *
 *   const v = verify({ secret, headers: req.headers, body: rawBody });
 *   if (!v.ok) return reply.code(400).send(v.reason);
 */
export function verify(args: { secret: string; headers: HeaderBag; body: string; now?: number; toleranceSeconds?: number }): Verified {
  const id = header(args.headers, 'webhook-id');
  const ts = header(args.headers, 'webhook-timestamp');
  const sigs = header(args.headers, 'webhook-signature');
  if (!id || !ts || !sigs) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  if (!/^\d+$/.test(ts)) return { ok: false, reason: 'webhook-timestamp is not a number of seconds' };
  const timestamp = Number(ts);
  const nowS = Math.floor((args.now ?? Date.now()) / 1000);
  if (Math.abs(nowS - timestamp) > (args.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS)) {
    return { ok: false, reason: 'webhook-timestamp is too far from the current time' };
  }
  let expected: Buffer;
  try {
    expected = Buffer.from(sign({ secret: args.secret, id, timestamp, body: args.body }).slice(3), 'base64');
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  for (const s of sigs.split(' ')) {
    const [version, value] = s.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const got = Buffer.from(value, 'base64');
    if (got.length === expected.length && timingSafeEqual(got, expected)) return { ok: true, id, timestamp };
  }
  return { ok: false, reason: 'no matching v1 signature' };
}

export interface SendWebhookOptions {
  url: string;
  /** The message id: keep it across retries of one message. */
  id: string;
  /** The JSON body, sent and signed byte for byte. */
  body: string;
  secret: string;
  timeoutMs?: number;
  /** Allow private, loopback and link-local targets (REELSTAT_ALLOW_PRIVATE_WEBHOOKS=1). */
  allowPrivate?: boolean;
  /** Clock for webhook-timestamp and Retry-After dates, ms (default Date.now). */
  now?: () => number;
  /** DNS resolution used at connect time (default dns.lookup with all addresses). */
  resolve?: Resolver;
  userAgent?: string;
}

function describeNetworkError(err: NodeJS.ErrnoException): string {
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset by the receiver',
    ENOTFOUND: 'host name not found',
    EAI_AGAIN: 'host name lookup failed temporarily',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ETIMEDOUT: 'connection timed out',
    CERT_HAS_EXPIRED: 'TLS certificate expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
    ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host name',
  };
  const code = err.code ?? '';
  const text = known[code];
  return text ? `${text} (${code})` : err.message || code || 'request failed';
}

/** One signed POST to a webhook URL. Never throws: every failure is described in the result. */
export function sendWebhook(opts: SendWebhookOptions): Promise<AttemptResult> {
  const started = performance.now();
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const elapsed = () => Math.round(performance.now() - started);
  const fail = (error: string, extra: Partial<AttemptResult> = {}): AttemptResult => ({
    ok: false, status: null, error, retryAfterMs: null, gone: false, blocked: false, durationMs: elapsed(), ...extra,
  });

  const check = checkWebhookUrl(opts.url, { allowPrivate: opts.allowPrivate });
  if (!check.ok) return Promise.resolve(fail(check.error, { blocked: true }));
  const url = check.url;

  let headers: Record<string, string>;
  try {
    headers = signedHeaders({ secret: opts.secret, id: opts.id, timestamp: Math.floor(now() / 1000), body: opts.body });
  } catch (e) {
    return Promise.resolve(fail((e as Error).message));
  }
  const body = Buffer.from(opts.body, 'utf8');
  const client = url.protocol === 'https:' ? https : http;

  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (r: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = client.request({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || undefined,
      path: url.pathname + url.search,
      auth: url.username ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined,
      headers: {
        ...headers,
        'content-type': 'application/json',
        'content-length': String(body.length),
        'user-agent': opts.userAgent ?? 'Reelstat-Webhooks/1',
      },
      agent: false,
      lookup: guardedLookup({ allowPrivate: opts.allowPrivate, resolve: opts.resolve }),
    });
    timer = setTimeout(() => {
      finish(fail(`no answer within ${timeoutMs} ms (timed out)`));
      req.destroy();
    }, timeoutMs);

    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof BlockedAddressError) finish(fail(err.message, { blocked: true }));
      else finish(fail(describeNetworkError(err)));
    });
    req.on('response', (res) => {
      // The status is the answer; the response body is not needed, so the connection is dropped
      // rather than waiting on a receiver that keeps it open.
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      let error: string | null = null;
      if (!ok) {
        error = `HTTP ${status}${res.statusMessage ? ' ' + res.statusMessage : ''}`;
        if (status >= 300 && status < 400) error += ' (redirects are not followed; point the webhook at the final URL)';
      }
      const retryAfterMs = ok ? null : parseRetryAfter(res.headers['retry-after'], now());
      finish({ ok, status, error, retryAfterMs, gone: status === 410, blocked: false, durationMs: elapsed() });
      res.resume();
      req.destroy();
    });
    req.end(body);
  });
}
