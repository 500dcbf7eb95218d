/**
 * The collector's body forms (spec/events.md): {"writeKey", "events": [...]}, a JSON array, one
 * event object, or NDJSON; text/plain bodies from sendBeacon are JSON too.
 */
import sjson from 'secure-json-parse';
import { AppError } from '../errors.ts';

/** JSON.parse with `__proto__` and `constructor.prototype` keys dropped, as in every other body (app.ts). */
const parseJson = (text: string): unknown => sjson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' });

export const MAX_EVENTS = 1000;

/** Stands in for an NDJSON line that is not JSON, so the rest of the body is still taken. */
export class UnparsableLine {
  constructor(readonly reason: string) {}
}

export interface CollectBody {
  writeKey: string | null;
  items: unknown[];
}

const ACCEPTED = 'a JSON object {"events": [...]}, a JSON array of events, one event object, or NDJSON (one event a line)';

function parseLines(raw: string): unknown[] {
  const items: unknown[] = [];
  for (const line of raw.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    if (items.length >= MAX_EVENTS) throw tooMany();
    try {
      items.push(parseJson(t));
    } catch (err) {
      items.push(new UnparsableLine(`line is not JSON: ${(err as Error).message}`));
    }
  }
  return items;
}

function tooMany(): AppError {
  return new AppError('payload_too_large', `At most ${MAX_EVENTS} events a request are accepted; split the batch.`);
}

export function parseCollectBody(raw: string, contentType: string): CollectBody {
  if (!raw.trim()) throw new AppError('invalid_body', `The body is empty; expected ${ACCEPTED}.`);
  const ndjson = /ndjson|jsonl|json-seq/i.test(contentType);
  let value: unknown;
  if (ndjson) {
    value = parseLines(raw);
  } else {
    try {
      value = parseJson(raw);
    } catch (err) {
      // A beacon may carry NDJSON under text/plain: take it when every non-blank line is JSON.
      const lines = raw.includes('\n') ? parseLines(raw) : [];
      if (lines.length > 1 && !lines.some((l) => l instanceof UnparsableLine)) value = lines;
      else throw new AppError('invalid_body', `The body is not valid JSON (${(err as Error).message}); expected ${ACCEPTED}.`);
    }
  }
  let writeKey: string | null = null;
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (value !== null && typeof value === 'object' && Array.isArray((value as { events?: unknown }).events)) {
    items = (value as { events: unknown[] }).events;
    const wk = (value as { writeKey?: unknown }).writeKey;
    if (typeof wk === 'string') writeKey = wk;
  } else if (value !== null && typeof value === 'object' && 'event' in value) {
    items = [value];
    const wk = (value as { writeKey?: unknown }).writeKey;
    if (typeof wk === 'string') writeKey = wk;
  } else {
    throw new AppError('invalid_body', `The body has no events; expected ${ACCEPTED}.`);
  }
  if (items.length > MAX_EVENTS) throw tooMany();
  if (items.length === 0) throw new AppError('invalid_body', `The body holds no events; expected ${ACCEPTED}.`);
  return { writeKey, items };
}
