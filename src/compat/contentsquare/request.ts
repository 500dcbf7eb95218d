/**
 * Contentsquare request checking (spec/compat.md): the body of POST /v1/exports, the list queries,
 * and the mapping of Contentsquare field names (snake_case, as its exportable-fields lists them; the
 * Reelstat camelCase names are accepted too) onto the export field catalog. Every refusal is a
 * CsError naming the parameter, what was wrong and what is accepted.
 */
import { isRealDate, realDateTime } from '../../metrics/period.ts';
import { EVENT_CATEGORIES, type EventCategory } from '../../events/types.ts';
import { FIELDS, FieldError, resolveFields, type FieldDef, type FieldSelection } from '../../exports/fields.ts';
import { DEVICE_LABELS, type ExportSpec } from '../../exports/service.ts';
import type { ExportJobRow, ExportRunRow } from '../../storage/types.ts';
import { shown } from '../../util/shown.ts';

export class CsError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export const bad = (message: string) => new CsError(400, 'INVALID_PARAMETER', message);

export const DIALECT = 'contentsquare';
export const CS_FORMATS = ['CSV', 'JSONL'] as const;
export const CS_SCOPES = ['sessions', 'views'] as const;
export const FREQUENCIES = ['once', 'daily', 'hourly'] as const;
export const JOB_STATES = ['ACTIVE', 'COMPUTING', 'COMPLETED', 'SUSPENDED', 'DELETED'] as const;
export const RUN_STATES = ['CREATED', 'RUNNABLE', 'RUNNING', 'SUCCESS', 'FAILURE'] as const;
/** A once job's dateRange: `to` at most this many days after `from`. */
export const MAX_RANGE_DAYS = 7;
/** A daily job runs at 00:00 UTC + 4 h for the previous UTC day. */
export const DAILY_DELAY_MINUTES = 240;
export const MAX_LIMIT = 100;
export const DEFAULT_LIMIT = 20;

export type CsFormat = (typeof CS_FORMATS)[number];
export type CsScope = (typeof CS_SCOPES)[number];
export type Frequency = (typeof FREQUENCIES)[number];
export type JobState = (typeof JOB_STATES)[number];
export type RunState = (typeof RUN_STATES)[number];

/** What a Contentsquare job stores in export_jobs.spec: the ExportSpec the runs use plus the request as given. */
export interface CsJobSpec extends ExportSpec {
  dialect: typeof DIALECT;
  name: string;
  csFormat: CsFormat;
  frequency: { value: Frequency; dateRange?: { from: string; to: string } };
  csFields: Array<{ fieldName: string; aliasName?: string }>;
  deviceLabel: (typeof DEVICE_LABELS)[number];
  segmentId?: string | number;
  /** Daily jobs: minutes after the end of the UTC day at which the scheduler runs it (240 = 04:00 UTC). */
  delayMinutes?: number;
}

const DAY_MS = 86_400_000;
const ALL_TYPES = Object.keys(EVENT_CATEGORIES) as EventCategory[];
const DAY_RE = /^(\d{4}-\d{2}-\d{2})$/;
const INSTANT_RE = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

export const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The fields of a scope as /v1/exportable-fields lists them. */
export function csFields(scope: CsScope): Array<{ name: string; type: FieldDef['type']; description: string }> {
  return FIELDS[scope].map((d) => ({ name: snake(d.name), type: d.type, description: d.description }));
}

function fieldDef(scope: CsScope, name: string): FieldDef | undefined {
  return FIELDS[scope].find((d) => d.name === name || snake(d.name) === name);
}

/** An ISO 8601 date (its 00:00 UTC) or date-time (UTC unless it carries an offset) as epoch ms. */
export function parseInstant(v: unknown): number | null {
  if (typeof v !== 'string' || v.length > 40) return null;
  const d = DAY_RE.exec(v);
  if (d) return isRealDate(d[1]) ? Date.parse(`${d[1]}T00:00:00Z`) : null;
  const m = INSTANT_RE.exec(v);
  if (!m || !realDateTime(v)) return null;
  const ms = Date.parse(m[6] ? v : `${v}Z`);
  return Number.isFinite(ms) ? ms : null;
}

