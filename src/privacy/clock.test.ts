import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SweepClock } from './clock.ts';

const DAY = 86_400_000;

function clocks(wall: number, mono: number) {
  const c = { wall, mono };
  return { c, clock: new SweepClock({ wall: () => c.wall, mono: () => c.mono }) };
}

test('follows the wall clock while both clocks advance together', () => {
  const { c, clock } = clocks(1_000 * DAY, 0);
  c.wall += 10 * DAY;
  c.mono += 10 * DAY;
  assert.equal(clock.now(null), 1_010 * DAY);
  assert.equal(clock.now(1_005 * DAY), 1_010 * DAY);
});

test('a forward jump of the wall clock while running is ignored; a backward one is followed', () => {
  const { c, clock } = clocks(1_000 * DAY, 50);
  c.wall += 365 * DAY;
  c.mono += 1_000;
  assert.equal(clock.now(null), 1_000 * DAY + 1_000);
  c.wall = 990 * DAY;
  assert.equal(clock.now(null), 990 * DAY);
});

test('after a restart, no further than the last trusted time plus uptime plus one day', () => {
  const { c, clock } = clocks(2_000 * DAY, 0); // wall says 1000 days passed since the last arrival
  const trusted = 1_000 * DAY;
  assert.equal(clock.now(trusted), trusted + DAY);
  c.wall += 3 * DAY;
  c.mono += 3 * DAY;
  assert.equal(clock.now(trusted), trusted + 4 * DAY);
  // New arrivals (trusted near the wall clock) release the bound.
  assert.equal(clock.now(c.wall - 1_000), c.wall);
});
