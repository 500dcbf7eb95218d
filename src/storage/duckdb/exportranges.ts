/**
 * Which rows of an export a part or slice reads, and whether a range can be read as stored: part and
 * slice bounds (keyRanges, slicesOf) and the order check of a COPY (unsortedCopy). Used by
 * src/storage/duckdb/exports.ts.
 */
import type { XlsxColumnType } from '../../exports/formats/xlsx.ts';
import type { CopyFormat, ExportPart, ExportSource } from '../types.ts';
import type { ConnQuerier, Param } from './db.ts';
import { copyOptions, fromWhere, query } from './exportsql.ts';
import { xlsxRowsSql } from './xlsxsql.ts';

/**
 * Storage order without a sort. Raw events are stored in arrival order: the one event writer appends
 * them in `seq` order, nothing updates them, and deletes and compaction (an insertion-order-keeping
 * copy) leave the rest in place. View records are read in `rowid` order, which is storage order.
 * DuckDB keeps insertion order through a scan, filters and projections (`preserve_insertion_order`,
 * on by default), so a key range needs no sort — when the plan says so:
 * - the COPY must keep order: with several threads DuckDB plans an order-keeping COPY as
 *   BATCH_COPY_TO_FILE (COPY_TO_FILE means it writes as threads finish); with one thread
 *   (REELSTAT_DUCKDB_THREADS=1, the default) the pipeline runs on that thread in scan order;
 * - under it only projections and filters down to the scan of the scope's table, or, with one
 *   thread, a LEFT or INNER hash join whose probe side (first child) leads to that scan, run with
 *   DuckDB's caching operators off: a probe then emits its rows in the order they come (view records
 *   join the catalog this way). With caching on (DuckDB's default) a join holds back result chunks
 *   under 64 rows and emits them after bigger ones — a range starting near the end of a vector, or
 *   a filter matching few rows, wrote the first 348 records of a range last — so such a COPY comes
 *   back with `noCaching` and runs with `enable_caching_operators` off (runCopy; a setting of the
 *   connection, off for that statement only: the sessions aggregate, fed tiny chunks by its
 *   semi-join, took 74 s instead of 43 without caching). A join whose sides the optimizer swapped,
 *   a semi-join from a filter, an IN list DuckDB rewrote into a join, a join with several threads:
 *   the range takes the sorted slices instead.
 * A streamed result is collected in parallel and does not keep the order: XLSX rows go through a
 * COPY too.
 *
 * Answers the COPY of `part` to `path` read as stored, or null when its plan would not keep order.
 * `pushed`: a whole sparse part, its filters pushed into the scan (exportsql.ts, fromWhere). `seen`:
 * the slices of one part, in turn (SlicePlans). Once one of them plans as a scan under
 * filters and projections alone, the others (the same statement with other bounds: no join order
 * to choose) are not checked again. A plan through a join holds for the slices as wide as the one
 * checked (the join's sides are chosen by estimates, which depend on the width; view records'
 * spans are all of one width but the last), and the others are checked. An EXPLAIN of an XLSX
 * statement takes ~30 ms.
 */
export async function unsortedCopy(q: ConnQuerier, src: ExportSource, part: ExportPart, ids: string[] | undefined,
  to: { format: CopyFormat; path: string; gzip: boolean; noHeader?: boolean; pushed?: boolean } | { format: 'xlsx'; path: string; types: readonly XlsxColumnType[] },
  seen?: SlicePlans): Promise<OrderedCopy | null> {
  const table = src.scope === 'events' ? 'events' : src.scope === 'views' ? 'view_records' : null;
  if (!table || !('after' in part.range)) return null;
  const params: Param[] = [];
  const rows = query(src, to.format, part, params, ids, true, 'pushed' in to && !!to.pushed);
  const sql = to.format === 'xlsx'
    ? xlsxRowsCopy(rows, to.types, to.path)
    : `COPY (${rows}) TO '${to.path}' (${copyOptions(to.format, to.noHeader)}${to.gzip && to.format !== 'parquet' ? ', COMPRESSION gzip' : ''})`;
  const width = part.range.through - part.range.after;
  const known = seen?.kept;
  if (known && (!known.viaJoin || known.width === width)) return { sql, params, noCaching: known.viaJoin };
  const kept = await orderKeptBy(q, sql, params);
  if (kept?.source !== `.${table}`) return null;
  if (seen) seen.kept ??= { viaJoin: kept.viaJoin, width };
  return { sql, params, noCaching: kept.viaJoin };
}