const BODY_KEYS = ['name', 'format', 'scope', 'frequency', 'fields', 'deviceLabel', 'segmentId'];
const oneOf = (list: readonly string[]) => list.map((x) => JSON.stringify(x)).join(', ');

export interface CreateRequest {
  kind: ExportJobRow['kind'];
  spec: CsJobSpec;
  once?: { fromMs: number; toMs: number };
}

/** POST /v1/exports. `nowMs` and the account's raw retention bound the once window. */
export function parseCreate(body: unknown, ctx: { nowMs: number; rawRetentionDays: number }): CreateRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw bad('The body must be a JSON object: {"name", "format", "scope", "frequency": {"value", "dateRange"}, "fields": [{"fieldName", "aliasName"}], "deviceLabel"}.');
  }
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!BODY_KEYS.includes(k)) throw bad(`${k}: unknown parameter; accepted: ${BODY_KEYS.join(', ')}.`);

  if (Array.isArray(b.name)) throw bad('name: given more than once; give it once, a non-empty string of at most 255 characters.');
  if (typeof b.name !== 'string' || b.name.trim() === '' || b.name.length > 255) throw bad(`name: ${b.name === undefined ? 'required' : `${shown(b.name)} is not accepted`}; expected a non-empty string of at most 255 characters.`);
  if (!CS_FORMATS.includes(b.format as CsFormat)) throw bad(`format: ${b.format === undefined ? 'required' : `${shown(b.format)} is not accepted`}; expected one of ${oneOf(CS_FORMATS)}.`);
  if (!CS_SCOPES.includes(b.scope as CsScope)) throw bad(`scope: ${b.scope === undefined ? 'required' : `${shown(b.scope)} is not accepted`}; expected one of ${oneOf(CS_SCOPES)}.`);
  const format = b.format as CsFormat;
  const scope = b.scope as CsScope;

  const freq = b.frequency;
  if (!freq || typeof freq !== 'object' || Array.isArray(freq)) throw bad(`frequency: required, an object {"value": ${oneOf(FREQUENCIES)}, "dateRange": {"from", "to"} (once only)}.`);
  const f = freq as Record<string, unknown>;
  for (const k of Object.keys(f)) if (k !== 'value' && k !== 'dateRange') throw bad(`frequency.${k}: unknown parameter; accepted: value, dateRange.`);
  if (!FREQUENCIES.includes(f.value as Frequency)) throw bad(`frequency.value: ${f.value === undefined ? 'required' : `${shown(f.value)} is not accepted`}; expected one of ${oneOf(FREQUENCIES)}.`);
  const value = f.value as Frequency;
  let once: CreateRequest['once'];
  let dateRange: { from: string; to: string } | undefined;
  if (value !== 'once') {
    if (f.dateRange !== undefined) throw bad(`frequency.dateRange: only a "once" job takes a dateRange; a ${value} job exports the previous ${value === 'daily' ? 'UTC day' : 'hour'} on each run.`);
  } else {
    const dr = f.dateRange;
    if (!dr || typeof dr !== 'object' || Array.isArray(dr)) throw bad('frequency.dateRange: required for a "once" job, an object {"from", "to"} of ISO 8601 dates or date-times (UTC unless an offset is given).');
    const r = dr as Record<string, unknown>;
    for (const k of Object.keys(r)) if (k !== 'from' && k !== 'to') throw bad(`frequency.dateRange.${k}: unknown parameter; accepted: from, to.`);
    const fromMs = parseInstant(r.from);
    const toMs = parseInstant(r.to);
    if (fromMs === null) throw bad(`frequency.dateRange.from: ${r.from === undefined ? 'required, ' : `${shown(r.from)} is not `}an ISO 8601 date or date-time such as 2023-02-14T00:00:00.000Z.`);
    if (toMs === null) throw bad(`frequency.dateRange.to: ${r.to === undefined ? 'required, ' : `${shown(r.to)} is not `}an ISO 8601 date or date-time such as 2023-02-15T00:00:00.000Z.`);
    if (toMs <= fromMs) throw bad('frequency.dateRange.to: must be after frequency.dateRange.from (the range is [from, to); a date means its 00:00 UTC).');
    if (toMs - fromMs > MAX_RANGE_DAYS * DAY_MS) throw bad(`frequency.dateRange.to: at most ${MAX_RANGE_DAYS} days after frequency.dateRange.from; split longer periods into several jobs.`);
    // The sweeper deletes raw events older than now - rawDays (privacy/retention.ts): none of the range may lie before that.
    const oldest = ctx.nowMs - ctx.rawRetentionDays * DAY_MS;
    if (fromMs < oldest) {
      throw bad(`frequency.dateRange.from: raw events are kept ${ctx.rawRetentionDays} days; the earliest accepted is ${new Date(oldest).toISOString()}.`);
    }
    if (fromMs >= ctx.nowMs) throw bad('frequency.dateRange.from: is in the future; nothing can be exported yet.');
    once = { fromMs, toMs };
    dateRange = { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
  }

  if (!Array.isArray(b.fields) || b.fields.length === 0) throw bad(`fields: required, a non-empty list of {"fieldName", "aliasName"}; see GET /v1/exportable-fields?scope=${scope}.`);
  if (b.fields.length > 200) throw bad('fields: at most 200 fields.');
  const given: CsJobSpec['csFields'] = [];
  const selection: FieldSelection[] = [];
  const seen = new Map<string, number>();
  b.fields.forEach((x, i) => {
    if (!x || typeof x !== 'object' || Array.isArray(x)) throw bad(`fields[${i}]: expected an object {"fieldName", "aliasName"}.`);
    const o = x as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (k !== 'fieldName' && k !== 'aliasName') throw bad(`fields[${i}].${k}: not supported; a field takes fieldName and aliasName (custom and dynamic variables do not exist here).`);
    }
    if (typeof o.fieldName !== 'string' || o.fieldName === '') throw bad(`fields[${i}].fieldName: required, a field name of GET /v1/exportable-fields?scope=${scope}.`);
    if (o.aliasName !== undefined && (typeof o.aliasName !== 'string' || o.aliasName === '')) throw bad(`fields[${i}].aliasName: expected a non-empty string.`);
    const def = fieldDef(scope, o.fieldName);
    if (!def) throw bad(`fields[${i}].fieldName: unknown field ${shown(o.fieldName)} for scope ${scope}; see GET /v1/exportable-fields?scope=${scope}.`);
    const first = seen.get(def.name);
    if (first !== undefined) throw bad(`fields[${i}].fieldName: field ${shown(o.fieldName)} is named twice (also fields[${first}]); name each field once.`);
    seen.set(def.name, i);
    given.push(o.aliasName === undefined ? { fieldName: o.fieldName } : { fieldName: o.fieldName, aliasName: o.aliasName as string });
    selection.push({ fieldName: def.name, aliasName: (o.aliasName as string | undefined) ?? o.fieldName });
  });
  try {
    resolveFields(scope, selection);
  } catch (err) {
    if (err instanceof FieldError) throw bad(err.message.replace(/see GET \/api\/v1\/fields\?scope=\w+/, `see GET /v1/exportable-fields?scope=${scope}`));
    throw err;
  }

  if (!DEVICE_LABELS.includes(b.deviceLabel as (typeof DEVICE_LABELS)[number])) {
    throw bad(`deviceLabel: ${b.deviceLabel === undefined ? 'required' : `${shown(b.deviceLabel)} is not accepted`}; expected one of ${oneOf(DEVICE_LABELS)}.`);
  }
  const deviceLabel = b.deviceLabel as CsJobSpec['deviceLabel'];
  if (b.segmentId !== undefined && !(typeof b.segmentId === 'string' && b.segmentId.length <= 64) && !Number.isSafeInteger(b.segmentId)) {
    throw bad('segmentId: expected a number or a string (Reelstat has no segments: it is kept on the job and every viewer is exported).');
  }

  const spec: CsJobSpec = {
    scope, format: format === 'CSV' ? 'csv' : 'jsonl', types: ALL_TYPES, fields: selection, filters: deviceLabel === 'all' ? {} : { deviceLabel },
    gzip: false, zip: false, bom: false,
    dialect: DIALECT, name: b.name, csFormat: format, frequency: dateRange ? { value, dateRange } : { value }, csFields: given, deviceLabel,
  };
  if (b.segmentId !== undefined) spec.segmentId = b.segmentId as string | number;
  if (value === 'daily') spec.delayMinutes = DAILY_DELAY_MINUTES;
  return { kind: value, spec, once };
}

