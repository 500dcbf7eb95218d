import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateEvent } from '../events/validate.ts';
import { addDays, datesOf, dayStartUtc, listsEveryDate, localDate, MAX_LISTED_DAYS, parsePeriod, PeriodError } from './period.ts';

const HOUR = 3_600_000;

describe('dayStartUtc', () => {
  it('a day whose midnight summer time skips starts at the change (America/Santiago, America/Havana)', () => {
    // Santiago moves from -04:00 to -03:00 at 00:00 on 2026-09-06: local 00:00–01:00 does not exist.
    assert.equal(new Date(dayStartUtc('2026-09-06', 'America/Santiago')).toISOString(), '2026-09-06T04:00:00.000Z');
    assert.equal(new Date(dayStartUtc('2026-09-05', 'America/Santiago')).toISOString(), '2026-09-05T04:00:00.000Z');
    assert.equal(new Date(dayStartUtc('2026-09-07', 'America/Santiago')).toISOString(), '2026-09-07T03:00:00.000Z');
    // Havana moves from -05:00 to -04:00 at 00:00 on 2026-03-08.
    assert.equal(new Date(dayStartUtc('2026-03-08', 'America/Havana')).toISOString(), '2026-03-08T05:00:00.000Z');
  });

  it('every day of two years in zones with every kind of change starts at its first instant', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/Santiago', 'America/Havana', 'America/Asuncion', 'Australia/Lord_Howe',
      'Pacific/Chatham', 'Asia/Kolkata', 'Asia/Tehran', 'Africa/Casablanca', 'America/St_Johns', 'Pacific/Apia'];
    for (const tz of zones) {
      for (let d = '2025-01-01'; d < '2027-01-01'; d = addDays(d, 1)) {
        const t = dayStartUtc(d, tz);
        assert.equal(localDate(t, tz), d, `${tz} ${d}: its start is on that date`);
        assert.notEqual(localDate(t - 1, tz), d, `${tz} ${d}: the instant before is not`);
      }
    }
  });

  it('historic changes: a skipped day is empty, a change just after midnight moves the start, years before 100 are theirs', () => {
    const cases: Array<[string, string]> = [['Pacific/Apia', '2011-12-30'], ['Pacific/Fakaofo', '2011-12-30'], ['Pacific/Kwajalein', '1993-08-21'],
      ['Pacific/Kiritimati', '1994-12-31'], ['America/Toronto', '1919-03-31'], ['America/Sao_Paulo', '2018-11-04'], ['America/Havana', '2026-11-01']];
    for (const [tz, day] of cases) {
      for (const d of [addDays(day, -1), day, addDays(day, 1)]) {
        const t = dayStartUtc(d, tz);
        const next = dayStartUtc(addDays(d, 1), tz);
        assert.ok(t <= next, `${tz} ${d}: days in order`);
        if (t === next) assert.ok(localDate(t, tz) > d, `${tz} ${d}: an empty day is one the zone skipped`);
        else {
          assert.equal(localDate(t, tz), d, `${tz} ${d}: its start is on that date`);
          assert.ok(localDate(t - 1, tz) < d, `${tz} ${d}: the instant before is on an earlier date`);
        }
      }
    }
    assert.equal(dayStartUtc('2011-12-30', 'Pacific/Apia'), dayStartUtc('2011-12-31', 'Pacific/Apia'), 'Samoa skipped 2011-12-30');
    const y50 = new Date(0);
    y50.setUTCFullYear(50, 0, 1);
    assert.equal(dayStartUtc('0050-01-01', 'UTC'), y50.getTime());
    assert.equal(localDate(dayStartUtc('0100-01-01', 'UTC') - 1, 'UTC'), '0099-12-31');
  });
});

describe('parsePeriod', () => {
  it('refuses a date-time that does not exist instead of reading another day', () => {
    for (const v of ['2026-11-31T00:00:00Z', '2026-02-30T10:00:00Z', '2026-04-31T23:59:59Z', '2026-11-30T24:00:00Z', '2026-11-30T12:60:00Z', '2026-11-30T12:00:60Z']) {
      assert.throws(() => parsePeriod(v, '2026-12-02T00:00:00Z', 'UTC'), (e: unknown) => e instanceof PeriodError && /^from: .* is not a date/.test(e.message), v);
    }
  });
  it('takes RFC 3339 with a lower-case t and z', () => {
    assert.deepEqual(parsePeriod('2026-11-30t10:00:00z', '2026-11-30t11:00:00.5+01:00', 'UTC'), parsePeriod('2026-11-30T10:00:00Z', '2026-11-30T11:00:00.5+01:00', 'UTC'));
  });
});

/** datesOf's list when it holds every date of the period, else null. */
const everyDateOf = (fromMs: number, toMs: number, tz: string) => (listsEveryDate(fromMs, toMs, tz) ? datesOf(fromMs, toMs, tz) : null);

describe('listsEveryDate', () => {
  it(`lists every day up to ${MAX_LISTED_DAYS}, and answers null past it`, () => {
    const from = Date.UTC(2000, 0, 1);
    assert.equal(everyDateOf(from, from + MAX_LISTED_DAYS * 86_400_000, 'UTC')!.length, MAX_LISTED_DAYS);
    assert.equal(everyDateOf(from, from + MAX_LISTED_DAYS * 86_400_000 + HOUR, 'UTC'), null);
    const berlin = (d: string) => dayStartUtc(d, 'Europe/Berlin');
    assert.equal(everyDateOf(berlin('2000-01-01'), berlin(addDays('2000-01-01', 3_683)), 'Europe/Berlin')!.length, 3_683, 'local days, summer time and all');
  });
});

describe('the collector\'s timestamp', () => {
  it('a day that does not exist is refused, not stored on the next one', () => {
    const opts = { now: Date.UTC(2026, 11, 1, 12), retentionDays: 90, trusted: false };
    const ev = (timestamp: string) => validateEvent({ event: 'impression', contentId: 'v', sessionId: 's', timestamp }, opts);
    assert.deepEqual(ev('2026-11-31T10:00:00Z'), { ok: false, field: 'timestamp', error: 'timestamp: is not a real date and time' });
    assert.equal(ev('2026-11-30T24:00:00Z').ok, false);
    assert.equal(ev('2026-11-30T10:00:00Z').ok, true);
  });
});
