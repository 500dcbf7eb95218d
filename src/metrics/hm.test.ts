import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_SECOND, decodeHm, encodeHm, mergeHeatmap, normalizeRuns, perSecondCounts, secondCounts, totalSeconds,
  uniqueSeconds, type HmRun, type Segment,
} from './hm.ts';

/** Reference: the spec's rule, one second at a time (small inputs only). */
function naiveCounts(segments: Segment[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const s of segments) {
    for (let k = Math.round(s.from); k < Math.round(s.to); k++) m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

function expand(runs: HmRun[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of runs) for (let k = r.start; k <= r.end; k++) m.set(k, r.count);
  return m;
}

const sortedMap = (m: Map<number, number>) => [...m].filter(([, c]) => c > 0).sort((a, b) => a[0] - b[0]);

const segmentArb = fc
  .tuple(fc.double({ min: 0, max: 60, noNaN: true }), fc.double({ min: 0, max: 60, noNaN: true }))
  .map(([a, b]): Segment => ({ from: Math.min(a, b), to: Math.max(a, b) }));
const segmentsArb = fc.array(segmentArb, { maxLength: 12 });

test('hm example from the Cincopa document: 10-20:2,21-30,31:3', () => {
  const runs = secondCounts([
    { from: 10, to: 21 },
    { from: 10, to: 31 },
    { from: 31, to: 32 },
    { from: 31, to: 32 },
    { from: 31, to: 32 },
  ]);
  assert.deepEqual(runs, [
    { start: 10, end: 20, count: 2 },
    { start: 21, end: 30, count: 1 },
    { start: 31, end: 31, count: 3 },
  ]);
  assert.equal(encodeHm(runs), '10-20:2,21-30,31:3');
  assert.equal(uniqueSeconds(runs), 22);
  assert.equal(totalSeconds(runs), 35);
  assert.equal(uniqueSeconds(runs) / 40, 0.55);
  assert.deepEqual(decodeHm('10-20:2,21-30,31:3'), runs);
});

test('round half up: 0.5 → 1, 2.49 → 2, 2.5 → 3', () => {
  assert.deepEqual(secondCounts([{ from: 0.5, to: 2.49 }]), [{ start: 1, end: 1, count: 1 }]);
  assert.deepEqual(secondCounts([{ from: 0.49, to: 2.5 }]), [{ start: 0, end: 2, count: 1 }]);
  assert.deepEqual(secondCounts([{ from: 0.4, to: 0.5 }]), [{ start: 0, end: 0, count: 1 }]);
  assert.deepEqual(secondCounts([{ from: 1.2, to: 1.4 }]), []);
});

test('nothing watched encodes as the empty string', () => {
  assert.deepEqual(secondCounts([]), []);
  assert.equal(encodeHm([]), '');
  assert.deepEqual(decodeHm(''), []);
});

test('a huge segment costs two boundaries, not a billion seconds', () => {
  const runs = secondCounts([{ from: 0, to: 1e9 }, { from: 5, to: 7 }]);
  assert.deepEqual(runs, [
    { start: 0, end: 4, count: 1 },
    { start: 5, end: 6, count: 2 },
    { start: 7, end: 999_999_999, count: 1 },
  ]);
  assert.equal(uniqueSeconds(runs), 1e9);
  const forged = secondCounts([{ from: 0, to: 1e300 }]);
  assert.deepEqual(forged, [{ start: 0, end: MAX_SECOND - 1, count: 1 }]);
  assert.deepEqual(decodeHm(encodeHm(forged)), forged);
  assert.deepEqual(perSecondCounts(runs, 8), [1, 1, 1, 1, 1, 2, 2, 1]);
  assert.throws(() => perSecondCounts(runs, 1e9), RangeError);
});

test('secondCounts refuses a malformed segment', () => {
  for (const s of [{ from: 3, to: 2 }, { from: -1, to: 2 }, { from: NaN, to: 2 }, { from: 0, to: Infinity }]) {
    assert.throws(() => secondCounts([s]), RangeError);
  }
});

test('decodeHm rejects malformed strings', () => {
  for (const s of [',', '1,', ' 1', '1 ', 'a', '1-', '-1', '01', '1-02', '1:0', '1:', '1:01', '5-3', '3,2', '1-5,5', '1-5,3-8', '1:2:3', '1-2-3', '1.5', '99999999999999999999']) {
    assert.throws(() => decodeHm(s), SyntaxError, s);
  }
});

test('decodeHm accepts :1 and touching runs, returning canonical runs', () => {
  assert.deepEqual(decodeHm('1-3:1,4-5,7:2,8:2'), [
    { start: 1, end: 5, count: 1 },
    { start: 7, end: 8, count: 2 },
  ]);
  assert.equal(encodeHm(decodeHm('1-3:1,4-5,7:2,8:2')), '1-5,7-8:2');
});

test('encodeHm canonicalizes and refuses overlapping or invalid runs', () => {
  assert.equal(encodeHm([{ start: 4, end: 4, count: 1 }, { start: 1, end: 3, count: 1 }]), '1-4');
  assert.throws(() => encodeHm([{ start: 1, end: 3, count: 1 }, { start: 3, end: 4, count: 2 }]), RangeError);
  assert.throws(() => encodeHm([{ start: 1, end: 3, count: 0 }]), RangeError);
  assert.throws(() => encodeHm([{ start: 1.5, end: 3, count: 1 }]), RangeError);
});

test('mergeHeatmap: heatmap sums counts, retention counts records', () => {
  const a = decodeHm('0-4:2,5-9');
  const b = decodeHm('3-6');
  const { heatmap, retention } = mergeHeatmap([a, b, []]);
  assert.equal(encodeHm(heatmap), '0-2:2,3-4:3,5-6:2,7-9');
  assert.equal(encodeHm(retention), '0-2,3-6:2,7-9');
  assert.deepEqual(perSecondCounts(heatmap, 12), [2, 2, 2, 3, 3, 2, 2, 1, 1, 1, 0, 0]);
});

test('property: counts match the per-second rule and ignore segment order', () => {
  fc.assert(
    fc.property(segmentsArb, fc.func(fc.integer()), (segs, key) => {
      const runs = secondCounts(segs);
      assert.deepEqual(sortedMap(expand(runs)), sortedMap(naiveCounts(segs)));
      const shuffled = [...segs].sort((x, y) => key(x) - key(y));
      assert.deepEqual(secondCounts(shuffled), runs);
      assert.deepEqual(normalizeRuns(runs), runs);
    }),
  );
});

test('property: encode/decode round trip', () => {
  fc.assert(
    fc.property(segmentsArb, (segs) => {
      const runs = secondCounts(segs);
      const hm = encodeHm(runs);
      assert.deepEqual(decodeHm(hm), runs);
      assert.equal(encodeHm(decodeHm(hm)), hm);
    }),
  );
});

test('property: uniqueSeconds ≤ totalSeconds, with the per-second sums', () => {
  fc.assert(
    fc.property(segmentsArb, (segs) => {
      const runs = secondCounts(segs);
      const counts = perSecondCounts(runs, 61);
      assert.ok(uniqueSeconds(runs) <= totalSeconds(runs));
      assert.equal(uniqueSeconds(runs), counts.filter((c) => c > 0).length);
      assert.equal(totalSeconds(runs), counts.reduce((s, c) => s + c, 0));
    }),
  );
});

test('property: mergeHeatmap equals per-second sums and record counts', () => {
  fc.assert(
    fc.property(fc.array(segmentsArb, { maxLength: 6 }), (records) => {
      const each = records.map((segs) => secondCounts(segs));
      const { heatmap, retention } = mergeHeatmap(each);
      const perRecord = each.map((r) => perSecondCounts(r, 61));
      const heat = perSecondCounts(heatmap, 61);
      const ret = perSecondCounts(retention, 61);
      for (let k = 0; k < 61; k++) {
        assert.equal(heat[k], perRecord.reduce((s, c) => s + c[k]!, 0));
        assert.equal(ret[k], perRecord.filter((c) => c[k]! > 0).length);
      }
      assert.deepEqual(normalizeRuns(heatmap), heatmap);
      assert.deepEqual(normalizeRuns(retention), retention);
    }),
  );
});