type Query = Record<string, unknown>;

function str(q: Query, k: string): string | undefined {
  const v = q[k];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw bad(`${k}: give it once.`);
  return v;
}

function enumParam<T extends string>(q: Query, k: string, list: readonly T[], caseless = false): T | undefined {
  const v = str(q, k);
  if (v === undefined) return undefined;
  const hit = list.find((x) => (caseless ? x.toLowerCase() === v.toLowerCase() : x === v));
  if (!hit) throw bad(`${k}: ${shown(v)} is not accepted; expected one of ${oneOf(list)}.`);
  return hit;
}

function intParam(q: Query, k: string, dflt: number, min: number, max: number): number {
  const v = str(q, k);
  if (v === undefined) return dflt;
  if (!/^\d{1,9}$/.test(v) || Number(v) < min || Number(v) > max) throw bad(`${k}: ${shown(v)} is not accepted; expected a whole number from ${min} to ${max}.`);
  return Number(v);
}

export interface PageQuery {
  limit: number;
  page: number;
  order: 'asc' | 'desc';
}

function pageQuery(q: Query): PageQuery {
  return {
    limit: intParam(q, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT),
    page: intParam(q, 'page', 1, 1, 1_000_000),
    order: enumParam(q, 'order', ['asc', 'desc'] as const, true) ?? 'desc',
  };
}

