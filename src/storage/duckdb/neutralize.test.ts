// The SQL formula neutralization (CSV and JSON built by DuckDB) gives what the writers' own
// neutralizeFormula gives, for every first character around the ones it tests.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import type { Db } from './db.ts';
import { scratchDb } from '../../../test/helpers/scratchdb.ts';
import { neutralizeSql } from './neutralize.ts';
import { neutralizeFormula } from '../../exports/formats/neutralize.ts';

let db: Db;
scratchDb('neutralize', '256MB', async (opened) => {
  db = opened;
  await db.run('CREATE TABLE t (i BIGINT, s VARCHAR)');
});

async function viaSql(values: Array<string | null>): Promise<Array<string | null>> {
  await db.run('DELETE FROM t');
  for (const [i, s] of values.entries()) await db.run('INSERT INTO t VALUES (?, ?)', [i, s]);
  return (await db.all<{ s: string | null }>(`SELECT ${neutralizeSql('s')} AS s FROM t ORDER BY i`)).map((r) => r.s);
}

it('every ASCII first character, and text just around the cheap pre-test (< A)', async () => {
  const values: Array<string | null> = [null, ''];
  for (let c = 1; c < 128; c++) values.push(String.fromCharCode(c), String.fromCharCode(c) + 'rest', 'A' + String.fromCharCode(c));
  values.push('@', '@A', 'A', 'AAAAAAAAAAAAAAAAAAAA', '=SUM(A1)', '-5', '+1', '\t\t', '\r\n', 'é=', '😀=', '\u00a0=', '0=1');
  const got = await viaSql(values);
  const want = values.map((v) => (v === null ? null : neutralizeFormula(v)));
  assert.deepEqual(got, want);
  assert.equal(got[values.indexOf('=SUM(A1)')], "'=SUM(A1)");
  assert.equal(got[values.indexOf('0=1')], '0=1');
});

it('property: matches neutralizeFormula for text around the formula starts', async () => {
  const ALPHABET = ['=', '+', '-', '@', '\t', '\r', '\n', ' ', '0', '?', '>', 'A', 'a', '\x01', 'é', '😀', "'", '"'];
  const text = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 6 }).map((a) => a.join(''));
  await fc.assert(fc.asyncProperty(fc.array(text, { minLength: 1, maxLength: 40 }), async (values) => {
    assert.deepEqual(await viaSql(values), values.map(neutralizeFormula));
  }), { numRuns: 60 });
});
