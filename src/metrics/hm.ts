/**
 * Per-second watch counts (spec/metrics.md "The view record", "The `hm` encoding", "Heatmap and
 * retention"), kept as sorted runs so that a huge segment costs two boundaries, never an array of
 * seconds. Pure: no storage, no clock.
 */

/** Whole seconds `start..end` (both inclusive, 0 ≤ start ≤ end) each with the same `count` ≥ 1. */
export interface HmRun {
  start: number;
  end: number;
  count: number;
}

/** A played stretch of media, `[from, to)` in seconds, 0 ≤ from ≤ to (a `watchProgress` data). */
export interface Segment {
  from: number;
  to: number;
}

/**
 * Seconds are clamped to this so that `end + 1` stays an exact integer; a segment reaching past it
 * (only a forged one can) counts up to it.
 */
export const MAX_SECOND = Number.MAX_SAFE_INTEGER - 1;

/** The longest array `perSecondCounts` will build (about 11.5 days of seconds). */
export const MAX_PER_SECOND_LENGTH = 1_000_000;

/** Round half up (inputs are ≥ 0, where `Math.round` is exactly that), clamped to MAX_SECOND; −0 → 0. */
export function roundSecond(x: number): number {
  return Math.min(Math.round(x), MAX_SECOND) + 0;
}

/** True when `s` is a usable segment: finite numbers with 0 ≤ from ≤ to. */
export function isSegment(s: { from: unknown; to: unknown }): s is Segment {
  const { from, to } = s;
  return typeof from === 'number' && typeof to === 'number' && Number.isFinite(from) && Number.isFinite(to) && from >= 0 && from <= to;
}

/** Appends run [start, end] with `count`, merging it into the previous run when they touch and agree. */
function push(out: HmRun[], start: number, end: number, count: number): void {
  const last = out[out.length - 1];
  if (last !== undefined && last.end + 1 === start && last.count === count) last.end = end;
  else out.push({ start, end, count });
}

/** Sweep line over [position, delta] boundaries: the maximal runs where the running sum is ≥ 1. */
function sweep(deltas: Array<[number, number]>): HmRun[] {
  deltas.sort((x, y) => x[0] - y[0]);
  const out: HmRun[] = [];
  let level = 0;
  for (let i = 0; i < deltas.length; ) {
    const pos = deltas[i]![0];
    while (i < deltas.length && deltas[i]![0] === pos) level += deltas[i++]![1];
    if (level > 0 && i < deltas.length) push(out, pos, deltas[i]![0] - 1, level);
  }
  return out;
}

/**
 * The per-second counts of some segments: each `[from, to)` adds 1 to every whole second k with
 * round(from) ≤ k < round(to), rounding half up. Returns maximal runs in ascending order; the result
 * does not depend on the segments' order. Throws a RangeError on a segment that is not `isSegment`.
 */
export function secondCounts(segments: Iterable<Segment>): HmRun[] {
  const deltas: Array<[number, number]> = [];
  for (const s of segments) {
    if (!isSegment(s)) throw new RangeError(`not a segment (need finite 0 ≤ from ≤ to): ${JSON.stringify(s)}`);
    const a = roundSecond(s.from);
    const b = roundSecond(s.to);
    if (b > a) deltas.push([a, 1], [b, -1]);
  }
  return sweep(deltas);
}

function checkRun(r: HmRun): void {
  const ok =
    Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end) && Number.isSafeInteger(r.count) &&
    r.start >= 0 && r.start <= r.end && r.end <= MAX_SECOND && r.count >= 1;
  if (!ok) throw new RangeError(`not a run (need whole 0 ≤ start ≤ end, count ≥ 1): ${JSON.stringify(r)}`);
}

/**
 * The canonical form of runs: validated, sorted, adjacent runs with the same count merged. Throws a
 * RangeError on an invalid run or on two runs sharing a second.
 */
export function normalizeRuns(runs: Iterable<HmRun>): HmRun[] {
  const sorted = [...runs].sort((x, y) => x.start - y.start);
  const out: HmRun[] = [];
  let prevEnd = -1;
  for (const r of sorted) {
    checkRun(r);
    if (r.start <= prevEnd) throw new RangeError(`runs overlap at second ${r.start}`);
    push(out, r.start, r.end, r.count);
    prevEnd = r.end;
  }
  return out;
}

