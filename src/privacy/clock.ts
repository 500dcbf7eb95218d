/**
 * The sweeper's notion of "now", which deletion cut-offs are computed from. Wall clocks jump (NTP
 * corrections, a wrong date set by hand, a VM restored from a snapshot); a jump forward must never
 * make the sweeper delete data younger than its configured age. So the time it uses is the smallest of:
 *
 * - the wall clock (a jump backward only makes it delete less);
 * - the wall clock read at start plus the monotonic time elapsed since then (a forward jump while
 *   the server runs is ignored: the monotonic clock does not jump);
 * - the last trusted time — the newest stored arrival time or the time of the previous sweep, both
 *   persisted — plus the monotonic time since start plus one day (a forward jump while the server
 *   was stopped is ignored until new events arrive; a long downtime only delays deletions).
 */
const GRACE_MS = 86_400_000;

export interface Clocks {
  /** Wall clock, epoch ms. */
  wall(): number;
  /** Monotonic clock, ms from any origin (performance.now()). */
  mono(): number;
}

export class SweepClock {
  private readonly startWall: number;
  private readonly startMono: number;

  constructor(private readonly clocks: Clocks) {
    this.startWall = clocks.wall();
    this.startMono = clocks.mono();
  }

  /** `trusted`: max(newest stored arrival, previous sweep time), null when neither exists. */
  now(trusted: number | null): number {
    const elapsed = Math.max(0, this.clocks.mono() - this.startMono);
    let t = Math.min(this.clocks.wall(), this.startWall + elapsed);
    if (trusted !== null) t = Math.min(t, trusted + elapsed + GRACE_MS);
    return t;
  }
}
