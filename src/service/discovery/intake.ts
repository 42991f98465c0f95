/**
 * The one intake of the three sources (watcher, UDP trigger, drop folder) and the catch-up scan:
 * a reported file is taken into the ledger, followed through the completeness check, and handed
 * to the job queue once whole, in its lane (jobs/lanes.ts). A UDP trigger raises a file's
 * priority, moves it to the lane of new exposures and ends its waits. The intake alone changes
 * the files it tracks: the job runner only reports how a job ended (`jobEnded`).
 */
import type { EventEmitter } from 'node:events';
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { ServiceClock } from '../../base/clock.js';
import type { DatamanConfig } from '../../ops/config.js';
import type { Logger } from '../../ops/logger.js';
import type { Ledger, LedgerOrigin, LedgerRow } from '../ledger/ledger.js';
import { isLedgerUnavailable } from '../ledger/ledger-availability.js';
import { nameParts, type Unsettled } from '../jobs/job.js';
import type { ServiceEvents } from '../events.js';
import { laneFor, type Lane } from '../jobs/lanes.js';
import { fileDropIfAny } from './drop-folder.js';
import { LookAgain, SettleWait, waitUntilReady } from './readiness.js';

/** Priority of queued files: a UDP trigger means an observer is waiting for that file. */
const PRIORITY = { udp: 10, drop: 5, watcher: 0, catchup: 0, cli: 5 } as const satisfies Record<LedgerOrigin, number>;

/** Within its lane: new exposures by priority (a trigger first); background work in the order it was taken. */
const priorityIn = (lane: Lane, origin: LedgerOrigin) => (lane === 'fresh' ? PRIORITY[origin] : 0);

/** How a file's job ended (`JobRunner.run`): finished, whatever the outcome, or to be waited for again. */
export type JobEnd =
  | { kind: 'done' }
  /** The raw file changed under the job: nothing delivered; temporaries left to remove next time. */
  | { kind: 'again'; row: LedgerRow; leftovers: string[] };

/** A file between its first report and the end of its job. */
export interface TrackedFile {
  row: LedgerRow;
  /** The raw file as read at its first whole look: the job checks it is unchanged just before the first final name. */
  unsettled?: Unsettled | undefined;
  /** Raised when a UDP trigger arrives for a file already being waited for. */
  priority: number;
  /** New exposure or background work (jobs/lanes.ts); a trigger moves a file to `fresh`. */
  lane: Lane;
  /** The order files were taken in: background work starts in this order (the catch-up's, §2.4). */
  rank: number;
  /** Resolves once the first look at the file is done: it is queued, still waiting, or finished. */
  firstLook: Promise<void>;
  /** A UDP trigger for a file still being waited for has it looked at again at once. */
  lookAgain: LookAgain;
  /** Named by a UDP trigger: delivered without the settle interval (behaviour.md §3). */
  triggered: boolean;
  /** The settle interval of a watcher-found file, ended at once by a trigger. */
  settle?: SettleWait | undefined;
  /** Temporaries of an abandoned attempt that could not be removed: the next attempt removes them. */
  leftovers?: string[];
}

/** What the intake needs from the service that composes it. */
export interface IntakeDeps {
  config: DatamanConfig;
  /** The raw-file name pattern (`watch.namePattern`). */
  pattern: RegExp;
  ledger: Ledger;
  clock: ServiceClock;
  logger: Logger;
  events: Pick<EventEmitter<ServiceEvents>, 'emit'>;
  /** Aborted when the service stops: every wait ends, the ledger keeps the last state. */
  signal: AbortSignal;
  /** Files from first report to the end of their job, by absolute path (shared with the job runner). */
  tracked: Map<string, TrackedFile>;
  /** One ledger operation, waited for while the ledger is unavailable (`whenLedgerWritable`). */
  record: <T>(what: string, fn: () => T, failed?: unknown) => Promise<T>;
  isStopping: () => boolean;
  /** Puts a complete file's job in the queue (which reads its lane, priority and rank). */
  enqueue: (tracked: TrackedFile, job: () => Promise<void>) => void;
  /** A queued file's lane or priority changed (a trigger): the queue moves it. */
  reconsider: (tracked: TrackedFile) => void;
  /** Runs a file's job (`JobRunner.run`); never rejects. */
  runJob: (path: string, tracked: TrackedFile) => Promise<JobEnd>;
}

export class Intake {
  /** Files reported while the ledger could not take them in, by path: the origin to note them with. */
  private readonly deferred = new Map<string, { origin: LedgerOrigin }>();
  private nextRank = 0;
  /** Each tracked file's "first look done", by path. */
  private readonly looked = new Map<string, () => void>();

