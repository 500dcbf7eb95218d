import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonArrayFromLines } from './jsonarray.ts';

const convert = (chunks: (string | Buffer)[]) => {
  const c = new JsonArrayFromLines();
  return Buffer.concat([...chunks.flatMap((s) => c.push(Buffer.from(s))), ...c.end()]).toString();
};

test('JSON Lines become the array DuckDB writes, wherever the chunks cut the rows', () => {
  const lines = '{"a":1,"s":"x\\ny"}\n{"a":2}\n{"a":3,"s":"é🎬"}\n';
  const want = '[\n\t{"a":1,"s":"x\\ny"},\n\t{"a":2},\n\t{"a":3,"s":"é🎬"}\n]\n';
  assert.equal(convert([lines]), want);
  const bytes = Buffer.from(lines);
  for (let cut = 0; cut <= bytes.length; cut++) assert.equal(convert([bytes.subarray(0, cut), bytes.subarray(cut)]), want, `cut at byte ${cut}`);
  assert.equal(convert([...bytes].map((b) => Buffer.from([b]))), want);
  assert.deepEqual(JSON.parse(want), [{ a: 1, s: 'x\ny' }, { a: 2 }, { a: 3, s: 'é🎬' }]);
});

test('no rows make the empty array DuckDB writes', () => {
  assert.equal(convert([]), '[\n\t\n]\n');
  assert.equal(convert(['']), '[\n\t\n]\n');
  assert.deepEqual(JSON.parse(convert([])), []);
});
