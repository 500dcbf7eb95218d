// SpreadsheetML pieces for the streaming XLSX writer (xlsx.ts): text cleaning and escaping, date
// serials, and the small fixed parts of the package (workbook, rels, content types, styles).
import { neutralizeFormula } from './neutralize.ts';

/** Excel's limits: characters in a cell (UTF-16 code units), rows and columns in a sheet. */
export const MAX_CELL_CHARS = 32_767;
export const MAX_ROWS = 1_048_576;
export const MAX_COLS = 16_384;

/** Style ids of styles.xml's cellXfs: 0 normal, 1 bold (header), 2 date-time. */
export const STYLE_HEADER = 1;
export const STYLE_DATE = 2;

// Characters XML 1.0 forbids: C0 controls other than TAB/LF/CR, lone surrogates, U+FFFE, U+FFFF.
const ILLEGAL_G =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// Quick test: any character that might be illegal (surrogates included, so emoji take the slow path).
const MAYBE_ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

/** Drops the characters XML 1.0 cannot hold; keeps everything else (emoji included). */
export function dropIllegalXmlChars(s: string): string {
  return MAYBE_ILLEGAL.test(s) ? s.replace(ILLEGAL_G, '') : s;
}

/**
 * The text a cell will hold: illegal characters dropped, formula neutralized (`'` prefix), then cut
 * to 32,767 UTF-16 code units (never inside a surrogate pair). The order matters: "\u0001=1" must
 * become "'=1", not "=1".
 */
export function cellText(s: string): string {
  s = neutralizeFormula(dropIllegalXmlChars(s));
  if (s.length > MAX_CELL_CHARS) {
    let n = MAX_CELL_CHARS;
    const c = s.charCodeAt(n - 1);
    if (c >= 0xd800 && c <= 0xdbff) n--;
    s = s.slice(0, n);
  }
  return s;
}

// In text content: & < > must be escaped; CR must be a character reference or the XML parser turns
// it into LF; and `_xHHHH_` is itself an escape in OOXML strings (Excel reads "_x0041_" as "A"), so an
// underscore that starts one is written as `_x005F_` — Excel and LibreOffice then show the original.
const XML_SPECIAL = /[&<>\r]|_(?=x[0-9A-Fa-f]{4}_)/;
const XML_SPECIAL_G = /[&<>\r]|_(?=x[0-9A-Fa-f]{4}_)/g;
const XML_ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;', _: '_x005F_' };
const entity = (ch: string): string => XML_ENTITY[ch]!;

/** Escapes cleaned text for an element's content. */
export function xmlText(s: string): string {
  return XML_SPECIAL.test(s) ? s.replace(XML_SPECIAL_G, entity) : s;
}

// Anything cellText or xmlText might change, bar the formula prefix.
const NEEDS_WORK = /[\u0000-\u0008\u000B\u000C\u000E-\u001F&<>\r_\uD800-\uDFFF\uFFFE\uFFFF]/;

/** A cell's text, cleaned (cellText) and escaped (xmlText), with a fast path for plain text. */
export function cellXml(s: string): string {
  // Shorter than the limit: a formula prefix keeps it within it.
  if (s.length < MAX_CELL_CHARS && !NEEDS_WORK.test(s)) return neutralizeFormula(s);
  return xmlText(cellText(s));
}

/** Escapes text for a double-quoted attribute value. */
export function xmlAttr(s: string): string {
  return dropIllegalXmlChars(s).replace(/[&<>"\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Column letters: 0 → A, 25 → Z, 26 → AA. */
export function columnName(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

// ISO-8601 date or date-time; a time without a zone is taken as UTC.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** Milliseconds since the epoch of a Date, an epoch-ms number or an ISO-8601 string; NaN otherwise. */
export function dateMs(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return NaN;
  const m = ISO_DATE.exec(v);
  if (!m) return NaN;
  if (v.length === 10 || m[1]) return Date.parse(v.replace(' ', 'T'));
  return Date.parse(v.replace(' ', 'T') + 'Z');
}

/**
 * Excel serial (1900 date system, days since 1899-12-30, UTC) of an epoch-ms time, or NaN when Excel
 * cannot show it as a date: before 1900-03-01 (Excel's phantom 1900-02-29) or after 9999-12-31.
 */
export function excelSerial(ms: number): number {
  const serial = ms / 86_400_000 + 25_569;
  return serial >= 61 && serial < 2_958_466 ? serial : NaN;
}

/** Sheet names: at most 31 characters, none of []:*?/\, no leading or trailing apostrophe. */
export function sheetName(base: string | undefined, n: number): string {
  if (base === undefined) return `Sheet${n}`;
  const suffix = n === 1 ? '' : ` (${n})`;
  let name = dropIllegalXmlChars(base).replace(/[[\]:*?/\\]/g, '_').replace(/^'+|'+$/g, '');
  name = name.slice(0, 31 - suffix.length);
  if (name.length && /[\uD800-\uDBFF]/.test(name[name.length - 1]!)) name = name.slice(0, -1);
  return (name || 'Sheet') + suffix;
}

const XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const NS_MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const NS_REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const NS_PKG_REL = 'http://schemas.openxmlformats.org/package/2006/relationships';
const CT = 'application/vnd.openxmlformats-officedocument.spreadsheetml';

/** Start of a worksheet, with the header row frozen. */
export const SHEET_START =
  `${XML_DECL}<worksheet xmlns="${NS_MAIN}" xmlns:r="${NS_REL}"><sheetViews><sheetView workbookViewId="0">` +
  '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>' +
  '<sheetFormatPr defaultRowHeight="15"/><sheetData>';
export const SHEET_END = '</sheetData></worksheet>';

/** The package parts other than the sheets, by path, for `names.length` sheets. */
export function packageParts(names: string[]): Array<[path: string, xml: string]> {
  const sheets = names.map((_, i) => i + 1);
  return [
    [
      '[Content_Types].xml',
      `${XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        `<Override PartName="/xl/workbook.xml" ContentType="${CT}.sheet.main+xml"/>` +
        `<Override PartName="/xl/styles.xml" ContentType="${CT}.styles+xml"/>` +
        sheets.map((i) => `<Override PartName="/xl/worksheets/sheet${i}.xml" ContentType="${CT}.worksheet+xml"/>`).join('') +
        '</Types>',
    ],
    [
      '_rels/.rels',
      `${XML_DECL}<Relationships xmlns="${NS_PKG_REL}"><Relationship Id="rId1" ` +
        `Type="${NS_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    ],
    [
      'xl/workbook.xml',
      `${XML_DECL}<workbook xmlns="${NS_MAIN}" xmlns:r="${NS_REL}"><bookViews><workbookView/></bookViews><sheets>` +
        names.map((n, i) => `<sheet name="${xmlAttr(n)}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`).join('') +
        '</sheets></workbook>',
    ],
    [
      'xl/_rels/workbook.xml.rels',
      `${XML_DECL}<Relationships xmlns="${NS_PKG_REL}">` +
        sheets.map((i) => `<Relationship Id="rId${i}" Type="${NS_REL}/worksheet" Target="worksheets/sheet${i}.xml"/>`).join('') +
        `<Relationship Id="rId${names.length + 1}" Type="${NS_REL}/styles" Target="styles.xml"/></Relationships>`,
    ],
    [
      'xl/styles.xml',
      `${XML_DECL}<styleSheet xmlns="${NS_MAIN}">` +
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd\\ hh:mm:ss"/></numFmts>' +
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>' +
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' +
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>' +
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>' +
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>',
    ],
  ];
}
