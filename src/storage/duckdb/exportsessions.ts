/**
 * The sessions scope's reads of one export snapshot (exports.ts, snapshotOn): its parts, the
 * records gathered for a part, and the part's slices — all ranges of the session start every view
 * record stores (migration 011), then session id: the sessions' export order. The SQL is in
 * sessionsql.ts.
 */
import { rm } from 'node:fs/promises';
import type { ExportPart, ExportSource, SessionBound } from '../types.ts';
import type { ConnQuerier, Param } from './db.ts';
import { slicing } from './exportranges.ts';
import {
  boundAt, filtered, rangedRecordsSpan, sessionCountSql, sessionMinutesChunkSql, sessionMinutesSql, sessionNthSql, sessionRowidBucketsSql, type SessionSpan,
} from './sessionsql.ts';

/** `releaseCache`: hands DuckDB's cache back between statements (Db.releaseCache, for this export's connections). */
export function sessionReads(q: ConnQuerier, releaseCache: () => Promise<unknown>) {
  // A sessions part's records, gathered into files beside the part's (a temporary table would hold
  // every part's till the transaction ends), read by its slices; removed when the part ends
  // (removeGathered in copyPart and xlsxPart).
  let gatheredFiles: string[] = [];
  /**
   * The records of a part (a range of sessions), gathered a span of rowids at a time
   * (rangedRecordsSpan) into files sorted by session, each span at most `slicing.gather` records
   * (its sort) and `slicing.span` rowids (the blocks its scan holds), from a count of the range's
   * records in buckets of BUCKET rowids; at least one file, empty when the range is.
   */
  async function gathered(src: ExportSource, part: ExportPart, beside: string): Promise<ExportPart> {
    const r = part.range;
    if (!('from' in r)) throw new Error('a sessions part is a range of sessions');
    const p: Param[] = [];
    const buckets = await q.all<{ b: number; n: number; hi: number }>(sessionRowidBucketsSql(src, p, r, BUCKET), p);
    await releaseCache(); // between statements: the blocks the count read
    const spans: Array<{ after: number; through: number }> = [];
    let after = buckets.length ? Number(buckets[0]!.b) * BUCKET - 1 : -1;
    let through = after;
    let n = 0;
    for (const k of buckets) {
      const hi = Number(k.hi);
      if (n > 0 && (n + Number(k.n) > slicing.gather || hi - after > slicing.span)) {
        spans.push({ after, through });
        after = through;
        n = 0;
      }
      n += Number(k.n);
      through = hi;
    }
    spans.push({ after, through });
    for (const [i, span] of spans.entries()) {
      const file = `${beside}.records.${String(i).padStart(4, '0')}.parquet`;
      gatheredFiles.push(file);
      const params: Param[] = [];
      await q.run(`COPY (${rangedRecordsSpan(src, params, r, span)}) TO '${file}' (${GATHERED_SORTED})`, params);
      await releaseCache(); // between statements: the blocks the span read
    }
    return { rows: part.rows, range: { ...r, records: `read_parquet(${fileList(gatheredFiles)})` } };
  }
  // The period's sessions a minute, once per source of this export.
  const minutesOf = new Map<string, Array<{ m: number; s: number }>>();
  async function sessionMinutes(src: ExportSource): Promise<Array<{ m: number; s: number }>> {
    const id = JSON.stringify(src);
    let minutes = minutesOf.get(id);
    if (!minutes) {
      const p: Param[] = [];
      const counted = (await q.all<{ m: number; s: number | null; r: number }>(sessionMinutesSql(src, p), p)).map((x) => ({ m: Number(x.m), s: Number(x.s), r: Number(x.r) }));
      await releaseCache(); // between statements: the blocks the count read
      minutes = filtered(src) ? await distinctSessions(src, counted) : counted;
      minutesOf.set(id, minutes);
    }
    return minutes;
  }
  /**
   * The sessions with a chosen record a minute, counted distinct over runs of minutes that hold
   * about `slicing.distinct` chosen records (a minute holding more is a run of its own): a count over
   * the period held its sessions' ids (a million raised the process 118 MB, a run of 262,144 76 MB).
   */
  async function distinctSessions(src: ExportSource, minutes: Array<{ m: number; r: number }>): Promise<Array<{ m: number; s: number }>> {
    const out: Array<{ m: number; s: number }> = [];
    for (let i = 0; i < minutes.length;) {
      let [j, n] = [i, 0];
      while (j < minutes.length && (j === i || n + minutes[j]!.r <= slicing.distinct)) n += minutes[j++]!.r;
      const p: Param[] = [];
      const rows = await q.all<{ m: number; s: number }>(sessionMinutesChunkSql(src, p, { from: minutes[i]!.m, to: minutes[j - 1]!.m + 1 }), p);
      out.push(...rows.map((x) => ({ m: Number(x.m), s: Number(x.s) })));
      await releaseCache(); // between statements: the blocks the count read
      i = j;
    }
    return out;
  }
  /**
   * Consecutive ranges of the sessions in [lo, hi), from the period's sessions a
   * minute: of `every` sessions each but the last when `exact` (parts: a minute that holds a bound
   * is counted, and a bound inside a minute is the session so many places in), else of at most
   * `every` (slices: cut between minutes, and inside a minute only where it alone holds more; a
   * minute at an end is taken as whole, so a slice may hold fewer). None when the range is empty.
   */
  async function sessionRanges(src: ExportSource, lo: SessionBound, hi: SessionBound, every: number, exact: boolean): Promise<ExportPart[]> {
    const n = Math.max(1, Math.trunc(every));
    const out: ExportPart[] = [];
    const nth = async (from: SessionBound, to: SessionBound, k: number): Promise<SessionBound | null> => {
      const p: Param[] = [];
      const row = await q.one<{ t: number; id: string }>(sessionNthSql(src, p, { from, to }, k), p);
      return row ? { t: Number(row.t), id: row.id } : null;
    };
    let start = lo; // the open range's first bound
    let open = 0; // sessions in the open range
    for (const { m, s } of await sessionMinutes(src)) {
      const [first, next] = [boundAt(m * MINUTE_US), boundAt((m + 1) * MINUTE_US)];
      if (compareBounds(next, lo) <= 0) continue;
      if (compareBounds(first, hi) >= 0) break;
      const a = compareBounds(first, lo) < 0 ? lo : first;
      const b = compareBounds(next, hi) > 0 ? hi : next;
      let left = s;
      if (exact && (a !== first || b !== next)) {
        const p: Param[] = [];
        left = Number((await q.one<{ n: number }>(sessionCountSql(src, p, { from: a, to: b }), p))?.n ?? 0);
      }
      if (left === 0) continue;
      let from = a;
      if (exact) {
        while (open + left >= n) {
          const need = n - open;
          const bound = need === left ? b : await nth(from, b, need);
          if (!bound) throw new Error('sessions: a minute holds fewer sessions than counted');
          out.push({ rows: n, range: { from: start, to: bound } });
          [start, from, left, open] = [bound, bound, left - need, 0];
        }
      } else {
        if (open > 0 && open + left > n) {
          out.push({ rows: open, range: { from: start, to: a } });
          [start, open] = [a, 0];
        }
        while (left > n) {
          const bound = await nth(from, b, n);
          if (!bound) break; // fewer than counted (a minute at an end)
          out.push({ rows: open + n, range: { from: start, to: bound } });
          [start, from, left, open] = [bound, bound, left - n, 0];
        }
      }
      open += left;
    }
    if (open > 0) out.push({ rows: open, range: { from: start, to: hi } });
    return out;
  }
  /** The slices of a gathered range of sessions: at most `slicing.sessions` sessions each (a slice's aggregate holds its sessions). */
  async function sessionSlices(src: ExportSource, part: ExportPart): Promise<ExportPart[]> {
    const r = part.range as SessionSpan;
    const slices = (await sessionRanges(src, r.from, r.to, slicing.sessions, false)).map((sl) => ({ rows: sl.rows, range: { ...(sl.range as SessionSpan), records: r.records } }));
    return slices.length ? slices : [part];
  }
  async function removeGathered(): Promise<void> {
    for (const f of gatheredFiles) await rm(f, { force: true });
    gatheredFiles = [];
  }

  return {
    /** The parts of at most `partRows` sessions each (one empty part when there are none). */
    async parts(src: ExportSource, partRows: number): Promise<ExportPart[]> {
      const [lo, hi] = [boundAt(src.fromMs * 1000), boundAt(src.toMs * 1000)];
      const parts = await sessionRanges(src, lo, hi, partRows, true);
      return parts.length ? parts : [{ rows: 0, range: { from: lo, to: hi } }];
    },
    /** `part` cut into consecutive parts of at most `size` sessions. */
    async split(src: ExportSource, part: ExportPart, size: number): Promise<ExportPart[]> {
      const r = part.range;
      if (!('from' in r)) throw new Error('a sessions part is a range of sessions');
      return sessionRanges(src, r.from, r.to, size, true);
    },
    gathered,
    slices: sessionSlices,
    removeGathered,
  };
}

/** A DuckDB list of file paths (export paths never hold quotes). */
export const fileList = (files: readonly string[]) => `[${files.map((f) => `'${f}'`).join(', ')}]`;
// Records gathered for a range of sessions (gathered), sorted by session: small row groups,
// so that a slice reads little more than its sessions' records from each file.
const GATHERED_SORTED = 'FORMAT PARQUET, COMPRESSION uncompressed, ROW_GROUP_SIZE 8192';
/** Rowids a bucket of gathered's count spans. */
const BUCKET = 65_536;
const MINUTE_US = 60_000_000;
/** The order of two places among sessions: by start, then by session id as the store compares text (UTF-8 bytes). */
function compareBounds(a: SessionBound, b: SessionBound): number {
  return a.t - b.t || (a.id === b.id ? 0 : Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)));
}
