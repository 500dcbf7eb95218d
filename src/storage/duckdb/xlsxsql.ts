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
const FORBIDDEN = String.raw`'[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]'`;
const BAD = 'xlsx_row_bad';
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
 * A text cell of `x` (VARCHAR). `bad`: the row's flag (BAD) that some text of it holds a character
 * XML forbids, or null where none can (numbers and times as text): one regular expression a row
 * instead of one a cell, which cost a third of the rows' time; the cells of a flagged row are tested one by one.
 */
function textCell(x: string, bad: string | null): string {
  return `CASE WHEN ${x} IS NULL OR ${x} = '' THEN '<c/>'
    WHEN strlen(${x}) > 32767 OR contains(${x}, '_x')${bad ? ` OR (${bad} AND regexp_matches(${x}, ${FORBIDDEN}))` : ''} THEN concat(chr(1), regexp_replace(${x}, ${FORBIDDEN}, '', 'g'), chr(2))
    ELSE concat('<c t="inlineStr"><is><t', CASE WHEN list_contains(${SPACE_CODES}, ascii(${x})) OR ${endsWithSpace(x)} THEN ' xml:space="preserve"' ELSE '' END, '>',
      CASE WHEN list_contains(${FORMULA_CODES}, ascii(${x})) THEN '''' ELSE '' END, ${escape(x)}, '</t></is></c>') END`;
}

/** The cell of column `c` of type `t`. */
function cell(c: string, t: XlsxColumnType): string {
  switch (t) {
    case 'number':
      return `CASE WHEN ${c} IS NULL THEN '<c/>' WHEN isfinite(${c}::DOUBLE) THEN concat('<c><v>', ${c}::VARCHAR, '</v></c>') ELSE ${textCell(`${c}::VARCHAR`, null)} END`;
    case 'boolean':
      return `CASE WHEN ${c} IS NULL THEN '<c/>' WHEN ${c} THEN '<c t="b"><v>1</v></c>' ELSE '<c t="b"><v>0</v></c>' END`;
    case 'date': {
      // The serial as text from integers: whole days, then 11 decimals of the day rounded half up
      // (DuckDB's double-to-text conversion costs microseconds a value; this is exact to 1 µs).
      const ms = `(epoch_ms(${c}) + ${25_569 * 86_400_000})`;
      const frac = `lpad(((${ms} % 86400000 * 100000000000 + 43200000) // 86400000)::VARCHAR, 11, '0')`;
      return `CASE WHEN ${c} IS NULL THEN '<c/>' WHEN ${ms} >= ${61 * 86_400_000} AND ${ms} < ${2_958_466 * 86_400_000}
        THEN concat('<c s="${STYLE_DATE}"><v>', (${ms} // 86400000)::VARCHAR, '.', ${frac}, '</v></c>')
        ELSE ${textCell(`strftime(${c}, '%Y-%m-%dT%H:%M:%S.%gZ')`, null)} END`;
    }
    default:
      return textCell(`${c}::VARCHAR`, BAD);
  }
}

/**
 * Wraps `inner` (a SELECT whose columns are `c0`, `c1`, … in output order: times as TIMESTAMP, text
 * as VARCHAR) into a SELECT of one column `x`, the row's XML.
 */
export function xlsxRowsSql(inner: string, types: readonly XlsxColumnType[]): string {
  // One concat() of every piece: chained || would copy the growing row once per cell.
  const text = types.flatMap((t, i) => (t === 'string' ? [`c${i}::VARCHAR`] : []));
  const flagged = text.length ? `SELECT *, regexp_matches(concat(${text.join(', ')}), ${FORBIDDEN}) AS ${BAD} FROM (${inner}) t` : inner;
  return `SELECT concat('<row>', ${types.map((t, i) => cell(`c${i}`, t)).join(', ')}, '</row>') AS x FROM (${flagged}) t`;
}
