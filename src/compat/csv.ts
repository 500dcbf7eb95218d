/**
 * A small RFC 4180 CSV writer for the vendor dialects (and whatever export format wants it).
 *
 * - A field containing `"`, `,`, CR or LF is enclosed in double quotes, its quotes doubled.
 * - Records end with CRLF, the header included.
 * - null/undefined are empty fields; numbers are written as JavaScript prints them; booleans as
 *   `true`/`false`.
 *
 * No formula prefixing: a value such as `=1+1` is written as is. These dialects promise the vendor's
 * bytes to the scripts that read them, and a `'` in front of a viewer's name or a URL would change
 * the data. Sanitizing for spreadsheets is an export-format decision, not the writer's.
 */

export type CsvValue = string | number | boolean | null | undefined;

const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : String(v);
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One record, CRLF included. */
export function csvRow(fields: readonly CsvValue[]): string {
  return fields.map(csvField).join(',') + '\r\n';
}

/** A whole document (header first); for small answers. Streams write csvRow by row instead. */
export function csvDocument(header: readonly string[], rows: Iterable<readonly CsvValue[]>): string {
  let out = csvRow(header);
  for (const r of rows) out += csvRow(r);
  return out;
}