/** What the slices of one part learned of their plan (unsortedCopy): the first slice's verdict, of its width. */
export interface SlicePlans { kept?: { viaJoin: boolean; width: number } }

/** A COPY that writes its rows in storage order; `noCaching`: only when run by runCopy. */
export interface OrderedCopy { sql: string; params: Param[]; noCaching: boolean }

/** Runs a COPY (caching operators off for it when it needs them off); its rows. */
export async function runCopy(q: ConnQuerier, copy: { sql: string; params: Param[]; noCaching?: boolean }): Promise<number> {
  if (!copy.noCaching) return q.run(copy.sql, copy.params);
  await q.run('SET enable_caching_operators = false');
  try {
    return await q.run(copy.sql, copy.params);
  } finally {
    await q.run('RESET enable_caching_operators').catch(() => {});
  }
}

/**
 * The source whose order a COPY statement writes its rows in (`.table` for a table's storage order,
 * `read_parquet` for files read in the order listed), and whether it keeps it through a join (then
 * only with caching operators off), or null when its plan does not keep an order.
 */
export async function orderKeptBy(q: ConnQuerier, sql: string, params: Param[]): Promise<{ source: string; viaJoin: boolean } | null> {
  const settings = await q.one<{ t: number; p: boolean }>("SELECT current_setting('threads')::BIGINT AS t, current_setting('preserve_insertion_order') AS p");
  const oneThread = Number(settings?.t) === 1;
  const plan = JSON.parse((await q.one<{ explain_value: string }>(`EXPLAIN (FORMAT json) ${sql}`, params))?.explain_value ?? '[]') as PlanNode[];
  const root = plan.length === 1 ? plan[0]! : undefined;
  const copyKeeps = root?.name === 'BATCH_COPY_TO_FILE' || (root?.name === 'COPY_TO_FILE' && oneThread && settings?.p === true);
  if (!copyKeeps || root!.children?.length !== 1) return null;
  const joins = { n: 0 };
  const source = orderFrom(root!.children[0]!, oneThread, joins);
  return source ? { source, viaJoin: joins.n > 0 } : null;
}

interface PlanNode { name?: string; children?: PlanNode[]; extra_info?: Record<string, unknown> }

/** The table whose scan order `node` keeps (as `.name`), or null; `joins` counts the joins passed. */
function orderFrom(node: PlanNode, oneThread: boolean, joins: { n: number }): string | null {
  const kids = node.children ?? [];
  switch (node.name) {
    case 'PROJECTION':
    case 'FILTER':
      return kids.length === 1 ? orderFrom(kids[0]!, oneThread, joins) : null;
    case 'SEQ_SCAN': {
      const t = String(node.extra_info?.Table ?? '');
      return t.includes('.') ? t.slice(t.lastIndexOf('.')) : null;
    }
    case 'HASH_JOIN':
      if (!oneThread || kids.length !== 2 || !['LEFT', 'INNER'].includes(String(node.extra_info?.['Join Type']))) return null;
      joins.n++;
      return orderFrom(kids[0]!, oneThread, joins);
    case 'READ_PARQUET':
      return 'read_parquet';
    default:
      return null;
  }
}

/**
 * The COPY of `rows` (a SELECT of the fields, xlsx typed) to `path` as XLSX `<row>` XML, each row
 * ended by \x03 + LF: no row holds \x03 (a character XML forbids; xlsxRowsSql strips it). One string
 * column written as is, one a line: no quoting, no header.
 */
