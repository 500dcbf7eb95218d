/**
 * XLSX rows built by DuckDB: one `<row>…</row>` string a row, so a single VARCHAR crosses into
 * JavaScript instead of every cell (converting DuckDB values to JS costs ~20–30 µs a wide row, the
 * limit of the old path). The cells follow formats/xlsx.ts:
 *   number  finite → `<c><v>n</v></c>`; NaN/±inf → text
 *   boolean `<c t="b"><v>1|0</v></c>`
 *   date    a serial in the 1900 system with the date style; times Excel cannot show → ISO text
 *   string  an inline string
 * An empty value is an empty `<c/>` (rows and cells carry no `r`: they follow on in order).
 *
 * Most rows' text needs no care: no character XML forbids, no `_x` (OOXML's `_xHHHH_` escape), no
 * cell starting with whitespace or a formula character or ending with whitespace, no & < > or CR,
 * and less than 32,767 bytes in all. One regular expression over the row's text (its cells joined by
 * DEL, a character XML allows, so that a cell's start and end are seen; DEL in a value only sends its
 * row the careful way) finds them, instead of a dozen tests a cell: their text cells are wrapped as
 * they are. Rows needing only & < > CR escaped (URLs with queries) get the escapes. In the other
 * rows, one regular expression a cell finds the cells that need care, and those, and text from
 * numbers and times, are left to the writer: \x01 + the text without the characters XML forbids +
 * \x02, finished by XlsxWriter (finishRow) like any text cell of its own (~9 µs a row whose every
 * cell is marked). Finishing them here too (a dozen tests a cell, written out for every text
 * column) made the statement three times longer, and DuckDB took ~100 ms more to bind and plan it
 * (bench/README.md), once a slice.
 */
import { STYLE_DATE } from '../../exports/formats/xlsx-xml.ts';
import type { XlsxColumnType } from '../../exports/formats/xlsx.ts';

// The characters XML 1.0 forbids: C0 controls but TAB, LF, CR; U+FFFE, U+FFFF. (A constant regular
// expression is compiled once; translate() with this many characters costs ten times more a cell.)
const FORBIDDEN_CHARS = String.raw`[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]`;
// Escaping only when needed: four contains() cost less than four replace() on every cell.
const escape = (x: string) =>
  `CASE WHEN contains(${x}, '&') OR contains(${x}, '<') OR contains(${x}, '>') OR contains(${x}, chr(13))
    THEN replace(replace(replace(replace(${x}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), chr(13), '&#13;') ELSE ${x} END`;

/** Text for the writer to finish: `x` marked, without the characters XML forbids if `forbidden`. */
const marked = (x: string, forbidden: boolean) => `concat(chr(1), ${forbidden ? `regexp_replace(${x}, '${FORBIDDEN_CHARS}', '', 'g')` : x}, chr(2))`;
/**
 * A text cell of `x` (VARCHAR), empty or else: `plain` wrapped as it is; `escape` wrapped, & < > CR
 * escaped; `careful` marked if it needs care (CAREFUL_CELL, over 32,767 bytes), else as `escape`;
 * `marked` marked.
 */
const textCell = (x: string, way: Way) => {
  const wrapped = (esc: boolean) => `concat('<c t="inlineStr"><is><t>', ${esc ? escape(x) : x}, '</t></is></c>')`;
  const cell = way === 'plain' ? wrapped(false) : way === 'escape' ? wrapped(true) : way === 'marked' ? marked(x, true)
    : `CASE WHEN strlen(${x}) > 32767 OR regexp_matches(${x}, '${CAREFUL_CELL}') THEN ${marked(x, true)} ELSE ${wrapped(true)} END`;
  return `CASE WHEN ${x} IS NULL OR ${x} = '' THEN '<c/>' ELSE ${cell} END`;
};
type Way = 'plain' | 'escape' | 'careful' | 'marked';

/** The cell of column `c` of a type other than text. */
function cell(c: string, t: Exclude<XlsxColumnType, 'string'>): string {
  switch (t) {
    case 'number':
      return `CASE WHEN ${c} IS NULL THEN '<c/>' WHEN isfinite(${c}::DOUBLE) THEN concat('<c><v>', ${c}::VARCHAR, '</v></c>') ELSE ${marked(`${c}::VARCHAR`, false)} END`;
    case 'boolean':
      return `CASE WHEN ${c} IS NULL THEN '<c/>' WHEN ${c} THEN '<c t="b"><v>1</v></c>' ELSE '<c t="b"><v>0</v></c>' END`;
    case 'date': {
      // The serial as text from integers: whole days, then 11 decimals of the day rounded half up
      // (DuckDB's double-to-text conversion costs microseconds a value; this is exact to 1 µs).
      const ms = `(epoch_ms(${c}) + ${25_569 * 86_400_000})`;
      const frac = `lpad(((${ms} % 86400000 * 100000000000 + 43200000) // 86400000)::VARCHAR, 11, '0')`;
      return `CASE WHEN ${c} IS NULL THEN '<c/>' WHEN ${ms} >= ${61 * 86_400_000} AND ${ms} < ${2_958_466 * 86_400_000}
        THEN concat('<c s="${STYLE_DATE}"><v>', (${ms} // 86400000)::VARCHAR, '.', ${frac}, '</v></c>')
        ELSE ${marked(`strftime(${c}, '%Y-%m-%dT%H:%M:%S.%gZ')`, false)} END`;
    }
  }
}

