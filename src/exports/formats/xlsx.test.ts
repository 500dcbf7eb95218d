// XLSX writer: files are read back with openpyxl (Debian's python3-openpyxl) and checked cell by cell.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readXlsx, type XlsxCell, type XlsxSheet } from '../../../test/helpers/files.ts';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { XlsxWriter, type XlsxColumn } from './xlsx.ts';
import { neutralizeFormula } from './neutralize.ts';

const dir = mkdtempSync(join(tmpdir(), 'reelstat-xlsx-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const tmpFile = () => join(dir, `t${++fileNo}.xlsx`);

type Cell = XlsxCell;
type Sheet = XlsxSheet;

async function write(path: string, columns: XlsxColumn[], rows: unknown[][], opts: object = {}) {
  const w = new XlsxWriter(path, { columns, ...opts });
  for (const row of rows) await w.addRow(row);
  return w.finish();
}

// What a cell should read back as, written independently of the writer's code.
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r']);
function expectedText(s: string): string | null {
  let t = '';
  for (const ch of s) { // iterates by code point: a lone surrogate comes alone
    const c = ch.codePointAt(0)!;
    const illegal = (c < 0x20 && c !== 9 && c !== 10 && c !== 13) || (c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff;
    if (!illegal) t += ch;
  }
  if (FORMULA_START.has(t[0]!)) t = "'" + t;
  if (t.length > 32767) t = t.slice(0, /[\uD800-\uDBFF]/.test(t[32766]!) ? 32766 : 32767);
  // openpyxl shows the OOXML escape Excel decodes: a literal "_x0041_" is stored as "_x005F_x0041_"
  t = t.replace(/_(?=x[0-9A-Fa-f]{4}_)/g, '_x005F_');
  return t === '' ? null : t;
}

const COLS: XlsxColumn[] = [
  { name: 's', type: 'string' }, { name: 'n', type: 'number' }, { name: 'b', type: 'boolean' }, { name: 'd', type: 'date' },
];
const iso = (ms: number) => ({ date: new Date(ms).toISOString().slice(0, 23) });

test('neutralizeFormula prefixes = + - @ TAB CR and nothing else', () => {
  for (const s of ['=1+1', '+1', '-5', '@SUM(A1)', '\tx', '\rx']) assert.equal(neutralizeFormula(s), "'" + s);
  for (const s of ['', 'a=1', ' =1', "'=1", '5', '\nx', '😀']) assert.equal(neutralizeFormula(s), s);
});

test('hostile strings, numbers, booleans, dates and nulls read back as written', async () => {
  const long = 'x'.repeat(40_000);
  const strings = [
    'say "hi" & <b>it\'s</b> ]]>', 'line1\r\nline2\rline3\n', '😀 emoji 🎬 ok', 'lone \uD800 high', 'lone \uDC00 low',
    '\u0000ctl\u0001\u0008\u000B\u000C\u001F\uFFFE\uFFFF!', long, 'a'.repeat(32766) + '😀', '=1+1', '-5', '+1', '@SUM(A1)',
    '\tTab', '\rCR', '\u0001=1', '  padded  ', '\n', '_x0041_ and _x0041_x0042_', '', 'plain',
    '=' + 'b'.repeat(32_766), // 32,767 characters before its formula prefix, 32,767 after it (cut)
  ];
  const rows: unknown[][] = strings.map((s) => [s]);
  const expected: Cell[][] = strings.map((s) => [expectedText(s), null, null, null]);
  const D = Date.UTC(2024, 1, 29, 23, 59, 59, 999);
  const more: Array<[unknown[], Cell[]]> = [
    [[-5, -5, true, new Date(D)], ["'-5", -5, true, iso(D)]],
    [['x', 0, false, '2024-03-01'], ['x', 0, false, iso(Date.UTC(2024, 2, 1))]],
    [[null, 3.14159, 'yes', '2024-03-01T10:00:00+02:00'], [null, 3.14159, 'yes', iso(Date.UTC(2024, 2, 1, 8))]],
    [[undefined, 1e21, null, '2024-03-01 10:00:00.123'], [null, 1e21, null, iso(Date.UTC(2024, 2, 1, 10, 0, 0, 123))]],
    [[null, -1.5e-7, undefined, 0], [null, -1.5e-7, null, iso(0)]],
    [[null, 42n, null, new Date('1800-01-01T00:00:00Z')], [null, 42, null, '1800-01-01T00:00:00.000Z']],
    [[null, NaN, null, new Date(NaN)], [null, 'NaN', null, null]],
    [[null, Infinity, null, 'not a date'], [null, 'Infinity', null, 'not a date']],
    [[null, -Infinity, null, '-1'], [null, "'-Infinity", null, "'-1"]],
    [[{ a: [1, 'x'], big: 2n }, '7', 1, null], ['{"a":[1,"x"],"big":"2"}', '7', '1', null]],
    [[new Date(D), null, null, null], [new Date(D).toISOString(), null, null, null]],
    [['only the first'], ['only the first', null, null, null]],
    [[null, null, null, null, 'extra ignored'], [null, null, null, null]],
    [[null, null, true], [null, null, true, null]],
  ];
  for (const [row, exp] of more) { rows.push(row); expected.push(exp); }

  const path = tmpFile();
  const result = await write(path, COLS, rows);
  assert.deepEqual(result, { rows: rows.length, sheets: 1, bytes: statSync(path).size });
  const [sheet, ...others] = readXlsx(path);
  assert.equal(others.length, 0);
  assert.equal(sheet!.title, 'Sheet1');
  assert.deepEqual(sheet!.rows[0], ['s', 'n', 'b', 'd']);
  const got = sheet!.rows.slice(1);
  assert.equal(got.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.deepEqual(got[i], expected[i], `row ${i + 1}`);
  assert.equal((got[6]![0] as string).length, 32767); // 40,000 characters cut to Excel's limit
  assert.equal(got[7]![0], 'a'.repeat(32766)); // never half an emoji
  for (const row of got) for (const c of row) if (typeof c === 'string') assert.ok(!FORMULA_START.has(c[0]!), c.slice(0, 20));
});

test('a sheet that is full continues on a new one with the header repeated', async () => {
  const cols: XlsxColumn[] = [{ name: 'i', type: 'number' }, { name: '=name', type: 'string' }];
  const rows = Array.from({ length: 12 }, (_, i) => [i, `r${i}`]);
  const path = tmpFile();
  assert.deepEqual(await write(path, cols, rows, { maxRowsPerSheet: 5 }), { rows: 12, sheets: 3, bytes: statSync(path).size });
  const sheets = readXlsx(path);
  assert.deepEqual(sheets.map((s) => s.title), ['Sheet1', 'Sheet2', 'Sheet3']);
  for (const [k, s] of sheets.entries()) {
    assert.deepEqual(s.rows, [["i", "'=name"], ...rows.slice(k * 4, k * 4 + 4)]);
  }
  // exactly full: no empty extra sheet; custom names are cleaned and numbered
  const path2 = tmpFile();
  assert.equal((await write(path2, cols, rows.slice(0, 8), { maxRowsPerSheet: 5, sheetName: 'Views/2024: [all]' })).sheets, 2);
  assert.deepEqual(readXlsx(path2).map((s) => s.title), ['Views_2024_ _all_', 'Views_2024_ _all_ (2)']);
  // no rows at all: one sheet holding the header
  const path3 = tmpFile();
  assert.deepEqual((await write(path3, cols, [])).sheets, 1);
  assert.deepEqual(readXlsx(path3), [{ title: 'Sheet1', rows: [['i', "'=name"]] }]);
});

test('the package passes unzip -t and writes to any Writable', async () => {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const w = new XlsxWriter(out, { columns: COLS, maxRowsPerSheet: 100 });
  for (let i = 0; i < 250; i++) await w.addRow([`row ${i}`, i, i % 2 === 0, new Date(Date.UTC(2024, 0, 1) + i * 60_000)]);
  const result = await w.finish();
  const path = tmpFile();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path, Buffer.concat(chunks));
  assert.equal(result.bytes, readFileSync(path).length);
  assert.equal(result.sheets, 3);
  const t = spawnSync('unzip', ['-t', path], { encoding: 'utf8' });
  assert.equal(t.status, 0, `unzip -t (apt-get install -y unzip): ${t.stdout}${t.stderr}`);
  for (const part of ['[Content_Types].xml', '_rels/.rels', 'xl/workbook.xml', 'xl/_rels/workbook.xml.rels', 'xl/styles.xml',
    'xl/worksheets/sheet1.xml', 'xl/worksheets/sheet3.xml']) assert.match(t.stdout, new RegExp(`testing: ${part.replace(/[[\].]/g, '\\$&')} +OK`));
  const sheets = readXlsx(path);
  assert.deepEqual(sheets.map((s) => s.rows.length), [100, 100, 53]);
  assert.deepEqual(sheets[2]!.rows[52], ['row 249', 249, false, iso(Date.UTC(2024, 0, 1) + 249 * 60_000)]);
});

test('output errors reject, and abort removes the partial file', async () => {
  const w = new XlsxWriter(join(dir, 'missing', 'x.xlsx'), { columns: COLS });
  await assert.rejects(async () => {
    for (let i = 0; i < 100_000; i++) await w.addRow(['x'.repeat(100), i, true, null]);
    await w.finish();
  }, /ENOENT/);
  const path = tmpFile();
  const w2 = new XlsxWriter(path, { columns: COLS });
  await w2.addRow(['a', 1, true, null]);
  await w2.abort();
  assert.equal(existsSync(path), false);
  await assert.rejects(w2.addRow(['b']), /aborted/);
  assert.throws(() => new XlsxWriter(tmpFile(), { columns: COLS, maxRowsPerSheet: 2_000_000 }), RangeError);
});

test('property: random strings, numbers, booleans and dates round-trip', async () => {
  const unit = fc.oneof(
    fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\n', '&', '<', '>', '"', "'", ' ', '_x0041_', '_x', '\u0000',
      '\u001F', '\uFFFE', '\uD800', '\uDC00', '😀', 'é', ']]>'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  );
  const row = fc.tuple(
    fc.option(fc.string({ unit, maxLength: 40 })),
    fc.option(fc.double()),
    fc.option(fc.boolean()),
    fc.option(fc.date({ noInvalidDate: false })),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 40 }), async (rows) => {
      const path = tmpFile();
      await write(path, COLS, rows);
      const got = readXlsx(path)[0]!.rows.slice(1);
      const expected = rows.map(([s, n, b, d]): Cell[] => [
        s === null ? null : expectedText(s),
        n === null ? null : Number.isFinite(n) ? (n === 0 ? 0 : n) : expectedText(String(n)),
        b,
        d === null || Number.isNaN(d.getTime()) ? null
          : d.getTime() >= Date.UTC(1900, 2, 1) && d.getTime() < Date.UTC(10000, 0, 1) ? iso(d.getTime())
            : expectedText(d.toISOString()),
      ]);
      // openpyxl drops trailing empty rows, so compare the rows it has and require the rest be empty
      for (let i = 0; i < expected.length; i++) {
        assert.deepEqual(got[i] ?? [null, null, null, null], expected[i], `row ${i + 1}`);
      }
      rmSync(path);
    }),
    { numRuns: 12 },
  );
});