export function xlsxRowsCopy(rows: string, types: readonly XlsxColumnType[], path: string): string {
  const inner = `SELECT * FROM (${rows}) AS r(${types.map((_, i) => `c${i}`).join(', ')})`;
  // Each row ends with chr(3) (ROW_END before the writer's LF) inside its concat(): a concat() around it copied every row again.
  // FORCE_QUOTE with no quote character writes the row as it is without the writer's search of every
  // row for characters that would need quotes (~6 % of DuckDB's CPU profile for view records: bench/README.md).
  return `COPY (${xlsxRowsSql(inner, types, false, 'chr(3)')}) TO '${path}' (FORMAT CSV, HEADER false, QUOTE '', ESCAPE '', DELIMITER chr(4), FORCE_QUOTE (x))`;
}

/**
 * Where a range cannot be read as stored (unsortedCopy), a part's rows are sorted by the key a slice
 * of at most `slicing.rows` rows at a time: the sort holds one slice, not the part, and text formats
 * append the slices' files in key order (JSON as JSON Lines joined into one array), Parquet writes a
 * file a slice and reads them back into the part's file, XLSX rows go through two files in turn.
 * Sessions and all XLSX rows go slice by slice too (a sparse range of another format is one statement
 * when it reads as stored, exports.ts, copyPart). The sizes (tests make them small
 * to cross many of their bounds):
 * - `span`: the most keys a slice of a sparse range spans;
 * - `xlsxSpan`: the same for XLSX, whose slices take about twice as long as CSV's (a span of a
 *   million rowids of view records: ~1 s against ~0.5 s) while DuckDB holds the blocks they read: a
 *   million view records scattered over 10M peaked at ~212 MB in spans of 1,048,576 rowids, ~195 MB
 *   in spans of 655,360, in about the same time (bench/README.md);
 * - `distinct`: about the chosen records a count of a filtered sessions export's sessions a minute
 *   reads at once (exportsessions.ts, distinctSessions: the count holds their sessions' ids);
 * - `pieces`: the keys of a piece of a dense CSV or JSON Lines part written by two connections at
 *   once (exportpieces.ts, inPieces): the part's file is whole about one piece's appending after its
 *   last piece is written;
 * - `gather`: the most records a span of a range of sessions gathers (exportsessions.ts, gathered:
 *   each span is sorted), beside `span` rowids;
 * - `sessions`: the most sessions a slice of a range of sessions sums (exportsessions.ts, sessionSlices):
 *   a slice's aggregate holds ~3 KB a session (the first non-null value of twenty attributes,
 *   bench/README.md); a million sessions as XLSX peaked at 300 MB in slices of 32,768, 276 MB in
 *   slices of 24,576, 253 MB in slices of 16,384 (at 1.6 times the time).
 */
export const slicing = { rows: 262_144, span: 1_048_576, xlsxSpan: 655_360, distinct: 262_144, pieces: 131_072, gather: 131_072, sessions: 24_576 };

/** Keys a histogram bucket spans (keyRanges). */
const BUCKET = 65_536;

/**
 * Consecutive key ranges of `size` rows (the last one of what is left) after `after` and up to
 * `through`. One scan counts the rows in buckets of BUCKET keys; a bound that falls inside a bucket
 * is the highest of a top-N of that bucket's keys alone (at most BUCKET, read through the key's
 * zone maps). A top-N of a whole part (a million keys) held ~100 MB; this holds a bucket's.
 */