// What needs care in a cell, and in a row's text (cells joined by DEL).
const CAREFUL_CELL = FORBIDDEN_CHARS + String.raw`|_x|^[ \t\n\r=+\-@]|[ \t\n\r]$`;
const CAREFUL = FORBIDDEN_CHARS + String.raw`|_x|(^|\x7F)[ \t\n\r=+\-@]|[ \t\n\r](\x7F|$)`;
const ALL = 'xlsx_row_text';
// Whether the row may skip the careful way (computed once a row, in withCells): one regular
// expression over its text (RE2 reads ~340 MB/s here, whatever the pattern: ~1 s for a million rows
// of ~330 bytes). Whether it needs & < > CR escaped: four contains() (memchr: ~0.1 s), not a second
// pass of the expression over the rows that have them (URLs with a query).
const SAFE = 'xlsx_row_safe';
const ESCAPES = 'xlsx_row_escapes';
const PLAIN = `${SAFE} AND NOT ${ESCAPES}`;
const ESCAPE_ONLY = SAFE;

/**
 * `inner` with the cells of its columns that are not text (`x0`, …: computed once, whichever way
 * the row goes) and its row's text joined by DEL (ALL, what PLAIN and ESCAPE_ONLY test).
 */
function withCells(inner: string, types: readonly XlsxColumnType[]): string {
  const cells = types.flatMap((t, i) => (t === 'string' ? [] : [`${cell(`c${i}`, t)} AS x${i}`]));
  const text = types.flatMap((t, i) => (t === 'string' ? [`c${i}::VARCHAR`] : []));
  if (!text.length) return `SELECT *, ${cells.join(', ')} FROM (${inner}) t`;
  cells.push(`concat(${text.join(', chr(127), ')}) AS ${ALL}`);
  const checks = [`strlen(${ALL}) <= 32767 AND NOT regexp_matches(${ALL}, '${CAREFUL}') AS ${SAFE}`,
    `(contains(${ALL}, '&') OR contains(${ALL}, '<') OR contains(${ALL}, '>') OR contains(${ALL}, chr(13))) AS ${ESCAPES}`];
  return `SELECT *, ${checks.join(', ')} FROM (SELECT *, ${cells.join(', ')} FROM (${inner}) t) t`;
}

/**
 * Wraps `inner` (a SELECT whose columns are `c0`, `c1`, … in output order: times as TIMESTAMP, text
 * as VARCHAR) into a SELECT of one column `x`, the row's XML. `allMarked`: every text cell left to
 * the writer (the tests' reference for the plain paths). `end`: an SQL expression appended to every
 * row in the same concat() (xlsxRowsCopy's row end).
 */
export function xlsxRowsSql(inner: string, types: readonly XlsxColumnType[], allMarked = false, end = ''): string {
  // One concat() of every piece: chained || would copy the growing row once per cell.
  const row = (way: Way) => `concat('<row>', ${types.map((t, i) => (t === 'string' ? textCell(`c${i}::VARCHAR`, way) : `x${i}`)).join(', ')}, '</row>'${end ? `, ${end}` : ''})`;
  const src = withCells(inner, types);
  if (allMarked || !types.includes('string')) return `SELECT ${row('marked')} AS x FROM (${src}) t`;
  return `SELECT CASE WHEN ${PLAIN} THEN ${row('plain')} WHEN ${ESCAPE_ONLY} THEN ${row('escape')} ELSE ${row('careful')} END AS x FROM (${src}) t`;
}

/** Which way xlsxRowsSql takes each row of `inner` (`kind`: plain, escape, careful), for the tests. */
export function xlsxRowKindsSql(inner: string, types: readonly XlsxColumnType[]): string {
  return `SELECT CASE WHEN ${PLAIN} THEN 'plain' WHEN ${ESCAPE_ONLY} THEN 'escape' ELSE 'careful' END AS kind FROM (${withCells(inner, types)}) t`;
}
