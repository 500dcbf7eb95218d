import pino, { type Logger } from 'pino';

/** Paths never written to the log: credentials, personal data, addresses. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-reelstat-key"]',
  'req.headers["x-forwarded-for"]',
  'req.remoteAddress',
  'req.query',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.apiToken',
  '*.writeKey',
  '*.clientSecret',
  '*.client_secret',
  '*.email',
  '*.ip',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}

export type { Logger };
