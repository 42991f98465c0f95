/**
 * Two lanes of work (behaviour.md §2.6): a new exposure — a file azcam has just written, named by
 * its `proc` trigger or found by the watcher while the service runs — is what an observer waits
 * for; everything else (the catch-up at start, files resumed from the last run, the drop folder)
 * is background. A new exposure starts at once whatever the background is doing: the background
 * never holds every worker, and no background job starts while a new exposure is queued or
 * running. Which lane, how `queue.concurrency` divides and which job starts next are pure
 * functions, tested as tables; `LaneQueue` only applies them.
 */
import type { LedgerOrigin } from '../ledger/ledger.js';
import type { FsPort } from './fs-port.js';

export type Lane = 'fresh' | 'background';

/**
 * The lane of a reported file. `resumed`: a row left by the last run (background whatever its
 * origin: the observer of that moment is not waiting for it any more). `current`: the lane of a
 * file already being handled: a `proc` trigger moves it to the fresh lane (azcam says it has just
 * written it), nothing moves it back.
 */
export function laneFor(origin: LedgerOrigin, how: { resumed: boolean; current?: Lane | undefined }): Lane {
  if (how.current === 'fresh') return 'fresh';
  if (origin === 'udp' && !how.resumed) return 'fresh';
  if (how.current === 'background' || how.resumed) return 'background';
  return origin === 'watcher' ? 'fresh' : 'background';
}

/** How many jobs each lane may have in flight, and how many worker threads the pool has. */
export interface LaneShares {
  workers: number;
  fresh: number;
  background: number;
}

/**
 * `queue.concurrency` N: new exposures may use all N workers; background work at most N − 1, so
 * that one worker is always free for a new exposure. With N = 1 the background still gets its
 * one job and the pool has a second worker, kept for new exposures.
 */
export function laneShares(concurrency: number): LaneShares {
  const background = Math.max(1, concurrency - 1);
  return { workers: Math.max(concurrency, background + 1), fresh: concurrency, background };
}

/** What the queue reads of a waiting job, at the moment it chooses (a trigger may have promoted it). */
export interface Ranked {
  lane: Lane;
  /** Higher first, within a lane. */
  priority: number;
  /** Lower first at equal priority: the order the files were taken in. */
  rank: number;
}

/** Jobs in flight per lane. */
export type Running = Record<Lane, number>;

/**
 * Which waiting job starts next, or -1 for none. A new exposure starts while its lane has room;
 * a background job only when no new exposure is waiting or running, its lane has room, and the
 * background is not held (at start, until the catch-up's first looks are done, so that the
 * chosen order holds from the first job).
 */
export function nextToStart(waiting: readonly Ranked[], running: Running, shares: LaneShares, backgroundHeld: boolean): number {
  const best = (lane: Lane) => {
    let found = -1;
    waiting.forEach((w, i) => {
      if (w.lane !== lane) return;
      const b = waiting[found];
      if (b === undefined || w.priority > b.priority || (w.priority === b.priority && w.rank < b.rank)) found = i;
    });
    return found;
  };
  const fresh = best('fresh');
  if (fresh >= 0) return running.fresh < shares.fresh ? fresh : -1;
  if (running.fresh > 0 || backgroundHeld || running.background >= shares.background) return -1;
  return best('background');
}

/** The job queue of the service: two lanes over one worker pool (see `nextToStart`). */
export class LaneQueue {
  private readonly waiting: Array<{ item: Ranked; run: () => Promise<void> }> = [];
  private readonly inFlight: Running = { fresh: 0, background: 0 };
  private holds = 0;
  private idleWaiters: Array<() => void> = [];
  private freshWaiters: Array<() => void> = [];

  constructor(readonly shares: LaneShares) {}

  /** Queues a job; `item` is read again whenever the queue chooses. */
  add(item: Ranked, run: () => Promise<void>): void {
    this.waiting.push({ item, run });
    this.startWhatMay();
  }

  /** Holds background work back until the returned function is called (idempotent). */
  holdBackground(): () => void {
    this.holds += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds -= 1;
      this.startWhatMay();
    };
  }

  /** Resolves when no new exposure is waiting or in flight. */
  freshIdle(): Promise<void> {
    if (this.freshQuiet()) return Promise.resolve();
    return new Promise((resolve) => this.freshWaiters.push(resolve));
  }

  private freshQuiet(): boolean {
    return this.inFlight.fresh === 0 && !this.waiting.some((w) => w.item.lane === 'fresh');
  }

  /** Jobs waiting to start. */
  get size(): number {
    return this.waiting.length;
  }

  /** Jobs in flight. */
  get pending(): number {
    return this.inFlight.fresh + this.inFlight.background;
  }

  /** Jobs in flight by lane. */
  running(): Running {
    return { ...this.inFlight };
  }

  /** Drops the jobs not started (stop: they stay queued in the ledger for the next start). */
  clear(): void {
    this.waiting.length = 0;
    this.notifyIfIdle();
  }

  /** Resolves when no job is waiting (startable) or in flight. */
  onIdle(): Promise<void> {
    if (this.pending === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private startWhatMay(): void {
    for (;;) {
      const index = nextToStart(this.waiting.map((w) => w.item), this.inFlight, this.shares, this.holds > 0);
      if (index < 0) return;
      const [{ item, run }] = this.waiting.splice(index, 1) as [{ item: Ranked; run: () => Promise<void> }];
      // The lane counted is the one it started in, even if a trigger promotes it meanwhile.
      const lane = item.lane;
      this.inFlight[lane] += 1;
      void (async () => {
        try {
          await run();
        } finally {
          this.inFlight[lane] -= 1;
          this.startWhatMay();
          this.notifyIfIdle();
          if (this.freshQuiet()) for (const resolve of this.freshWaiters.splice(0)) resolve();
        }
      })();
    }
  }

  private notifyIfIdle(): void {
    if (this.pending > 0 || this.waiting.length > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

/** Reads and writes at least this large are a file's bulk data (a repository copy and its check), never a pointer or a name. */
const BULK_WRITE_BYTES = 1 << 20;

/**
 * The filesystem port of a background job: its bulk reads and writes wait while a new exposure is
 * queued or in flight, so that the new exposure has the disk (and libuv's threads) to itself: its
 * copies and flushes are most of its time beside a running background job. Only bulk calls yield:
 * they are made in the copy stage, outside the channel's lock, so a new exposure never waits for
 * a job that waits for it; the wait is bounded all the same (`maxYieldMs`), so that it can delay,
 * never stop, the background.
 */
export function yieldingFs(fs: FsPort, freshIdle: () => Promise<void>, maxYieldMs = 5000): FsPort {
  const quiet = async () => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([freshIdle(), new Promise<void>((resolve) => { timer = setTimeout(resolve, maxYieldMs); })]);
    clearTimeout(timer);
  };
  return {
    ...fs,
    write: async (handle, buffer, offset, length, position) => {
      if (length >= BULK_WRITE_BYTES) await quiet();
      return fs.write(handle, buffer, offset, length, position);
    },
    read: async (handle, buffer, offset, length, position) => {
      if (length >= BULK_WRITE_BYTES) await quiet();
      return fs.read(handle, buffer, offset, length, position);
    },
  };
}
