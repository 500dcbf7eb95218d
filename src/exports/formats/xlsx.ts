// A streaming XLSX writer on yazl: memory stays flat whatever the number of rows.
//
//   const w = new XlsxWriter('/tmp/out.xlsx', { columns: [{ name: 'id', type: 'number' }] });
//   for (const row of rows) await w.addRow([row.id]);  // resolves at once unless the output is behind
//   const { rows, sheets, bytes } = await w.finish();
//
// - Each sheet's XML goes through a PassThrough into yazl (`addReadStream`), one sheet at a time, and
//   from there, deflated, into the file or Writable; backpressure runs from the output back to
//   addRow(). Workbook, rels, content types and styles are added at finish() (after the sheets in the
//   ZIP, which is valid). yazl switches to ZIP64 by itself when an entry or offset passes 4 GiB.
// - Strings are inline (`t="inlineStr"`), so there is no shared-strings table to grow.
// - A row holds cells in column order; missing values and null/undefined are empty cells, extra
//   values are ignored. Values are written by their column's type:
//     number  number/bigint → number; NaN/±Infinity and anything else → text
//     boolean boolean → TRUE/FALSE; anything else → text
//     date    Date, epoch-ms number or ISO-8601 string (no zone = UTC) → a date-time serial (UTC)
//             styled `yyyy-mm-dd hh:mm:ss`; dates Excel cannot show (before 1900-03-01, after
//             9999) and unparsable values → text (ISO-8601 for a valid Date)
//     string  text of anything: Date → ISO-8601, objects → JSON
// - Text: characters illegal in XML 1.0 are dropped, a value starting with = + - @ TAB CR gets a
//   leading ' (neutralizeFormula), then it is cut to 32,767 UTF-16 code units (Excel's cell limit).
//   Empty text is an empty cell. The header row (bold, frozen) holds the column names, cleaned alike.
// - A sheet holds at most `maxRowsPerSheet` rows, header included (default 1,048,576, Excel's limit);
//   then the rows continue on a new sheet (Sheet2, … or "name (2)", …) with the header repeated.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { PassThrough, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { fixedTime, ZipFile } from '../../util/zip.ts';
import {
  MAX_COLS, MAX_ROWS, SHEET_END, SHEET_START, STYLE_DATE, STYLE_HEADER,
  cellXml, columnName, dateMs, excelSerial, packageParts, sheetName,
} from './xlsx-xml.ts';

export type XlsxColumnType = 'string' | 'number' | 'boolean' | 'date';
export interface XlsxColumn { name: string; type: XlsxColumnType }
export interface XlsxOptions {
  columns: XlsxColumn[];
  /** Name of the first sheet; later ones get " (2)", " (3)", …. Default Sheet1, Sheet2, …. */
  sheetName?: string;
  /** Rows a sheet holds, header included; default and maximum 1,048,576. */
  maxRowsPerSheet?: number;
  /** Deflate level, 0–9; default 6. */
  compressionLevel?: number;
  /** The time every entry of the package carries (epoch ms, the same bytes on every host); default the time it is written. */
  mtime?: number;
}
export interface XlsxResult { rows: number; sheets: number; bytes: number }

const MARKED = /\x01([^\x02]*)\x02/g;
/**
 * A row of the store's XML (src/storage/duckdb/xlsxsql.ts) with its marked cells (\x01 text \x02:
 * text the store left to the writer) made text cells like any other.
 */
export const finishRow = (x: string): string => (x.includes('\x01') ? x.replace(MARKED, (_m, text: string) => textCell(text, '') || '<c/>') : x);
/** What ends each row of the bytes addRowLines takes (\x03, a character XML forbids, then LF). */
export const ROW_END = Buffer.from('\x03\n');
const CHUNK_CHARS = 256 * 1024; // rows are batched into strings of about this size before a write
const RESOLVED: Promise<void> = Promise.resolve();

export class XlsxWriter {
  private readonly zip = new ZipFile();
  private readonly dest: Writable;
  private readonly path: string | null;
  private readonly done: Promise<void>;
  private readonly types: XlsxColumnType[];
  private readonly refs: string[];
  private readonly header: string;
  private readonly maxRows: number;
  private readonly level: number;
  private readonly names: string[] = [];
  private sheet: PassThrough | null = null;
  private rowInSheet = 0;
  private rows = 0;
  private bytes = 0;
  private buf = '';
  private error: Error | null = null;
  private onError: ((err: Error) => void) | null = null;
  private closed = false;
  private readonly time: ReturnType<typeof fixedTime> | Record<string, never>;

