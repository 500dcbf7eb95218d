// Writes rows computed by JS (the `videos` scope and reports, read from their staged file; small tables) as CSV, JSON Lines, JSON or XLSX, with
// the conventions of the engine-written formats: CSV is RFC 4180 with CRLF and a header, text that
// could start a formula gets a ' (neutralizeFormula), `object` values become JSON text; JSON keeps
// values as they are. Writes wait for the file (backpressure): memory holds what the rows' source holds.
import { createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { csvRow, type CsvValue } from '../../compat/csv.ts';
import type { FieldType } from '../fields.ts';
import { neutralizeFormula } from './neutralize.ts';
import { XlsxWriter, type XlsxColumnType } from './xlsx.ts';
import { streamSink } from '../../util/sink.ts';

export type TableFormat = 'csv' | 'jsonl' | 'json' | 'xlsx';
export interface TableColumn {
  /** The output name. */
  name: string;
  type: FieldType;
}

/** How an export field type is written in XLSX. */
export function xlsxType(t: FieldType): XlsxColumnType {
  switch (t) {
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'timestamp':
      return 'date';
    default:
      return 'string';
  }
}

/** JSON.stringify's replacer for values from DuckDB: a BIGINT becomes a number. */
export const jsonBigints = (_k: string, x: unknown): unknown => (typeof x === 'bigint' ? Number(x) : x);

function csvValue(v: unknown): CsvValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return String(v);
  return neutralizeFormula(typeof v === 'string' ? v : JSON.stringify(v));
}

/**
 * Writes `rows` (values in column order) to `path`; gzip applies to the text formats, bom (a UTF-8 byte
 * order mark first, for Excel) to CSV, mtime (the time of its entries) to XLSX.
 */
export async function writeTable(path: string, format: TableFormat, columns: TableColumn[], rows: Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>, opts: { gzip?: boolean; bom?: boolean; mtime?: number } = {}): Promise<number> {
  let n = 0;
  if (format === 'xlsx') {
    const w = new XlsxWriter(path, { columns: columns.map((c) => ({ name: c.name, type: xlsxType(c.type) })), mtime: opts.mtime });
    try {
      for await (const r of rows) {
        await w.addRow(r);
        n++;
      }
      await w.finish();
    } catch (err) {
      await w.abort(err as Error);
      throw err;
    }
    return n;
  }
  const out = streamSink(...(opts.gzip ? [createGzip()] : []), createWriteStream(path));
  const names = columns.map((c) => c.name);
  const BATCH = 500;
  let buf = '';
  const flush = async () => {
    if (buf) await out.write(buf);
    buf = '';
  };
  try {
    if (format === 'csv') buf += (opts.bom ? '\uFEFF' : '') + csvRow(names.map((h) => neutralizeFormula(h)));
    if (format === 'json') buf += '[';
    for await (const r of rows) {
      if (format === 'csv') buf += csvRow(r.map(csvValue));
      else {
        const o: Record<string, unknown> = {};
        names.forEach((name, i) => (o[name] = r[i] ?? null));
        const line = JSON.stringify(o, jsonBigints);
        buf += format === 'json' ? (n ? ',\n' : '\n') + line : line + '\n';
      }
      if (++n % BATCH === 0) await flush();
    }
    if (format === 'json') buf += n ? '\n]\n' : ']\n';
    await flush();
    await out.end();
  } catch (err) {
    await out.destroy(); // the rows failed, or the file: no stream is left open
    throw err;
  }
  return n;
}
