/**
 * XLSX rows built by DuckDB: one `<row>…</row>` string a row, so a single VARCHAR crosses into
 * JavaScript instead of every cell (converting DuckDB values to JS costs ~20–30 µs a wide row, the
 * limit of the old path). The cells follow formats/xlsx.ts:
 *   number  finite → `<c><v>n</v></c>`; NaN/±inf → text
 *   boolean `<c t="b"><v>1|0</v></c>`
 *   date    a serial in the 1900 system with the date style; times Excel cannot show → ISO text
 *   string  formula neutralized, & < > CR escaped, an inline string
 * An empty value is an empty `<c/>` (rows and cells carry no `r`: they follow on in order). Text the
 * engine would handle slowly or not at all — holding a character XML forbids, holding `_x` (OOXML's
 * `_xHHHH_` escape needs a look-ahead), or longer than 32,767 bytes — is rare: it comes out as
 * \x01 + the text without forbidden characters + \x02, and the writer finishes that cell in JS
 * (XlsxWriter.addRowLines), so both paths give the same cell.
 */
import { STYLE_DATE } from '../../exports/formats/xlsx-xml.ts';
import type { XlsxColumnType } from '../../exports/formats/xlsx.ts';

// The characters XML 1.0 forbids: C0 controls but TAB, LF, CR; U+FFFE, U+FFFF. (A constant regular
// expression is compiled once; translate() with this many characters costs ten times more a cell.)
const FORBIDDEN_CHARS = String.raw`[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]`;
const FORBIDDEN = `'${FORBIDDEN_CHARS}'`;
// First and last characters tested with ascii() (a code point) and ends_with() (bytes): left() and
// right() work on grapheme clusters and cost several times more.
// list_contains(), not IN: an IN list of constants becomes a join, which loses storage order (exports.ts).
const SPACE_CODES = '[32, 9, 10, 13]';
const FORMULA_CODES = '[61, 43, 45, 64, 9, 13]';
const endsWithSpace = (x: string) => `(ends_with(${x}, ' ') OR ends_with(${x}, chr(9)) OR ends_with(${x}, chr(10)) OR ends_with(${x}, chr(13)))`;
const anyOf = (x: string, chars: string[]) => chars.map((ch) => `contains(${x}, ${ch})`).join(' OR ');
// Escaping only when needed: four contains() cost less than four replace() on every cell.
const escape = (x: string) =>
  `CASE WHEN ${anyOf(x, ["'&'", "'<'", "'>'", 'chr(13)'])} THEN replace(replace(replace(replace(${x}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), chr(13), '&#13;') ELSE ${x} END`;

/**
 * A text cell of `x` (VARCHAR), every case tested. `forbidden`: whether it may hold a character XML
 * forbids (not numbers and times as text). Rows whose text needs none of this take plainTextCell.
 */
function textCell(x: string, forbidden: boolean): string {
  return `CASE WHEN ${x} IS NULL OR ${x} = '' THEN '<c/>'
    WHEN strlen(${x}) > 32767 OR contains(${x}, '_x')${forbidden ? ` OR regexp_matches(${x}, ${FORBIDDEN})` : ''} THEN concat(chr(1), regexp_replace(${x}, ${FORBIDDEN}, '', 'g'), chr(2))
    ELSE concat('<c t="inlineStr"><is><t', CASE WHEN list_contains(${SPACE_CODES}, ascii(${x})) OR ${endsWithSpace(x)} THEN ' xml:space="preserve"' ELSE '' END, '>',
      CASE WHEN list_contains(${FORMULA_CODES}, ascii(${x})) THEN '''' ELSE '' END, ${escape(x)}, '</t></is></c>') END`;
}

/** The cell of column `c` of type `t` (text: textCell, plainTextCell). */
function cell(c: string, t: Exclude<XlsxColumnType, 'string'>): string {
  switch (t) {
    case 'number':
      return `CASE WHEN ${c} IS NULL THEN '<c/>' WHEN isfinite(${c}::DOUBLE) THEN concat('<c><v>', ${c}::VARCHAR, '</v></c>') ELSE ${textCell(`${c}::VARCHAR`, false)} END`;
    case 'boolean':
      return `CASE WHEN ${c} IS NULL THEN '<c/>' WHEN ${c} THEN '<c t="b"><v>1</v></c>' ELSE '<c t="b"><v>0</v></c>' END`;
    case 'date': {
      // The serial as text from integers: whole days, then 11 decimals of the day rounded half up
      // (DuckDB's double-to-text conversion costs microseconds a value; this is exact to 1 µs).
      const ms = `(epoch_ms(${c}) + ${25_569 * 86_400_000})`;
      const frac = `lpad(((${ms} % 86400000 * 100000000000 + 43200000) // 86400000)::VARCHAR, 11, '0')`;
      return `CASE WHEN ${c} IS NULL THEN '<c/>' WHEN ${ms} >= ${61 * 86_400_000} AND ${ms} < ${2_958_466 * 86_400_000}
        THEN concat('<c s="${STYLE_DATE}"><v>', (${ms} // 86400000)::VARCHAR, '.', ${frac}, '</v></c>')
        ELSE ${textCell(`strftime(${c}, '%Y-%m-%dT%H:%M:%S.%gZ')`, false)} END`;
    }
  }
}