  constructor(output: string | Writable, private readonly opts: XlsxOptions) {
    const { columns } = opts;
    if (columns.length === 0 || columns.length > MAX_COLS) throw new RangeError(`XLSX needs 1–${MAX_COLS} columns`);
    this.maxRows = opts.maxRowsPerSheet ?? MAX_ROWS;
    if (!Number.isInteger(this.maxRows) || this.maxRows < 2 || this.maxRows > MAX_ROWS) {
      throw new RangeError(`maxRowsPerSheet must be an integer in 2–${MAX_ROWS}`);
    }
    this.level = opts.compressionLevel ?? 6;
    this.time = opts.mtime === undefined ? {} : fixedTime(opts.mtime);
    this.types = columns.map((c) => c.type);
    this.refs = columns.map((_, i) => columnName(i));
    this.header = columns
      .map((c, i) => textCell(c.name, ` r="${this.refs[i]}1" s="${STYLE_HEADER}"`))
      .join('');
    this.path = typeof output === 'string' ? output : null;
    this.dest = typeof output === 'string' ? createWriteStream(output) : output;
    this.done = finished(this.dest);
    this.done.catch((err: Error) => this.fail(err));
    this.zip.on('error', (err: Error) => this.fail(err));
    const out = this.zip.outputStream;
    out.on('data', (chunk: Buffer) => { this.bytes += chunk.length; });
    out.pipe(this.dest);
  }

