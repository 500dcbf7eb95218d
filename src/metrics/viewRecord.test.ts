import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildViewRecord, buildViewRecords, markUnique, viewIdOf, type RecordEvent, type UniqueInput } from './viewRecord.ts';

const T = Date.UTC(2026, 0, 31, 12);
const ACC = 'acc_1';
let n = 0;

function ev(over: Partial<RecordEvent> & Pick<RecordEvent, 'event'>): RecordEvent {
  const timestamp = over.timestamp ?? T;
  return {
    id: `e${n++}`, timestamp, receivedAt: timestamp + 50, data: null, duration: null, userId: null,
    sessionId: 's1', contentId: 'v1', email: null, viewerAccountId: null, viewerName: null, deviceType: 'web',
    url: null, referrer: null, domain: null, ip: null, userAgent: null, country: null, region: null, city: null,
    lat: null, lon: null, org: null, browser: null, os: null, platform: 'desktop', title: null,
    ...over,
  };
}

/** A watchProgress of media [from, to) reported `at` seconds after T. */
const wp = (from: number, to: number, at: number, over: Partial<RecordEvent> = {}) =>
  ev({ event: 'watchProgress', data: { from, to }, timestamp: T + at * 1000, ...over });

test('the continuous-run table of metrics.md', () => {
  const rows: Array<[RecordEvent[], number, boolean]> = [
    [[wp(0, 5, 5)], 5, true],
    [[wp(0, 4.9, 4.9)], 4.9, false],
    [[wp(0, 3, 3), wp(3, 6, 6)], 6, true],
    [[wp(0, 3, 3), wp(3, 6, 16)], 3, false],
    [[wp(0, 3, 3), wp(30, 33, 6)], 3, false],
  ];
  for (const [events, longest, view] of rows) {
    for (const order of [events, [...events].reverse()]) {
      const r = buildViewRecord(ACC, order, null);
      assert.equal(r.longestRun, longest);
      assert.equal(r.counted, view);
      assert.equal(r.played, true);
    }
  }
});

test('run boundaries: within 1 s of media and 2 s of wall clock continue, beyond does not', () => {
  assert.equal(buildViewRecord(ACC, [wp(0, 3, 3), wp(4, 6, 7)], null).longestRun, 5);
  assert.equal(buildViewRecord(ACC, [wp(0, 3, 3), wp(4.01, 6.01, 7)], null).longestRun, 3);
  assert.equal(buildViewRecord(ACC, [wp(0, 3, 3), wp(3, 5, 7)], null).longestRun, 5);
  assert.equal(buildViewRecord(ACC, [wp(0, 3, 3), wp(3, 5, 7.01)], null).longestRun, 3);
  assert.equal(buildViewRecord(ACC, [wp(1.3, 4.3, 3), wp(5.3, 7.3, 7)], null).counted, true);
});

test('the Cincopa hm example as a view record with a 40-second video', () => {
  const events = [
    ev({ event: 'impression', timestamp: T - 1000 }),
    ev({ event: 'playStart', timestamp: T }),
    wp(10, 21, 11), wp(10, 31, 40), wp(31, 32, 60), wp(31, 32, 70), wp(31, 32, 80),
  ];
  const r = buildViewRecord(ACC, events, 40);
  assert.equal(r.hm, '10-20:2,21-30,31:3');
  assert.equal(r.uniqueSeconds, 22);
  assert.equal(r.totalSeconds, 35);
  assert.equal(r.duration, 40);
  assert.equal(r.percentViewed, 0.55);
  assert.equal(r.loads, 1);
  assert.equal(r.counted, true);
  assert.equal(r.startedAt, T - 1000);
  assert.equal(r.lastEventAt, T + 80_000);
});

test('round half up in a record: 0.5 → 1, 2.49 → 2', () => {
  assert.equal(buildViewRecord(ACC, [wp(0.5, 2.49, 3)], null).hm, '1');
  assert.equal(buildViewRecord(ACC, [wp(0.49, 2.5, 3)], null).hm, '0-2');
});