// Most rows' text holds nothing that textCell tests for: no character XML forbids, no `_x`, no cell
// starting with whitespace or a formula character or ending with whitespace, no & < > or CR, and
// less than 32,767 bytes in all. One regular expression over the row's text (its cells joined by
// DEL, a character XML allows, so that a cell's start and end are seen; DEL in a value only sends
// its row the careful way) finds them, instead of a dozen tests a cell, which cost 60% of the rows'
// time (bench/README.md): their text cells are wrapped as they are. Of the other rows, those
// needing only & < > CR escaped (URLs with queries) take the same path with escape(); the rest,
// the full textCell. A CASE evaluates a branch for its own rows alone. Every path gives the same
// bytes for a row it takes.
const SEP = 'chr(127)';
const CAREFUL = FORBIDDEN_CHARS + String.raw`|_x|(^|\x7F)[ \t\n\r=+\-@]|[ \t\n\r](\x7F|$)`;
const SPECIAL = `'${CAREFUL}|[&<>\\r]'`;
const ALL = 'xlsx_row_text';

/** A text cell of `x` (VARCHAR) in a row that needs no care (CAREFUL): wrapped, escaped if `esc`. */
const plainTextCell = (x: string, esc: boolean) =>
  `CASE WHEN ${x} IS NULL OR ${x} = '' THEN '<c/>' ELSE concat('<c t="inlineStr"><is><t>', ${esc ? escape(x) : x}, '</t></is></c>') END`;

const PLAIN = `strlen(${ALL}) <= 32767 AND NOT regexp_matches(${ALL}, ${SPECIAL})`;
const ESCAPE_ONLY = `strlen(${ALL}) <= 32767 AND NOT regexp_matches(${ALL}, '${CAREFUL}')`;
/** The text columns of a row of these types. */
const textColumns = (types: readonly XlsxColumnType[]) => types.flatMap((t, i) => (t === 'string' ? [`c${i}::VARCHAR`] : []));
/** `inner` with its row's text joined by DEL (ALL), what PLAIN and ESCAPE_ONLY test. */
const withText = (inner: string, text: string[]) => `SELECT *, concat(${text.join(`, ${SEP}, `)}) AS ${ALL} FROM (${inner}) t`;

/**
 * Wraps `inner` (a SELECT whose columns are `c0`, `c1`, … in output order: times as TIMESTAMP, text
 * as VARCHAR) into a SELECT of one column `x`, the row's XML. `careful`: every row the full way
 * (the tests' reference for the plain paths).
 */
export function xlsxRowsSql(inner: string, types: readonly XlsxColumnType[], careful = false): string {
  // One concat() of every piece: chained || would copy the growing row once per cell.
  const row = (text: (c: string) => string) => `concat('<row>', ${types.map((t, i) => (t === 'string' ? text(`c${i}::VARCHAR`) : cell(`c${i}`, t))).join(', ')}, '</row>')`;
  const text = textColumns(types);
  if (!text.length || careful) return `SELECT ${row((c) => textCell(c, true))} AS x FROM (${inner}) t`;
  return `SELECT CASE WHEN ${PLAIN} THEN ${row((c) => plainTextCell(c, false))} WHEN ${ESCAPE_ONLY} THEN ${row((c) => plainTextCell(c, true))}
      ELSE ${row((c) => textCell(c, true))} END AS x FROM (${withText(inner, text)}) t`;
}

/** Which way xlsxRowsSql takes each row of `inner` (`kind`: plain, escape, careful), for the tests. */
export function xlsxRowKindsSql(inner: string, types: readonly XlsxColumnType[]): string {
  return `SELECT CASE WHEN ${PLAIN} THEN 'plain' WHEN ${ESCAPE_ONLY} THEN 'escape' ELSE 'careful' END AS kind FROM (${withText(inner, textColumns(types))}) t`;
}
