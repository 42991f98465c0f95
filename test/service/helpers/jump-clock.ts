/**
 * The clock of a host whose wall time is stepped (NTP, `date -s`): `now()` jumps when told to,
 * while timers run on real time as Node's do (they are monotonic). Every wait the service asks
 * for is recorded, so that a test can tell at once when a wait was computed from the wall clock
 * (a step back of hours turns into a wait of hours) instead of hanging until the test times out.
 *
 * Unlike a real step, file modification times (the kernel's clock) do not move with it; the
 * service compares the two only when it recovers after a restart.
 */
import type { ServiceClock } from '../../../src/base/clock.js';

export class JumpClock implements ServiceClock {
  private offsetMs: number;
  /** Every wait asked for, ms, in order. */
  readonly waits: number[] = [];
  private readonly tooLong: Array<(ms: number) => void> = [];

  /**
   * `startMs`: the wall time now; `longestWaitMs`: any longer wait is a fault (`tooLongWait`
   * rejects). The default is the longest back-off of a retry, 60 s.
   */
  constructor(startMs: number, private readonly longestWaitMs = 60_000) {
    this.offsetMs = startMs - Date.now();
  }

  now(): number {
    return Date.now() + this.offsetMs;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    this.waits.push(ms);
    if (ms <= this.longestWaitMs) return setTimeout(fn, ms);
    for (const report of this.tooLong.splice(0)) report(ms);
    // Still scheduled (the service may go on), but it must not keep the test process alive.
    return setTimeout(fn, ms).unref();
  }

  clearTimeout(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  }

  /** Steps the wall clock by `ms` (negative: backwards). Timers already set are not affected. */
  step(ms: number): void {
    this.offsetMs += ms;
  }

  /** Rejects as soon as a wait longer than `longestWaitMs` is asked for (never resolves). */
  tooLongWait(): Promise<never> {
    return new Promise<never>((_, reject) => {
      this.tooLong.push((ms) => reject(new Error(`the service asked to wait ${(ms / 1000).toFixed(0)} s, longer than any back-off (${this.longestWaitMs / 1000} s): a wait computed from the stepped wall clock`)));
    });
  }

  /** Resolves once `count` more waits have been asked for (the service has moved on that far). */
  async waitsAfter(count: number): Promise<void> {
    const target = this.waits.length + count;
    while (this.waits.length < target) await new Promise((r) => setTimeout(r, 10));
  }
}