test('duration: catalog first, else largest on events, rounded half up, null when unknown', () => {
  const events = [ev({ event: 'impression', duration: 12.4 }), ev({ event: 'playStart', duration: 39.5 }), wp(0, 100, 100)];
  assert.equal(buildViewRecord(ACC, events, 60).duration, 60);
  assert.equal(buildViewRecord(ACC, events, null).duration, 40);
  assert.equal(buildViewRecord(ACC, events, null).percentViewed, 1);
  assert.equal(buildViewRecord(ACC, events, 0.2).duration, 1);
  // A duration past MAX_MEDIA_SECONDS, stored before the collector refused it, is left out: 2^31
  // overflowed the records' column and stopped every record from being built.
  assert.equal(buildViewRecord(ACC, [ev({ event: 'impression', duration: 2 ** 31 }), ev({ event: 'playStart', duration: 30 })], null).duration, 30);
  assert.equal(buildViewRecord(ACC, [ev({ event: 'impression', duration: 1e19 })], 1e19).duration, null);
  const none = buildViewRecord(ACC, [wp(0, 10, 10)], null);
  assert.equal(none.duration, null);
  assert.equal(none.percentViewed, null);
});

test('an unplayed record has an empty hm', () => {
  const r = buildViewRecord(ACC, [ev({ event: 'impression' }), ev({ event: 'impression', timestamp: T + 5 })], 30);
  assert.equal(r.played, false);
  assert.equal(r.hm, '');
  assert.deepEqual(r.runs, []);
  assert.equal(r.loads, 2);
  assert.equal(r.uniqueSeconds, 0);
  assert.equal(r.totalSeconds, 0);
  assert.equal(r.percentViewed, 0);
  assert.equal(r.counted, false);
  assert.equal(r.longestRun, 0);
});

test('a session that watches the same video twice is still one view; a new session is a new view', () => {
  const first = [ev({ event: 'impression', userId: 'u1' }), wp(0, 10, 10), wp(0, 10, 100), ev({ event: 'completion', timestamp: T + 100_000 })];
  const second = [wp(0, 6, 500, { sessionId: 's2', userId: 'u1' })];
  const records = buildViewRecords(ACC, [...second, ...first], () => 10);
  assert.equal(records.length, 2);
  const [a, b] = records as [(typeof records)[0], (typeof records)[0]];
  assert.equal(a.sessionId, 's1');
  assert.equal(a.hm, '0-9:2');
  assert.equal(a.totalSeconds, 20);
  assert.equal(a.percentViewed, 1);
  assert.equal(a.counted, true);
  assert.equal(a.completed, true);
  assert.equal(b.sessionId, 's2');
  assert.equal(b.counted, true);
  assert.equal(b.completed, false);
  assert.equal(a.unique, null);
  const marked = markUnique(records);
  assert.deepEqual(marked.map((r) => [r.sessionId, r.viewer, r.unique]), [['s1', 'u1', true], ['s2', 'u1', false]]);
});

test('malformed watchProgress data is ignored, but the record is still played', () => {
  const events = [
    ev({ event: 'watchProgress', data: null }),
    ev({ event: 'watchProgress', data: { from: 5 } }),
    ev({ event: 'watchProgress', data: { from: NaN, to: 3 } }),
    ev({ event: 'watchProgress', data: { from: -1, to: 3 } }),
    ev({ event: 'watchProgress', data: { from: 4, to: 3 } }),
    ev({ event: 'watchProgress', data: { from: '0', to: '9' } }),
  ];
  const r = buildViewRecord(ACC, events, 10);
  assert.equal(r.played, true);
  assert.equal(r.hm, '');
  assert.equal(r.counted, false);
});

test('viewer, geo, device, url and title come from the earliest event carrying them', () => {
  const r = buildViewRecord(ACC, [
    ev({ event: 'playStart', timestamp: T + 2000, userId: 'late', country: 'FR', city: 'Paris', title: 'B' }),
    ev({ event: 'impression', timestamp: T, country: 'DE', url: 'https://a.test/x', domain: 'a.test' }),
    ev({ event: 'pause', timestamp: T + 1000, userId: 'u9', city: 'Berlin', lat: 52.5, lon: 13.4, deviceType: 'ios', title: 'A' }),
  ], null);
  assert.deepEqual(
    [r.viewer, r.userId, r.country, r.city, r.lat, r.lon, r.url, r.domain, r.title, r.deviceType, r.referrer],
    ['u9', 'u9', 'DE', 'Berlin', 52.5, 13.4, 'https://a.test/x', 'a.test', 'A', 'web', null],
  );
  assert.equal(buildViewRecord(ACC, [ev({ event: 'impression', sessionId: 'sX' })], null).viewer, 'sX');
});