  constructor(private readonly d: IntakeDeps) {}

  /**
   * A file reported by a source. Raw files already delivered are skipped (a repeated trigger);
   * a file already being handled only has its priority raised. Drop-folder files always run.
   * Returns the file as tracked when it is being handled (undefined: skipped, or taken in later).
   */
  take(path: string, origin: LedgerOrigin, existing?: LedgerRow): TrackedFile | undefined {
    if (this.d.isStopping()) return undefined;
    const absolute = resolve(path);
    this.d.events.emit('file:detected', absolute, origin);
    // Called from the sources' event handlers, which must never throw (that would end the
    // process): a ledger that cannot take the file in now only delays it.
    try {
      this.admit(absolute, origin, existing);
    } catch (err) {
      if (isLedgerUnavailable(err)) this.admitLater(absolute, origin, existing, err);
      else this.d.logger.error(`${basename(absolute)}: internal error while taking the file in, please report: ${(err as Error).stack ?? String(err)}`);
    }
    return this.d.tracked.get(absolute);
  }

  /** A `proc <name>` datagram: the file lives in `<dataDir>/<chan>/<name>`. */
  onTrigger(name: string): void {
    const { config, logger } = this.d;
    const { channel } = nameParts(name, this.d.pattern);
    const path = join(config.paths.dataDir, channel ?? '', name);
    if (channel === null || !config.channels.includes(channel)) {
      logger.error(`proc: ${name} is not from a channel this server handles (${config.channels.join(', ')})`);
      return;
    }
    void stat(path).then(
      () => this.take(path, 'udp'),
      // The reference's words; the watcher still finds the file if NFS shows it late.
      () => logger.error(`proc: ${path} not found`),
    );
  }

  /** Follows a tracked file through the completeness check into the queue. */
  private follow(path: string, tracked: TrackedFile): void {
    void this.waitAndQueue(path, tracked).finally(() => this.looked.get(path)?.()).catch((err: Error) => {
      this.forget(path);
      if (this.d.signal.aborted && isLedgerUnavailable(err)) this.d.logger.warn(`${basename(path)}: left for the next start (${err.message})`);
      else this.d.logger.error(`${basename(path)}: internal error while handling the file, please report: ${err.stack ?? err.message}`);
    });
  }

  /** Tries `admit` again until the ledger takes it (or the service stops: the next start finds the file again). */
  private admitLater(path: string, origin: LedgerOrigin, existing: LedgerRow | undefined, failed: unknown): void {
    const pending = this.deferred.get(path);
    if (pending) {
      if (PRIORITY[origin] > PRIORITY[pending.origin]) pending.origin = origin;
      return;
    }
    const entry = { origin };
    this.deferred.set(path, entry);
    void this.d.record(basename(path), () => this.admit(path, entry.origin, existing), failed)
      .catch((err: Error) => {
        if (this.d.signal.aborted && isLedgerUnavailable(err)) this.d.logger.warn(`${basename(path)}: not taken in before shutdown (${err.message}); the next start finds it again`);
        else this.d.logger.error(`${basename(path)}: internal error while taking the file in, please report: ${err.stack ?? err.message}`);
      })
      .finally(() => this.deferred.delete(path));
  }

  private admit(absolute: string, origin: LedgerOrigin, existing: LedgerRow | undefined): void {
    const { ledger, logger } = this.d;
    const name = basename(absolute);
    const { channel, obsDate } = nameParts(name, this.d.pattern);
    if (origin !== 'drop' && existing === undefined) {
      const previous = ledger.latestByPath(absolute);
      if (previous?.state === 'delivered') {
        const message = `${name} was already delivered as ${previous.deliveredName ?? name}; ${origin === 'udp' ? 'repeated proc' : 'found again'} skipped`;
        if (origin === 'udp') logger.info(message);
        else logger.debug(message);
        this.d.events.emit('file:skipped', previous, absolute, 'already delivered');
        return;
      }
    }
    const known = this.d.tracked.get(absolute);
    if (known) {
      // Already being handled: a trigger moves it up the queue and, if it looked incomplete,
      // has it looked at again now rather than at the next poll (azcam sends the trigger once
      // the file is written).
      known.lane = laneFor(origin, { resumed: false, current: known.lane });
      known.priority = Math.max(known.priority, priorityIn(known.lane, origin));
      this.d.reconsider(known);
      if (origin === 'udp') {
        known.triggered = true;
        known.lookAgain.now();
        known.settle?.end();
      }
      return;
    }
    const row = existing ?? ledger.note(absolute, origin, { channel, obsDate });
    const lane = laneFor(origin, { resumed: existing !== undefined });
    let looked!: () => void;
    const firstLook = new Promise<void>((resolve) => { looked = resolve; });
    this.looked.set(absolute, looked);
    const tracked: TrackedFile = {
      row, priority: priorityIn(lane, origin), lane, rank: this.nextRank++, firstLook, lookAgain: new LookAgain(), triggered: origin === 'udp',
    };
    this.d.tracked.set(absolute, tracked);
    this.follow(absolute, tracked);
  }