test('addRowLines (rows as bytes) writes what addRowsXml writes, across sheets and marked cells', async () => {
  const columns: XlsxColumn[] = [{ name: 'text', type: 'string' }, { name: 'n', type: 'number' }];
  const rows = Array.from({ length: 23 }, (_, i) => i % 5 === 2
    ? `<row>\x01${i % 2 ? '=marked _x0041_ ' : 'long '}${'é'.repeat(i * 3)}\x02<c><v>${i}</v></c></row>` // left to the writer
    : `<row><c t="inlineStr"><is><t>row ${i} ✓</t></is></c><c><v>${i}</v></c></row>`);
  const a = tmpFile();
  const wa = new XlsxWriter(a, { columns, maxRowsPerSheet: 4 });
  await wa.addRowsXml(rows);
  const ra = await wa.finish();
  const b = tmpFile();
  const wb = new XlsxWriter(b, { columns, maxRowsPerSheet: 4 });
  // Chunks of 1, 2, 3, … whole rows, each ended by \x03 + LF.
  for (let i = 0, n = 1; i < rows.length; i += n, n++) await wb.addRowLines(Buffer.from(rows.slice(i, i + n).map((r) => `${r}\x03\n`).join('')));
  const rb = await wb.finish();
  assert.deepEqual({ rows: rb.rows, sheets: rb.sheets }, { rows: 23, sheets: 8 });
  assert.deepEqual({ rows: ra.rows, sheets: ra.sheets }, { rows: rb.rows, sheets: rb.sheets });
  const sb = readXlsx(b);
  assert.deepEqual(sb, readXlsx(a));
  assert.deepEqual(sb[0]!.rows, [['text', 'n'], ['row 0 ✓', 0], ['row 1 ✓', 1], ['long ' + 'é'.repeat(6), 2]]);
  assert.equal(sb[1]!.rows[1]![0], 'row 3 ✓');
  await assert.rejects(new XlsxWriter(tmpFile(), { columns }).addRowLines(Buffer.from('<row></row>')), /partial row/);
});

test('a fixed mtime gives the same bytes whatever the host\'s time zone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xlsx-tz-'));
  const zone = process.env.TZ;
  try {
    const sums: string[] = [];
    for (const tz of ['UTC', 'America/New_York', 'Asia/Tokyo']) {
      process.env.TZ = tz; // Node reads it again when it changes
      const path = join(dir, `${tz.replace('/', '-')}.xlsx`);
      const w = new XlsxWriter(path, { columns: [{ name: 'id', type: 'number' }], mtime: Date.UTC(2026, 10, 30) });
      await w.addRow([1]);
      await w.finish();
      sums.push(readFileSync(path).toString('base64'));
    }
    assert.equal(new Set(sums).size, 1);
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
    rmSync(dir, { recursive: true, force: true });
  }
});