export async function keyRanges(q: ConnQuerier, s: { from: string; where: string; key: string; params: Param[] }, after: number, through: number | null, size: number): Promise<ExportPart[]> {
  const n = Math.max(1, Math.trunc(size));
  const upTo = through === null ? '' : ` AND ${s.key} <= ${Math.trunc(through)}`;
  const buckets = await q.all<{ b: number; n: number; hi: number }>(
    `SELECT ${s.key} // ${BUCKET} AS b, count(*) AS n, max(${s.key}) AS hi FROM ${s.from} WHERE ${s.where} AND ${s.key} > ?${upTo} GROUP BY 1 ORDER BY 1`, [...s.params, after]);
  const out: ExportPart[] = [];
  let start = after; // the open part's bound (exclusive)
  let open = 0; // rows in the open part
  for (const { b, n: count, hi } of buckets) {
    let left = Number(count);
    while (open + left >= n) {
      const need = n - open;
      const bound = need === left ? Number(hi) : Number((await q.one<{ hi: number }>(
        `SELECT max(k) AS hi FROM (SELECT ${s.key} AS k FROM ${s.from} WHERE ${s.where} AND ${s.key} > ? AND ${s.key} < ? ORDER BY k LIMIT ${need})`,
        [...s.params, Math.max(start, Number(b) * BUCKET - 1), (Number(b) + 1) * BUCKET]))!.hi);
      out.push({ rows: n, range: { after: start, through: bound } });
      start = bound;
      left -= need;
      open = 0;
    }
    open += left;
  }
  if (open > 0) out.push({ rows: open, range: { after: start, through: Number(buckets.at(-1)!.hi) } });
  return out;
}

/**
 * The slices of a key-range part. Dense keys (events: `seq` runs on with few gaps) are cut by
 * arithmetic, no query: keys are unique integers, so a span of `slicing.rows` keys holds at most
 * that many rows. Sparse keys (view records of a period lie scattered over the table's rowids):
 * where a slice reads as stored (the plans of the first and the last span keep storage order),
 * nothing is sorted and a slice's rows do not matter, only the blocks it reads: spans of
 * `span` keys, by arithmetic too. Otherwise (each slice sorted) the bounds come from a top-N of the
 * key column inside the part, so a slice holds at most `slicing.rows` rows and spans at most `span`
 * keys.
 */
export async function slicesOf(q: ConnQuerier, src: ExportSource, part: ExportPart, ids: string[] | undefined, span = slicing.span): Promise<ExportPart[]> {
  const r = part.range;
  if ('from' in r) throw new Error('ranges of sessions are sliced by their snapshot (exportsessions.ts, sessionSlices)');
  if (!('after' in r)) throw new Error('a part of the sessions scope is a range of sessions');
  if (r.through <= r.after) return [part];
  if (part.rows * 2 < r.through - r.after) {
    // The spans are the same statement with other bounds; the first and the last (the only one of
    // another width) are checked. A span that then plans otherwise (never seen) is sorted whole.
    const spans = cut(r.after, r.through, span);
    const stored = async (sl: ExportPart) => (await unsortedCopy(q, src, sl, ids, { format: 'csv', path: '/dev/null', gzip: false })) !== null;
    if (await stored(spans[0]!) && await stored(spans.at(-1)!)) return spans;
    const params: Param[] = [];
    const { from, where, key, counted } = fromWhere(src, params, ids);
    const slices = await keyRanges(q, { from: counted?.from ?? from, where, key: key!, params }, r.after, r.through, slicing.rows);
    // A statement keeps every block it reads, and scattered rows have some in nearly every vector of
    // the keys they span: a slice spans at most `span` keys (a slice of a tenth of the rows
    // spanned 2.6M keys and held ~320 MB, see bench/README.md).
    const sorted = slices.flatMap((sl) => {
      const { after, through } = sl.range as { after: number; through: number };
      return through - after <= span ? [sl] : cut(after, through, span);
    });
    return sorted.length ? sorted : [part];
  }
  return cut(r.after, r.through, slicing.rows);
}

/** (after, through] in ranges of at most `step` keys (rows unknown: 0). */
export function cut(after: number, through: number, step: number): ExportPart[] {
  const out: ExportPart[] = [];
  for (let lo = after; lo < through; lo += step) out.push({ rows: 0, range: { after: lo, through: Math.min(lo + step, through) } });
  return out;
}