/** The `hm` string: `a-b` (or `a` when a = b), then `:c` when c > 1, comma-joined; '' for no runs. */
export function encodeHm(runs: Iterable<HmRun>): string {
  return normalizeRuns(runs)
    .map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`) + (r.count > 1 ? `:${r.count}` : ''))
    .join(',');
}

const TOKEN = /^(0|[1-9]\d*)(?:-(0|[1-9]\d*))?(?::([1-9]\d*))?$/;

/**
 * Parses an `hm` string back into canonical runs. Accepts any well-formed list (whole numbers
 * without leading zeros, a ≤ b, count ≥ 1, runs ascending and not sharing a second, no spaces); an
 * explicit `:1` or two touching runs of equal count are accepted and come back merged, so
 * `encodeHm(decodeHm(s)) === s` for every string `encodeHm` produces. Throws a SyntaxError otherwise.
 */
export function decodeHm(s: string): HmRun[] {
  if (s === '') return [];
  const out: HmRun[] = [];
  let prevEnd = -1;
  for (const token of s.split(',')) {
    const m = TOKEN.exec(token);
    if (m === null) throw new SyntaxError(`malformed hm run ${JSON.stringify(token)}`);
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    const count = m[3] === undefined ? 1 : Number(m[3]);
    if (!Number.isSafeInteger(count) || end > MAX_SECOND) throw new SyntaxError(`hm number too large in ${JSON.stringify(token)}`);
    if (start > end) throw new SyntaxError(`hm run ${JSON.stringify(token)} ends before it starts`);
    if (start <= prevEnd) throw new SyntaxError(`hm run ${JSON.stringify(token)} is not after the previous one`);
    push(out, start, end, count);
    prevEnd = end;
  }
  return out;
}

/** Seconds with a count ≥ 1. */
export function uniqueSeconds(runs: Iterable<HmRun>): number {
  let n = 0;
  for (const r of runs) n += r.end - r.start + 1;
  return n;
}

/** Sum of the counts (repeats included) — Cincopa `prg`. */
export function totalSeconds(runs: Iterable<HmRun>): number {
  let n = 0;
  for (const r of runs) n += (r.end - r.start + 1) * r.count;
  return n;
}

/**
 * The counts of seconds 0..length−1 as a plain array (0 where nothing was watched); seconds at or
 * beyond `length` are left out. Throws a RangeError unless 0 ≤ length ≤ MAX_PER_SECOND_LENGTH is
 * whole — callers sizing by a (client-reported) duration should clamp to MAX_PER_SECOND_LENGTH.
 */
export function perSecondCounts(runs: Iterable<HmRun>, length: number): number[] {
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_PER_SECOND_LENGTH) {
    throw new RangeError(`length must be a whole number from 0 to ${MAX_PER_SECOND_LENGTH}, got ${length}`);
  }
  const out = new Array<number>(length).fill(0);
  for (const r of runs) {
    for (let k = r.start; k <= r.end && k < length; k++) out[k]! += r.count;
  }
  return out;
}

/** Heatmap and audience retention of a set of records, both as runs. */
export interface MergedHeatmap {
  /** Per second, the sum of the records' counts. */
  heatmap: HmRun[];
  /** Per second, the number of records whose count there is ≥ 1. */
  retention: HmRun[];
}

/**
 * Adds up the runs of several records (one iterable of runs per record; within a record runs must
 * not share a second, else RangeError). Cost is O(n log n) in the number of runs, whatever the
 * seconds they cover.
 */
export function mergeHeatmap(records: Iterable<Iterable<HmRun>>): MergedHeatmap {
  const heat: Array<[number, number]> = [];
  const seen: Array<[number, number]> = [];
  for (const runs of records) {
    for (const r of normalizeRuns(runs)) {
      heat.push([r.start, r.count], [r.end + 1, -r.count]);
      seen.push([r.start, 1], [r.end + 1, -1]);
    }
  }
  return { heatmap: sweep(heat), retention: sweep(seen) };
}
