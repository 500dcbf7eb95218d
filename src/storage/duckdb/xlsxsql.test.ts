// XLSX rows built by DuckDB: the plain paths (rows whose text needs no care, and rows needing only
// & < > CR escaped) give the same bytes as every text cell left to the writer (finishRow), for
// hostile text.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import type { Db } from './db.ts';
import { scratchDb } from '../../../test/helpers/scratchdb.ts';
import { finishRow } from '../../exports/formats/xlsx.ts';
import { xlsxRowKindsSql, xlsxRowsSql } from './xlsxsql.ts';

let db: Db;
scratchDb('xlsxsql', '256MB', async (opened) => {
  db = opened;
  await db.run('CREATE TABLE r (id BIGINT, a VARCHAR, b VARCHAR, n DOUBLE, c VARCHAR)');
});

const TYPES = ['number', 'string', 'string', 'number', 'string'] as const;
const INNER = 'SELECT id AS c0, a AS c1, b AS c2, n AS c3, c AS c4 FROM r';

/** Each row's XML, finished by the writer, by the plain paths and with every text cell marked. */
async function both(rows: Array<[string | null, string | null, number | null, string | null]>) {
  await db.run('DELETE FROM r');
  for (const [i, [a, b, n, c]] of rows.entries()) await db.run('INSERT INTO r VALUES (?, ?, ?, ?::DOUBLE, ?)', [i, a, b, n === null ? null : String(n), c]); // as text: an integral double would bind as BIGINT
  const read = async (marked: boolean) => (await db.all<{ x: string }>(`SELECT x FROM (${xlsxRowsSql(INNER, TYPES, marked)}) s`)).map((r) => finishRow(r.x)).sort();
  return { plain: await read(false), full: await read(true) };
}

// Characters every path treats differently: escapes, formula starts, edge whitespace, forbidden
// characters, OOXML's _x escape, the row separator (DEL), text outside the BMP.
const ALPHABET = ['a', 'Z', '1', '&', '<', '>', '\r', '\n', '\t', ' ', '=', '+', '-', '@', '_', 'x', '\x7f', '\x01', '\x0b', '\uFFFE', 'é', '😀', "'", '"'];
const text = fc.oneof(
  fc.constant(null),
  fc.constant(''),
  fc.array(fc.constantFrom(...ALPHABET), { maxLength: 12 }).map((a) => a.join('')),
  fc.constantFrom('https://example.com/p?a=1&b=2', 'plain words', 'Mozilla/5.0 (X11; Linux x86_64)', 'x'.repeat(40_000)),
);

it('plain, escaped-only and marked rows: the same XML as every text cell finished by the writer (property)', async () => {
  await fc.assert(fc.asyncProperty(fc.array(fc.tuple(text, text, fc.oneof(fc.constant(null), fc.double()), text), { minLength: 1, maxLength: 30 }), async (rows) => {
    const { plain, full } = await both(rows);
    assert.deepEqual(plain, full);
  }), { numRuns: 60 });
});

it('each path is taken and right: a plain row, one with a query string, one with a formula start', async () => {
  const { plain, full } = await both([
    ['plain', 'words', 1.5, null],
    ['https://e.com/?a=1&b=<2>', 'x', 2, ''],
    ['=SUM(A1)', ' lead', 3, 'trail\t'],
    ['a\x7fb', '_x0041_', Number.NaN, 'ok'],
  ]);
  assert.deepEqual(plain, full);
  // The rows went the three ways (the comparison above alone would pass with every row careful).
  assert.deepEqual((await db.all<{ kind: string }>(`SELECT kind FROM (${xlsxRowKindsSql(`${INNER} ORDER BY id`, TYPES)}) s`)).map((r) => r.kind), ['plain', 'escape', 'careful', 'careful']);
  const byId = new Map(plain.map((x) => [/^<row><c><v>(\d+)<\/v>/.exec(x)![1], x]));
  assert.equal(byId.get('0'), '<row><c><v>0</v></c><c t="inlineStr"><is><t>plain</t></is></c><c t="inlineStr"><is><t>words</t></is></c><c><v>1.5</v></c><c/></row>');
  assert.match(byId.get('1')!, /<t>https:\/\/e\.com\/\?a=1&amp;b=&lt;2&gt;<\/t>/);
  assert.match(byId.get('2')!, /<t>'=SUM\(A1\)<\/t>.*<t xml:space="preserve"> lead<\/t>.*<t xml:space="preserve">trail\t<\/t>/);
  assert.match(byId.get('3')!, /<t>a\x7fb<\/t>.*<t>_x005F_x0041_<\/t>.*<t>nan<\/t>.*<t>ok<\/t>/, 'OOXML\'s escape escaped, NaN as text');
  // Unfinished, a careful row holds the cells that need care as \x01 text \x02 (without what XML
  // forbids), and the others wrapped.
  const raw = (await db.all<{ x: string }>(`SELECT x FROM (${xlsxRowsSql(`${INNER} ORDER BY id`, TYPES)}) s`)).map((r) => r.x);
  assert.equal(raw[3], '<row><c><v>3</v></c><c t="inlineStr"><is><t>a\x7fb</t></is></c>\x01_x0041_\x02\x01nan\x02<c t="inlineStr"><is><t>ok</t></is></c></row>');
  assert.equal(raw[2], '<row><c><v>2</v></c>\x01=SUM(A1)\x02\x01 lead\x02<c><v>3.0</v></c>\x01trail\t\x02</row>');
});