/** GET /v1/exports */
export function parseJobsQuery(q: Query): PageQuery & { format?: CsFormat; frequency?: Frequency; scope?: CsScope; state?: JobState } {
  return {
    format: enumParam(q, 'format', CS_FORMATS, true), frequency: enumParam(q, 'frequency', FREQUENCIES), scope: enumParam(q, 'scope', CS_SCOPES),
    state: enumParam(q, 'state', JOB_STATES, true), ...pageQuery(q),
  };
}

/** GET /v1/exports/{jobId}/runs */
export function parseRunsQuery(q: Query): PageQuery & { state?: RunState } {
  return { state: enumParam(q, 'state', RUN_STATES, true), ...pageQuery(q) };
}

/** GET /v1/exports/successful-runs */
export const parseSuccessfulRunsQuery = pageQuery;

export function parseScope(q: Query): CsScope {
  const scope = enumParam(q, 'scope', CS_SCOPES);
  if (!scope) throw bad(`scope: required; expected one of ${oneOf(CS_SCOPES)}.`);
  return scope;
}

/** A job's state in Contentsquare's terms: a once job follows its run; a recurring job is ACTIVE or SUSPENDED. */
export function jobState(job: ExportJobRow, lastRun: ExportRunRow['status'] | null): JobState {
  if (job.state === 'deleted') return 'DELETED';
  if (job.kind !== 'once') return job.state === 'paused' ? 'SUSPENDED' : 'ACTIVE';
  if (lastRun === 'running') return 'COMPUTING';
  if (lastRun === 'completed' || lastRun === 'failed') return 'COMPLETED';
  return 'ACTIVE';
}

export const RUN_STATE: Record<ExportRunRow['status'], RunState> = { pending: 'RUNNABLE', running: 'RUNNING', completed: 'SUCCESS', failed: 'FAILURE' };
export const RUN_STATUS: Partial<Record<RunState, ExportRunRow['status']>> = { RUNNABLE: 'pending', RUNNING: 'running', SUCCESS: 'completed', FAILURE: 'failed' };
