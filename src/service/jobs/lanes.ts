/**
 * Two lanes of work (behaviour.md §2.6): a new exposure — a file azcam has just written, named by
 * its `proc` trigger or found by the watcher while the service runs — is what an observer waits
 * for; everything else (the catch-up at start, files resumed from the last run, the drop folder)
 * is background. A new exposure starts at once whatever the background is doing: the background
 * never holds every worker, and no background job starts while a new exposure is queued or
 * running. Which lane, how `queue.concurrency` divides, a job's place in its lane and whether the
 * background may start are pure functions, tested as tables; `LaneQueue` applies them with one
 * p-queue per lane.
 */
import PQueue from 'p-queue';
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

/** What the queue reads of a waiting job (a trigger may promote it: `LaneQueue.reconsider`). */
export interface Ranked {
  lane: Lane;
  /** Higher first, within a lane. */
  priority: number;
  /** Lower first at equal priority: the order the files were taken in. */
  rank: number;
}

/**
 * Where a waiting job stands in its lane's p-queue (which starts the highest priority first, in
 * the order added at equal priority): new exposures by priority (a trigger first); background work
 * strictly in the order taken (the catch-up's order, §2.4), whatever order it became ready in.
 */
export function placeInLane(item: Ranked): number {
  return item.lane === 'fresh' ? item.priority : -item.rank;
}

/**
 * Whether a background job may start now: never while a new exposure is waiting or running, nor
 * while the background is held (at start, until the catch-up's first looks are done, so that the
 * chosen order holds from the first job). How many run at once is the lane's own concurrency.
 */
export function backgroundMayStart(fresh: { waiting: number; running: number }, held: boolean): boolean {
  return !held && fresh.waiting === 0 && fresh.running === 0;
}

/** Rejects the background copy of a job that a trigger moved to the lane of new exposures. */
class Promoted extends Error {}

interface Ticket {
  item: Ranked;
  run: () => Promise<void>;
  /** The lane whose p-queue holds it now. */
  queuedIn: Lane;
  id: string;
  /** Takes it out of the background p-queue (promotion). */
  withdraw: AbortController;
}

/**
 * The job queue of the service: one p-queue per lane over one worker pool. The background
 * p-queue is paused while a new exposure waits or runs, or while held (`backgroundMayStart`).
 */
export class LaneQueue {
  private readonly lanes: Record<Lane, PQueue>;
  /** Jobs added and not yet started, by their ranked item (the intake's tracked file). */
  private readonly waiting = new Map<Ranked, Ticket>();
  private holds = 0;
  private nextId = 0;

  private freshBusy = false;

  /** `onFreshBusy`: told when new exposures start and stop being in flight (the pool holds background processing meanwhile). */
  constructor(shares: LaneShares, private readonly onFreshBusy?: (busy: boolean) => void) {
    this.lanes = {
      fresh: new PQueue({ concurrency: shares.fresh }),
      background: new PQueue({ concurrency: shares.background, autoStart: false }),
    };
    // The background resumes once the last new exposure is done.
    this.lanes.fresh.on('idle', () => this.gate());
  }

  /** Queues a job in the lane its item names now. */
  add(item: Ranked, run: () => Promise<void>): void {
    const ticket: Ticket = { item, run, queuedIn: item.lane, id: '', withdraw: new AbortController() };
    this.waiting.set(item, ticket);
    this.enqueue(ticket);
  }

  /** The item's lane or priority changed while it waits (a trigger): it moves accordingly. */
  reconsider(item: Ranked): void {
    const ticket = this.waiting.get(item);
    if (ticket === undefined) return;
    if (ticket.queuedIn === 'background' && item.lane === 'fresh') {
      ticket.withdraw.abort(new Promoted());
      ticket.queuedIn = 'fresh';
      this.enqueue(ticket);
    } else if (ticket.queuedIn === 'fresh') {
      this.lanes.fresh.setPriority(ticket.id, placeInLane(item));
    }
  }

  private enqueue(ticket: Ticket): void {
    const lane = ticket.queuedIn;
    ticket.id = String(this.nextId++);
    const start = async () => {
      this.waiting.delete(ticket.item);
      await ticket.run();
    };
    const signal = lane === 'background' ? ticket.withdraw.signal : undefined;
    this.lanes[lane].add(start, { priority: placeInLane(ticket.item), id: ticket.id, signal }).catch((err: unknown) => {
      // A promoted job left the background queue: it runs in the fresh lane instead. The jobs
      // themselves never reject (the runner records every outcome), so anything else is a bug.
      if (err instanceof Promoted) return;
      throw err;
    });
    this.gate();
  }

  /** Holds background work back until the returned function is called (idempotent). */
  holdBackground(): () => void {
    this.holds += 1;
    this.gate();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds -= 1;
      this.gate();
    };
  }

  private gate(): void {
    const { fresh, background } = this.lanes;
    if (backgroundMayStart({ waiting: fresh.size, running: fresh.pending }, this.holds > 0)) background.start();
    else background.pause();
    const busy = fresh.size + fresh.pending > 0;
    if (busy !== this.freshBusy) {
      this.freshBusy = busy;
      this.onFreshBusy?.(busy);
    }
  }

  /** Resolves when no new exposure is waiting or in flight. */
  freshIdle(): Promise<void> {
    return this.lanes.fresh.onIdle();
  }

  /** Jobs waiting to start. */
  get size(): number {
    return this.waiting.size;
  }

  /** Jobs in flight. */
  get pending(): number {
    return this.lanes.fresh.pending + this.lanes.background.pending;
  }

  /** Drops the jobs not started (stop: they stay queued in the ledger for the next start). */
  clear(): void {
    this.waiting.clear();
    // Background first: clearing the fresh lane makes it idle, which would open the background's gate.
    this.lanes.background.clear();
    this.lanes.fresh.clear();
  }

  /** Resolves when no job is waiting or in flight (a held background keeps its jobs waiting). */
  async onIdle(): Promise<void> {
    while (this.size + this.pending > 0) {
      await Promise.all([this.lanes.fresh.onIdle(), this.lanes.background.onIdle()]);
      if (this.size + this.pending > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
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
  // Only the flush of a file written in bulk here waits: the small flushes of the commit (the
  // pointer, the day copy re-opened to be named) run under the channel's lock, which a new
  // exposure of the same channel may be waiting for.
  const bulkWritten = new WeakSet<object>();
  return {
    ...fs,
    write: async (handle, buffer, offset, length, position) => {
      if (length >= BULK_WRITE_BYTES) {
        bulkWritten.add(handle);
        await quiet();
      }
      return fs.write(handle, buffer, offset, length, position);
    },
    read: async (handle, buffer, offset, length, position) => {
      if (length >= BULK_WRITE_BYTES) await quiet();
      return fs.read(handle, buffer, offset, length, position);
    },
    // A flush of a background copy (hundreds of MB of a full frame) would queue the new
    // exposure's own flushes behind it on the disk: it starts once the new exposure is done.
    fsync: async (handle) => {
      if (bulkWritten.has(handle)) await quiet();
      return fs.fsync(handle);
    },
  };
}