  /** Adds one row; await it before the next one (it waits while the output is behind). */
  addRow(values: readonly unknown[]): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    if (this.closed) return Promise.reject(new Error('XlsxWriter: addRow after finish'));
    if (this.sheet === null || this.rowInSheet >= this.maxRows) this.nextSheet();
    const r = ++this.rowInSheet;
    const { types, refs } = this;
    let xml = `<row r="${r}">`;
    let gap = false; // a cell after an empty one names its column; the others follow on in order
    const n = Math.min(values.length, types.length);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const c = v === null || v === undefined ? '' : this.cell(types[i]!, v, gap ? ` r="${refs[i]}${r}"` : '');
      if (c === '') gap = true;
      else {
        xml += c;
        gap = false;
      }
    }
    this.buf += xml + '</row>';
    this.rows++;
    return this.buf.length >= CHUNK_CHARS ? this.flush() : RESOLVED;
  }

  /**
   * Adds rows already written as XML by the store (src/storage/duckdb/xlsxsql.ts): `<row>` elements
   * without `r`, every cell present. A cell marked \x01…\x02 holds text the store left to us (text
   * that needs care: finishRow): it is cleaned, cut and escaped here like any text cell.
   */
  async addRowsXml(rows: readonly string[]): Promise<void> {
    for (const x of rows) {
      if (this.error) throw this.error;
      if (this.closed) throw new Error('XlsxWriter: addRowsXml after finish');
      if (this.sheet === null || this.rowInSheet >= this.maxRows) this.nextSheet();
      this.rowInSheet++;
      this.rows++;
      this.buf += finishRow(x);
      if (this.buf.length >= CHUNK_CHARS) await this.flush();
    }
  }

  /**
   * addRowsXml for rows as bytes: `buf` holds whole rows, each ended by \x03 + LF (the store writes
   * them so: \x03 is a character XML forbids, so no row holds it). The bytes go to the sheet as
   * they are, the separators taken out in place — no text decoding on the way — except rows with a
   * marked cell, which go through addRowsXml's path. `buf` is changed and handed on: the caller must
   * not touch it afterwards.
   */
  async addRowLines(buf: Buffer): Promise<void> {
    if (this.error) throw this.error;
    if (this.closed) throw new Error('XlsxWriter: addRowLines after finish');
    let pos = 0;
    // Kept rows are moved down to buf[start, dst): always behind `pos`, never over bytes handed on.
    let start = 0;
    let dst = 0;
    let marked = buf.indexOf(1);
    const emit = async (next: number) => {
      const bytes = buf.subarray(start, dst);
      start = dst = next;
      if (bytes.length) await this.writeBytes(bytes);
    };
    while (pos < buf.length) {
      const end = buf.indexOf(ROW_END, pos);
      if (end < 0) throw new Error('XlsxWriter: addRowLines got a partial row');
      if (this.sheet === null || this.rowInSheet >= this.maxRows) {
        await emit(pos);
        this.nextSheet();
      }
      this.rowInSheet++;
      this.rows++;
      if (marked >= 0 && marked < end) {
        await emit(end + ROW_END.length);
        this.buf += finishRow(buf.toString('utf8', pos, end));
        if (this.buf.length >= CHUNK_CHARS) await this.flush();
        marked = buf.indexOf(1, end);
      } else {
        if (dst !== pos) buf.copy(buf, dst, pos, end);
        dst += end - pos;
      }
      pos = end + ROW_END.length;
    }
    await emit(pos);
  }

  /** Writes bytes to the sheet after the text waiting in `buf`. */
  private async writeBytes(bytes: Buffer): Promise<void> {
    if (this.buf) await this.flush();
    await this.write(bytes);
  }

  /** Ends the last sheet, writes the package parts and waits until the output has everything. */
  async finish(): Promise<XlsxResult> {
    if (this.error) throw this.error;
    if (this.closed) throw new Error('XlsxWriter: finish called twice');
    if (this.sheet === null) this.nextSheet(); // no rows: a sheet with the header alone
    this.closed = true;
    this.endSheet();
    for (const [path, xml] of packageParts(this.names)) {
      this.zip.addBuffer(Buffer.from(xml, 'utf8'), path, { compressionLevel: this.level, ...this.time });
    }
    this.zip.end();
    await this.done;
    if (this.error) throw this.error;
    return { rows: this.rows, sheets: this.names.length, bytes: this.bytes };
  }

  /** Stops writing, destroys the output and, for a path, removes the partial file. */
  async abort(reason: Error = new Error('XlsxWriter aborted')): Promise<void> {
    this.closed = true;
    this.fail(reason);
    this.sheet?.destroy();
    this.zip.outputStream.unpipe(this.dest);
    this.dest.destroy();
    await this.done.catch(() => {});
    if (this.path) await rm(this.path, { force: true });
  }

  /** A cell's XML ('' for an empty cell); `attrs` is '' or ` r="B7"`. */
  private cell(type: XlsxColumnType, v: unknown, attrs: string): string {
    switch (type) {
      case 'number':
        if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'bigint') return `<c${attrs}><v>${v}</v></c>`;
        break;
      case 'boolean':
        if (typeof v === 'boolean') return `<c${attrs} t="b"><v>${v ? 1 : 0}</v></c>`;
        break;
      case 'date': {
        const serial = excelSerial(dateMs(v));
        if (serial === serial) return `<c${attrs} s="${STYLE_DATE}"><v>${serial}</v></c>`;
        break;
      }
    }
    return textCell(typeof v === 'string' ? v : toText(v), attrs);
  }

  private nextSheet(): void {
    if (this.sheet !== null) this.endSheet();
    this.names.push(sheetName(this.opts.sheetName, this.names.length + 1));
    const sheet = new PassThrough({ highWaterMark: 1 << 20 });
    sheet.on('error', (err) => this.fail(err));
    this.sheet = sheet;
    this.zip.addReadStream(sheet, `xl/worksheets/sheet${this.names.length}.xml`, { compressionLevel: this.level, ...this.time });
    this.buf += `${SHEET_START}<row r="1">${this.header}</row>`;
    this.rowInSheet = 1;
  }

  private endSheet(): void {
    this.sheet!.end(this.buf + SHEET_END);
    this.buf = '';
  }

  private flush(): Promise<void> {
    const chunk = this.buf;
    this.buf = '';
    return this.write(chunk);
  }

  private write(chunk: string | Buffer): Promise<void> {
    const sheet = this.sheet!;
    if (sheet.write(chunk)) return RESOLVED;
    return new Promise<void>((resolve, reject) => {
      const settle = (err?: Error) => {
        sheet.off('drain', drained);
        this.onError = null;
        if (err) reject(err);
        else resolve();
      };
      const drained = () => settle();
      sheet.once('drain', drained);
      this.onError = settle;
    });
  }

  private fail(err: Error): void {
    if (this.error) return;
    this.error = err;
    this.onError?.(err);
  }
}

/** An inline-string cell of cleaned text, or '' when nothing is left. */
function textCell(s: string, attrs: string): string {
  const text = cellXml(s);
  if (text === '') return '';
  // xml:space="preserve" only where it matters: leading or trailing whitespace
  const ws = isSpace(text.charCodeAt(0)) || isSpace(text.charCodeAt(text.length - 1)) || text.endsWith('&#13;');
  return `<c${attrs} t="inlineStr"><is><t${ws ? ' xml:space="preserve"' : ''}>${text}</t></is></c>`;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

function toText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  if (typeof v === 'object' && v !== null) {
    try {
      const json = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
      if (json !== undefined) return json;
    } catch { /* fall through: circular */ }
  }
  return String(v);
}