  /** The file's job, as the queue runs it: the runner says how it ended, the intake acts on it. */
  private job(path: string, tracked: TrackedFile): () => Promise<void> {
    return async () => {
      let end: JobEnd;
      try {
        end = await this.d.runJob(path, tracked);
      } catch (err) {
        // runJob records every outcome; reaching here is a bug (a throwing job:start listener…).
        // Logged with the file, which stays in the ledger as it was for the next start.
        this.d.logger.error(`${basename(path)}: internal error while running its job, please report: ${(err as Error)?.stack ?? String(err)}`);
        this.forget(path);
        return;
      }
      if (end.kind === 'again') {
        // The raw file changed under the job: waited for again, still tracked (so that a trigger
        // meanwhile only raises its priority).
        tracked.row = end.row;
        tracked.unsettled = undefined;
        tracked.settle = undefined;
        tracked.leftovers = end.leftovers;
        this.follow(path, tracked);
        return;
      }
      this.forget(path);
    };
  }

  private async waitAndQueue(path: string, tracked: TrackedFile): Promise<void> {
    const { ledger, logger, events, clock, record } = this.d;
    const name = basename(path);
    tracked.row = await record(name, () => ledger.markWaiting(tracked.row.id));
    const w = this.d.config.watch;
    const readiness = await waitUntilReady(path, {
      clock, settleMs: w.settleMs, pollMs: w.intervalMs, noConparsGraceMs: w.noConparsGraceMs,
      incompleteTimeoutMs: w.incompleteTimeoutMs, signal: this.d.signal, early: true, lookAgain: tracked.lookAgain,
      // A whole file is queued next; any other look leaves it waiting: either way its place is known.
      onLook: (look) => { if (look.state !== 'complete') this.looked.get(path)?.(); },
    }, tracked.row.firstSeenAt);
    if (readiness.status === 'aborted') return; // stays waiting in the ledger: resumed next start
    if (readiness.status === 'gone') {
      this.forget(path);
      const row = await record(name, () => ledger.markSkipped(tracked.row.id, 'the file disappeared before it was complete'));
      logger.warn(`${name}: disappeared before it was complete; skipped`);
      events.emit('file:skipped', row, path, 'gone');
      return;
    }
    if (readiness.status === 'failed') {
      const row = await record(name, () => ledger.markFailed(tracked.row.id, { code: readiness.code, message: readiness.reason }));
      logger.error(`${name}: ${readiness.reason}`);
      events.emit('job:failed', row, { code: readiness.code, message: readiness.reason });
      await fileDropIfAny(row, this.d.config.paths.dropDir, logger, 'failed', readiness.reason);
      this.forget(path);
      return;
    }
    // A triggered file needs no settle interval; a watcher-found one waits for it from here, on
    // the service's timers (a wall-clock step cannot cut it short), unless a trigger ends it.
    // Either way the job checks the raw file is unchanged just before the first final name.
    tracked.settle = new SettleWait(clock, readiness.settled || tracked.triggered ? 0 : w.settleMs);
    tracked.unsettled = { size: readiness.size, mtimeMs: readiness.mtimeMs, identity: readiness.identity, heldStill: tracked.settle.heldStill };
    for (const warning of readiness.warnings) logger.warn(`${name}: ${warning}`);
    const completeAt = clock.now();
    await record(name, () => ledger.setDetails(tracked.row.id, { size: readiness.size, mtimeMs: readiness.mtimeMs, completeAt, warnings: readiness.warnings }));
    tracked.row = await record(name, () => ledger.markQueued(tracked.row.id));
    events.emit('file:ready', tracked.row);
    this.d.enqueue(tracked, this.job(path, tracked));
  }

  /** The file needs nothing more (its first look, if still pending, counts as done). */
  private forget(path: string): void {
    this.looked.get(path)?.();
    this.looked.delete(path);
    this.d.tracked.delete(path);
  }
}