test('quality counters, viewId, and refusal of mixed records', () => {
  const r = buildViewRecord(ACC, [
    ev({ event: 'rebuffer', data: { duration: 1.5 } }),
    ev({ event: 'rebuffer', data: { duration: 2 } }),
    ev({ event: 'rebuffer', data: {} }),
    ev({ event: 'error', data: { code: 'x' } }),
  ], null);
  assert.deepEqual([r.rebufferCount, r.rebufferTime, r.errorCount, r.played], [3, 3.5, 1, false]);
  assert.match(r.viewId, /^[0-9a-f]{16}$/);
  assert.equal(r.viewId, viewIdOf(ACC, 's1', 'v1'));
  assert.notEqual(viewIdOf(ACC, 's1', 'v1'), viewIdOf('acc_2', 's1', 'v1'));
  assert.notEqual(viewIdOf(ACC, 's1', 'v1'), viewIdOf(ACC, 's', '1v1'));
  assert.throws(() => buildViewRecord(ACC, [], null), RangeError);
  assert.throws(() => buildViewRecord(ACC, [ev({ event: 'impression' }), ev({ event: 'impression', contentId: 'v2' })], null), RangeError);
});

const eventArb = fc.record({
  event: fc.constantFrom('impression', 'playStart', 'watchProgress', 'watchProgress', 'completion', 'rebuffer') as fc.Arbitrary<RecordEvent['event']>,
  at: fc.integer({ min: 0, max: 120 }),
  from: fc.double({ min: 0, max: 50, noNaN: true }),
  len: fc.double({ min: 0, max: 20, noNaN: true }),
  duration: fc.option(fc.double({ min: 0.1, max: 80, noNaN: true })),
}).map((e) => ev({ event: e.event, timestamp: T + e.at * 1000, duration: e.duration, data: { from: e.from, to: e.from + e.len, duration: e.len } }));

test('property: percentViewed ≤ 1, uniqueSeconds ≤ totalSeconds, order does not matter', () => {
  fc.assert(
    fc.property(fc.array(eventArb, { minLength: 1, maxLength: 15 }), fc.option(fc.double({ min: 0.1, max: 80, noNaN: true })), (events, cat) => {
      const r = buildViewRecord(ACC, events, cat);
      assert.ok(r.uniqueSeconds <= r.totalSeconds);
      if (r.percentViewed !== null) assert.ok(r.percentViewed >= 0 && r.percentViewed <= 1);
      assert.ok(r.played || r.hm === '');
      assert.deepEqual(buildViewRecord(ACC, [...events].reverse(), cat), r);
    }),
  );
});

const uniqueInputArb = fc.array(
  fc.record({
    viewId: fc.string({ maxLength: 3 }),
    accountId: fc.constantFrom('a1', 'a2'),
    contentId: fc.constantFrom('v1', 'v2'),
    viewer: fc.constantFrom('u1', 'u2', 's3'),
    played: fc.boolean(),
    startedAt: fc.integer({ min: 0, max: 5 }),
  }),
  { maxLength: 30 },
);

test('property: markUnique gives exactly one unique per (viewer, content) with a played record', () => {
  fc.assert(
    fc.property(uniqueInputArb, (records: UniqueInput[]) => {
      const marked = markUnique(records);
      assert.equal(marked.length, records.length);
      const pairs = new Map<string, typeof marked>();
      for (const r of marked) {
        const k = `${r.accountId}|${r.viewer}|${r.contentId}`;
        pairs.set(k, [...(pairs.get(k) ?? []), r]);
      }
      for (const group of pairs.values()) {
        const uniques = group.filter((r) => r.unique);
        const played = group.filter((r) => r.played);
        assert.equal(uniques.length, played.length > 0 ? 1 : 0);
        for (const u of uniques) {
          assert.ok(u.played);
          for (const p of played) assert.ok(u.startedAt < p.startedAt || (u.startedAt === p.startedAt && u.viewId <= p.viewId));
        }
      }
    }),
  );
});
