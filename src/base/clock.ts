/**
 * Time as the service sees it, passed in so that tests can drive it: `now()` for timestamps and
 * `setTimeout`/`clearTimeout` for anything scheduled (settle intervals, back-off, timeouts).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type ServiceClock = Clock & Timers;

export const systemClock: ServiceClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Resolves after `ms` on the given clock. */
export function sleep(clock: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, ms);
  });
}

/**
 * Resolves after `ms`, or at once when `signal` aborts, leaving no timer or listener behind (a
 * pending back-off timer would keep a stopped process alive for up to a minute).
 */
export function sleepUnlessAborted(clock: Timers, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * A clock that only moves when told to: `advance(ms)` runs the timers that fall due, in order.
 * For tests of settle intervals, timeouts, back-off and observing-date roll-over.
 */
export class ManualClock implements ServiceClock {
  private time: number;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 1;

  constructor(startMs = Date.UTC(2026, 0, 15, 4, 12, 33)) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.time + Math.max(0, ms), fn, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Moves time forward, running due timers (and timers they schedule) in time order. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (next === undefined || next.at > target) break;
      this.timers.shift();
      this.time = next.at;
      next.fn();
    }
    this.time = target;
  }

  /** Jumps the wall clock (forwards or backwards) without running timers. */
  set(ms: number): void {
    this.time = ms;
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}
