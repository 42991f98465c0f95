/**
 * The dataman service, the only composition root (STYLE §1): the three sources (watcher, UDP
 * trigger, drop folder) and the catch-up scan feed one intake; intake waits until a file is
 * complete and queues it (a UDP trigger jumps the queue); the queue runs jobs on worker threads;
 * the ledger records every step. Each resource pushes its release function as it starts; stop
 * runs them in reverse.
 */
import { EventEmitter } from 'node:events';
import { mkdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import PQueue from 'p-queue';
import type { DatamanConfig } from '../ops/config.js';
import { DatamanError } from '../errors.js';
import { type ServiceClock, systemClock } from '../base/clock.js';
import { createLoggerFromConfig, type Logger, type RootLogger } from '../ops/logger.js';
import { isLedgerUnavailable, openLedger, whenLedgerWritable, type Ledger, type LedgerOptions, type LedgerOrigin, type LedgerRow } from './ledger/ledger.js';
import type { FsPort } from './jobs/deliver.js';
import { LookAgain, SettleWait, waitUntilReady } from './discovery/readiness.js';
import { RawWatcher, scanOnce } from './discovery/watcher.js';
import { UdpTrigger, triggerOptionsFromConfig } from './discovery/udp-trigger.js';
import { WorkerPool } from './jobs/worker-pool.js';
import { nameParts, runJob, sha256File, type JobContext, type Unsettled } from './jobs/job.js';
import { ensureDropFolders, fileDrop } from './discovery/drop-folder.js';
import { removeStaleTemps } from './jobs/recovery.js';
import type { QueueDepth, ServiceEvents } from './events.js';
import type { WorkerOptions } from './jobs/worker-protocol.js';
import { attachMetrics } from './surface/metrics.js';
import { attachQuickLookUpdater } from './surface/quicklook-updater.js';
import { startStatusServer } from './surface/status-http.js';
import { statusSourceFor } from './surface/status-source.js';
import { checkHealth, ledgerReportingTo, LiveHealth } from './surface/health.js';
import { attachNightLog } from './surface/nightlog-writer.js';
import { startIsisLink } from './surface/isis/link.js';

export interface ServiceOptions {
  config: DatamanConfig;
  clock?: ServiceClock;
  /** The log; by default the reference's log file plus standard output. */
  logger?: RootLogger;
  /** Filesystem port of delivery (fault injection in tests). */
  fs?: FsPort;
  hostName?: string;
  /** Create missing procDir, repoDir, dropDir, logDir, stateDir and channel folders (local demo). */
  createDirs?: boolean;
  /** How long stop waits for files in progress before leaving them queued for the next start, ms. @default 60000 */
  stopTimeoutMs?: number;
  random?: () => number;
  /** Delivered files after which the watcher is rebuilt without them (tests). @default 200 */
  watcherRebuildAfterForgets?: number;
  /** Ledger settings (tests: a short busy timeout, `onOpen` to inject faults through SQLite). */
  ledger?: Pick<LedgerOptions, 'busyTimeoutMs' | 'onOpen'>;
  /** The raw-folder watcher counts as stale after this long without a successful poll, ms. @default 30 s, at least 10 poll intervals */
  watcherStaleMs?: number;
}

/** Priority of queued files: a UDP trigger means an observer is waiting for that file. */
const PRIORITY = { udp: 10, drop: 5, watcher: 0, catchup: 0, cli: 5 } as const satisfies Record<LedgerOrigin, number>;

interface Tracked {
  row: LedgerRow;
  /** The raw file as read at its first whole look: the job checks it is unchanged just before the first final name. */
  unsettled?: Unsettled | undefined;
  /** Raised when a UDP trigger arrives for a file already being waited for. */
  priority: number;
  /** A UDP trigger for a file still being waited for has it looked at again at once. */
  lookAgain: LookAgain;
  /** Named by a UDP trigger: delivered without the settle interval (behaviour.md §3). */
  triggered: boolean;
  /** The settle interval of a watcher-found file, ended at once by a trigger. */
  settle?: SettleWait | undefined;
  /** Temporaries of an abandoned attempt that could not be removed: the next attempt removes them. */
  leftovers?: string[];
}

export class DatamanService extends EventEmitter<ServiceEvents> {
  readonly config: DatamanConfig;
  readonly clock: ServiceClock;
  readonly logger: Logger;
  private rootLogger!: RootLogger;
  private ledger!: Ledger;
  private pool!: WorkerPool;
  private queue!: PQueue;
  private trigger: UdpTrigger | undefined;
  private watcher: RawWatcher | undefined;
  private readonly releasers: Array<{ name: string; release: () => Promise<void> | void }> = [];
  private readonly tracked = new Map<string, Tracked>();
  /** Files reported while the ledger could not take them in, by path: the origin to note them with. */
  private readonly deferred = new Map<string, { origin: LedgerOrigin }>();
  private readonly abort = new AbortController();
  private readonly pattern: RegExp;
  private stopping: Promise<void> | undefined;
  private startedAt = 0;
  private udpAddress: { address: string; port: number } | undefined;
  private readonly hostId: string;
  private readonly channelLocks = new Map<string, Promise<unknown>>();
  /** Which sources are running (the status page and /healthz report a dead one). */
  private readonly alive = { watcher: false, udp: false, drop: null as boolean | null };
  private statusAddress: { host: string; port: number } | undefined;
  private isisAddress: { host: string; port: number } | undefined;
  /** What health knows from the inside: retrying files, ledger writes, the watcher, overdue waits. */
  readonly liveHealth: LiveHealth;

  private constructor(private readonly options: ServiceOptions) {
    super();
    this.config = options.config;
    this.clock = options.clock ?? systemClock;
    this.pattern = new RegExp(options.config.watch.namePattern);
    this.hostId = (options.hostName ?? hostname()).slice(0, 5);
    this.rootLogger = options.logger ?? createLoggerFromConfig(options.config, { clock: this.clock, hostName: options.hostName });
    this.logger = this.rootLogger;
    const w = options.config.watch;
    this.liveHealth = new LiveHealth({
      clock: this.clock, repoDir: options.config.paths.repoDir, procDir: options.config.paths.procDir,
      watcherLastPoll: () => (this.alive.watcher ? this.watcher?.lastPoll() : undefined),
      watcherStaleMs: options.watcherStaleMs ?? Math.max(30_000, 10 * w.intervalMs),
      tracked: () => [...this.tracked.values()].map((t) => t.row),
      // Readiness fails a file at its first look past the timeout; two looks' worth of slack.
      incompleteTimeoutMs: w.incompleteTimeoutMs, incompleteGraceMs: 2 * Math.max(w.intervalMs, w.settleMs) + 5000,
    });
  }

  /** Starts every part; if one fails, what already started is released again. */
  static async start(options: ServiceOptions): Promise<DatamanService> {
    const service = new DatamanService(options);
    try {
      await service.startParts();
    } catch (err) {
      service.logger.error(`dataMan server failed to start - ${(err as Error).message}`);
      await service.releaseAll();
      throw err;
    }
    return service;
  }

  private onRelease(name: string, release: () => Promise<void> | void): void {
    this.releasers.push({ name, release });
  }

  private async startParts(): Promise<void> {
    const { config } = this;
    this.startedAt = this.clock.now();
    this.onRelease('logger', () => this.rootLogger.close());
    this.logger.info(`Started ${this.hostId} dataMan server`);
    const channelDirs = config.channels.map((c) => join(config.paths.dataDir, c));
    if (this.options.createDirs) {
      for (const d of [config.paths.procDir, config.paths.repoDir, config.paths.logDir, config.paths.stateDir, ...channelDirs]) {
        await mkdir(d, { recursive: true, mode: config.delivery.dirMode });
      }
    }
    if (config.paths.dropDir) await ensureDropFolders(config.paths.dropDir, config.delivery.dirMode);
    for (const d of [config.paths.repoDir, config.paths.procDir, ...channelDirs]) {
      await stat(d).catch((err: Error) => this.logger.warn(`${d} is not available (${err.message}); files wait for it`));
    }

    // SQLite waits for a lock held by another connection (a `dataman` command) synchronously,
    // blocking the event loop: only briefly, as such writes take milliseconds. Past that, ledger
    // writes are retried with back-off (whenLedgerWritable), which does not block.
    this.ledger = ledgerReportingTo(openLedger(config.paths.stateDir, { clock: this.clock, busyTimeoutMs: 200, ...this.options.ledger }), this.liveHealth);
    this.onRelease('ledger', () => this.ledger.close());
    this.pool = new WorkerPool(config.queue.concurrency);
    this.onRelease('workers', () => this.pool.close());
    this.queue = new PQueue({ concurrency: config.queue.concurrency });
    // Attached before any intake so that no delivery is missed.
    const quickLooks = attachQuickLookUpdater(this, { dir: config.paths.quickLookDir, logger: this.logger.child('quicklook') });
    this.onRelease('quick looks', async () => { await quickLooks.detach(); await quickLooks.idle(); });
    // One status source, so that /healthz, the page and the metrics agree on each problem's `since`.
    const status = statusSourceFor(this, { quickLookDir: quickLooks.dir });
    const metrics = attachMetrics(this, { health: () => checkHealth(status) });
    this.onRelease('metrics', () => metrics.detach());
    const nightLog = attachNightLog(this, config.paths.nightLogDir, this.logger.child('nightlog'));
    this.onRelease('night log', async () => { nightLog.detach(); await nightLog.idle(); });
    if (config.isis.enabled) {
      // Optional caliban-era ISIS node; before any intake, like the listeners above, so that no
      // delivery misses its LASTFILE push.
      const isis = await startIsisLink({
        config: config.isis, events: this, status, timers: this.clock, logger: this.logger.child('isis'),
      });
      this.isisAddress = isis.address;
      this.onRelease('ISIS client', () => isis.close());
    }

    // A pointer's temporary left by a killed run (it was replacing `<CHAN>.new`) is only litter.
    for (const channel of config.channels) {
      for (const temp of await removeStaleTemps([config.paths.repoDir], `${channel.toUpperCase()}.new`, this.clock.now(), this.startedAt)) {
        this.logger.info(`Removed ${temp}, left by a run that stopped while updating the pointer`);
      }
    }
    // Work left by the last run first, then anything new on disk within the catch-up window.
    for (const row of this.ledger.interrupted()) {
      this.logger.info(`Resuming ${basename(row.path)} (${row.state} when the service last stopped)`);
      this.intake(row.path, row.origin, row);
    }
    const since = this.clock.now() - config.watch.catchUpHours * 3600_000;
    const scan = await scanOnce(channelDirs, this.pattern, since);
    for (const p of scan.problems) this.logger.warn(`catch-up scan: ${p}`);
    for (const f of scan.files) this.intake(f.path, 'catchup');
    if (config.paths.dropDir) {
      const drops = await scanOnce([config.paths.dropDir], this.pattern, 0);
      for (const f of drops.files) this.intake(f.path, 'drop');
    }

    // Files older than the catch-up window (at least 6 h, for clock skew between the camera
    // computer and this one) are long done, and delivered ones are forgotten: neither is polled.
    const watcher = new RawWatcher({
      folders: channelDirs, usePolling: config.watch.usePolling, intervalMs: config.watch.intervalMs, namePattern: this.pattern,
      ignoreOlderThanMs: Math.max(config.watch.catchUpHours, 6) * 3600_000,
      rebuildAfterForgets: this.options.watcherRebuildAfterForgets,
    });
    this.watcher = watcher;
    watcher.on('file', (p) => this.intake(p, 'watcher'));
    watcher.on('error', (err) => this.logger.error(`watcher: ${err.message}`));
    await watcher.start();
    this.alive.watcher = true;
    this.onRelease('watcher', () => { this.alive.watcher = false; return watcher.close(); });
    if (config.paths.dropDir) {
      const drop = new RawWatcher({ folders: [config.paths.dropDir], usePolling: config.watch.usePolling, intervalMs: config.watch.intervalMs, namePattern: this.pattern });
      drop.on('file', (p) => this.intake(p, 'drop'));
      drop.on('error', (err) => this.logger.error(`drop folder: ${err.message}`));
      await drop.start();
      this.alive.drop = true;
      this.onRelease('drop watcher', () => { this.alive.drop = false; return drop.close(); });
    }

    const trigger = new UdpTrigger(triggerOptionsFromConfig(config, this.logger));
    trigger.on('proc', (name) => this.onTrigger(name));
    trigger.on('quit', () => void this.stop('quit'));
    trigger.on('error', (err) => {
      this.logger.error(`UDP trigger: ${err.message}`);
    });
    this.udpAddress = await trigger.start();
    this.trigger = trigger;
    this.alive.udp = true;
    this.onRelease('UDP trigger', () => { this.alive.udp = false; return trigger.stop(); });
    this.logger.info(`${this.hostId} dataMan server started on ${this.udpAddress.address}:${this.udpAddress.port}`);
    if (config.http.enabled) {
      const server = await startStatusServer(status, metrics.registry, {
        host: config.http.host, port: config.http.port, logger: this.logger.child('http'),
      });
      this.statusAddress = server.address;
      this.onRelease('status page', () => server.close());
      this.logger.info(`Status page on http://${server.address.host}:${server.address.port}/`);
    }
  }

  /** The bound UDP address (port 0 in tests picks a free one). */
  get udp(): { address: string; port: number } | undefined {
    return this.udpAddress;
  }

  /** Which sources are running: the watcher, the UDP trigger, the drop folder (null: none configured). */
  sourcesAlive(): { watcher: boolean; udp: boolean; drop: boolean | null } {
    return { ...this.alive };
  }

  /** Raw files the watcher polls (delivered ones and those beyond the catch-up window are not). */
  watchedFiles(): number {
    return this.watcher?.watchedFiles() ?? 0;
  }

  /** The status page's bound address, when it is enabled. */
  get http(): { host: string; port: number } | undefined {
    return this.statusAddress;
  }

  /** The ISIS client's bound address, when it is enabled. */
  get isis(): { host: string; port: number } | undefined {
    return this.isisAddress;
  }

  get uptimeMs(): number {
    return this.clock.now() - this.startedAt;
  }

  get queueDepth(): QueueDepth {
    const waiting = [...this.tracked.values()].filter((t) => t.row.state === 'waiting' || t.row.state === 'seen').length;
    return { waiting, queued: this.queue.size, running: this.queue.pending };
  }

  get ledgerHandle(): Ledger {
    return this.ledger;
  }

  /** A `proc <name>` datagram: the file lives in `<dataDir>/<chan>/<name>`. */
  private onTrigger(name: string): void {
    const { channel } = nameParts(name, this.pattern);
    const path = join(this.config.paths.dataDir, channel ?? '', name);
    if (channel === null || !this.config.channels.includes(channel)) {
      this.logger.error(`proc: ${name} is not from a channel this server handles (${this.config.channels.join(', ')})`);
      return;
    }
    void stat(path).then(
      () => this.intake(path, 'udp'),
      // The reference's words; the watcher still finds the file if NFS shows it late.
      () => this.logger.error(`proc: ${path} not found`),
    );
  }

  /**
   * A file reported by a source. Raw files already delivered are skipped (a repeated trigger);
   * a file already being handled only has its priority raised. Drop-folder files always run.
   */
  intake(path: string, origin: LedgerOrigin, existing?: LedgerRow): void {
    if (this.stopping) return;
    const absolute = resolve(path);
    this.emit('file:detected', absolute, origin);
    // Called from the sources' event handlers, which must never throw (that would end the
    // process): a ledger that cannot take the file in now only delays it.
    try {
      this.admit(absolute, origin, existing);
    } catch (err) {
      if (isLedgerUnavailable(err)) this.admitLater(absolute, origin, existing, err);
      else this.logger.error(`${basename(absolute)}: internal error while taking the file in, please report: ${(err as Error).stack ?? String(err)}`);
    }
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
    void this.record(basename(path), () => this.admit(path, entry.origin, existing), failed)
      .catch((err: Error) => {
        if (this.abort.signal.aborted && isLedgerUnavailable(err)) this.logger.warn(`${basename(path)}: not taken in before shutdown (${err.message}); the next start finds it again`);
        else this.logger.error(`${basename(path)}: internal error while taking the file in, please report: ${err.stack ?? err.message}`);
      })
      .finally(() => this.deferred.delete(path));
  }

  /** One ledger operation, waited for while the ledger is unavailable (see `whenLedgerWritable`). */
  private record<T>(what: string, fn: () => T, failed?: unknown): Promise<T> {
    return whenLedgerWritable(fn, { clock: this.clock, logger: this.logger, what, signal: this.abort.signal, random: this.options.random, failed });
  }

  /** Follows a tracked file through the completeness check into the queue. */
  private follow(path: string, tracked: Tracked): void {
    void this.waitAndQueue(path, tracked).catch((err: Error) => {
      this.tracked.delete(path);
      if (this.abort.signal.aborted && isLedgerUnavailable(err)) this.logger.warn(`${basename(path)}: left for the next start (${err.message})`);
      else this.logger.error(`${basename(path)}: internal error while handling the file, please report: ${err.stack ?? err.message}`);
    });
  }

  private admit(absolute: string, origin: LedgerOrigin, existing: LedgerRow | undefined): void {
    const name = basename(absolute);
    const { channel, obsDate } = nameParts(name, this.pattern);
    if (origin !== 'drop' && existing === undefined) {
      const previous = this.ledger.latestByPath(absolute);
      if (previous?.state === 'delivered') {
        const message = `${name} was already delivered as ${previous.deliveredName ?? name}; ${origin === 'udp' ? 'repeated proc' : 'found again'} skipped`;
        if (origin === 'udp') this.logger.info(message);
        else this.logger.debug(message);
        this.emit('file:skipped', previous, absolute, 'already delivered');
        return;
      }
    }
    const known = this.tracked.get(absolute);
    if (known) {
      // Already being handled: a trigger moves it up the queue and, if it looked incomplete,
      // has it looked at again now rather than at the next poll (azcam sends the trigger once
      // the file is written).
      known.priority = Math.max(known.priority, PRIORITY[origin]);
      if (origin === 'udp') {
        known.triggered = true;
        known.lookAgain.now();
        known.settle?.end();
      }
      return;
    }
    const row = existing ?? this.ledger.note(absolute, origin, { channel, obsDate });
    const tracked: Tracked = { row, priority: PRIORITY[origin], lookAgain: new LookAgain(), triggered: origin === 'udp' };
    this.tracked.set(absolute, tracked);
    this.follow(absolute, tracked);
  }

  private async waitAndQueue(path: string, tracked: Tracked): Promise<void> {
    const name = basename(path);
    tracked.row = await this.record(name, () => this.ledger.markWaiting(tracked.row.id));
    const w = this.config.watch;
    const readiness = await waitUntilReady(path, {
      clock: this.clock, settleMs: w.settleMs, pollMs: w.intervalMs, noConparsGraceMs: w.noConparsGraceMs,
      incompleteTimeoutMs: w.incompleteTimeoutMs, signal: this.abort.signal, early: true, lookAgain: tracked.lookAgain,
    }, tracked.row.firstSeenAt);
    if (readiness.status === 'aborted') return; // stays waiting in the ledger: resumed next start
    if (readiness.status === 'gone') {
      this.tracked.delete(path);
      const row = await this.record(name, () => this.ledger.markSkipped(tracked.row.id, 'the file disappeared before it was complete'));
      this.logger.warn(`${name}: disappeared before it was complete; skipped`);
      this.emit('file:skipped', row, path, 'gone');
      return;
    }
    if (readiness.status === 'failed') {
      const row = await this.record(name, () => this.ledger.markFailed(tracked.row.id, { code: readiness.code, message: readiness.reason }));
      this.logger.error(`${name}: ${readiness.reason}`);
      this.emit('job:failed', row, { code: readiness.code, message: readiness.reason });
      await this.fileDropIfAny(row, 'failed', readiness.reason);
      this.tracked.delete(path);
      return;
    }
    // A triggered file needs no settle interval; a watcher-found one waits for it from here, on
    // the service's timers (a wall-clock step cannot cut it short), unless a trigger ends it.
    // Either way the job checks the raw file is unchanged just before the first final name.
    tracked.settle = new SettleWait(this.clock, readiness.settled || tracked.triggered ? 0 : w.settleMs);
    tracked.unsettled = { size: readiness.size, mtimeMs: readiness.mtimeMs, identity: readiness.identity, heldStill: tracked.settle.heldStill };
    for (const warning of readiness.warnings) this.logger.warn(`${name}: ${warning}`);
    const completeAt = this.clock.now();
    await this.record(name, () => this.ledger.setDetails(tracked.row.id, { size: readiness.size, mtimeMs: readiness.mtimeMs, completeAt, warnings: readiness.warnings }));
    tracked.row = await this.record(name, () => this.ledger.markQueued(tracked.row.id));
    this.emit('file:ready', tracked.row);
    void this.queue.add(() => this.runQueued(path, tracked), { priority: tracked.priority });
  }

  private async runQueued(path: string, tracked: Tracked): Promise<void> {
    if (this.stopping) return; // left queued in the ledger for the next start
    this.emit('job:start', tracked.row);
    let waitingAgain = false;
    const ctx: JobContext = {
      config: this.config, ledger: this.ledger, pool: this.pool, logger: this.logger, clock: this.clock, fs: this.options.fs,
      workerOptions: this.workerOptions(), signal: this.abort.signal, random: this.options.random ?? Math.random,
      channelLocks: this.channelLocks, runningSinceMs: this.startedAt,
    };
    try {
      const onRetry = (row: LedgerRow, err: Error, delayMs: number) => {
        this.liveHealth.retried(row, err);
        this.emit('job:retry', row, err, delayMs);
      };
      const outcome = await runJob(ctx, tracked.row, onRetry, tracked.unsettled, tracked.leftovers);
      this.liveHealth.ended(tracked.row.id); // before anyone hears of the outcome
      tracked.leftovers = undefined;
      if (outcome.kind === 'changed') {
        // Waited for again, still tracked (so a trigger meanwhile only raises its priority).
        waitingAgain = true;
        tracked.row = outcome.row;
        tracked.unsettled = undefined;
        tracked.settle = undefined;
        tracked.leftovers = outcome.leftovers;
        this.follow(path, tracked);
        return;
      }
      if (outcome.kind === 'delivered') {
        this.liveHealth.delivered(outcome.result.bytes);
        this.notify('delivery:done', outcome.row, outcome.result);
        // Delivered raw files stay in their folder for good: polling them would cost a stat per
        // file per interval, for ever. (A failed one is still watched: it may be rewritten.)
        this.watcher?.forget(path).catch((err: Error) => this.logger.error(`watcher: ${err.message}`));
        // The raw file's checksum is for the record, not for the observer: after delivery, and
        // before a drop-folder file is moved away.
        const checksum = await sha256File(path).catch((err: Error) => {
          this.logger.warn(`${basename(path)}: cannot checksum the raw file for the ledger: ${err.message}`);
          return null;
        });
        if (checksum !== null) await this.record(basename(path), () => this.ledger.setDetails(outcome.row.id, { checksum }));
        await this.fileDropIfAny(outcome.row, 'done');
      } else if (outcome.kind === 'failed') {
        this.emit('job:failed', outcome.row, { code: outcome.code, message: outcome.message });
        await this.fileDropIfAny(outcome.row, 'failed', outcome.message);
      }
    } catch (err) {
      if (this.abort.signal.aborted && isLedgerUnavailable(err)) {
        // Stopping while the ledger could not record a step: the next start resumes from the
        // last state it did record.
        this.logger.warn(`${basename(path)}: left for the next start; the ledger could not record its progress: ${(err as Error).message}`);
        return;
      }
      // runJob records every failure it expects; this is anything else (a disk error while
      // recovering, the ledger failing). The file is recorded as failed, the service goes on.
      const e = err as NodeJS.ErrnoException;
      const failure = { code: typeof e?.code === 'string' ? e.code : 'internal', message: e?.message ?? String(err) };
      this.logger.error(`${basename(path)}: ${failure.message}`);
      if (!(err instanceof DatamanError)) this.logger.error(`${basename(path)}: internal error, please report: ${e?.stack ?? failure.message}`);
      try {
        const row = await this.record(basename(path), () => this.ledger.markFailed(tracked.row.id, failure));
        this.emit('job:failed', row, failure);
      } catch (ledgerErr) {
        this.logger.error(`${basename(path)}: cannot record the failure in the ledger: ${(ledgerErr as Error).message}`);
      }
    } finally {
      this.liveHealth.ended(tracked.row.id);
      if (!waitingAgain) this.tracked.delete(path);
    }
  }

  /**
   * Calls each listener of an event that must not undo what it reports (metrics, quick looks,
   * night log, ISIS…): a listener's exception is logged and the others still run; it is never
   * taken for a failure of the file (a delivered file recorded as failed would be delivered
   * again by the next trigger).
   */
  private notify<K extends keyof ServiceEvents>(event: K, ...args: ServiceEvents[K]): void {
    // rawListeners: a `once` listener's wrapper, which removes itself when called.
    for (const listener of this.rawListeners(event) as Array<(...a: ServiceEvents[K]) => void>) {
      try {
        listener.apply(this, args);
      } catch (err) {
        const file = (args[0] as { name?: unknown } | undefined)?.name;
        this.logger.error(`${typeof file === 'string' ? `${file}: ` : ''}internal error in a ${event} listener, please report: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
  }

  private async fileDropIfAny(row: LedgerRow, outcome: 'done' | 'failed', reason?: string): Promise<void> {
    const dropDir = this.config.paths.dropDir;
    // Only files the operator put in the drop folder are moved; a reprocessing request made by
    // `requeue --now` or `replay` names the raw file itself, which is never moved.
    if (row.origin !== 'drop' || !dropDir || dirname(row.path) !== resolve(dropDir)) return;
    try {
      const where = await fileDrop(row.path, dropDir, outcome, reason);
      this.logger.info(`${basename(row.path)}: drop-folder file moved to ${where}`);
    } catch (err) {
      this.logger.error(`${basename(row.path)}: cannot move the drop-folder file to ${outcome}/: ${(err as Error).message}`);
    }
  }

  private workerOptions(): WorkerOptions {
    const c = this.config;
    return {
      steps: { ...c.processing }, site: { ...c.site }, sensors: { ...c.sensors }, defaultSensors: { ...c.defaultSensors },
      // Not flushed on the worker: the kernel writes the processed file back while the
      // repository copy is made, and delivery's flush before its name (behaviour.md §6) waits
      // only for what is left. Flushing here would put the two flushes one after the other.
      timeZone: c.timeZone, checksums: c.delivery.checksums, fsync: false,
    };
  }

  /** Resolves when nothing is waiting, queued or running (tests, `dataman replay`). */
  async idle(): Promise<void> {
    for (;;) {
      await this.queue.onIdle();
      if (this.tracked.size === 0 && this.queue.size === 0 && this.queue.pending === 0) return;
      await new Promise<void>((r) => setTimeout(r, 20));
    }
  }

  /**
   * Stops taking work, ends every wait at once (a retrying delivery's back-off among them), lets
   * files in progress finish (up to the stop timeout), leaves the rest queued in the ledger for
   * the next start, closes everything. Safe to call twice.
   */
  stop(reason = 'stop requested'): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info(`Stopping (${reason})`);
      await this.trigger?.stop().catch((err: Error) => this.logger.error(`UDP trigger: ${err.message}`));
      this.queue?.clear();
      // Waits end now (back-off of a retrying delivery, a locked ledger, files not yet complete):
      // their files stay queued or waiting in the ledger. Work in progress still runs to the end.
      this.abort.abort();
      const timeoutMs = this.options.stopTimeoutMs ?? 60_000;
      const running = this.queue?.onIdle() ?? Promise.resolve();
      let timer: unknown;
      const timedOut = await Promise.race([
        running.then(() => false),
        new Promise<boolean>((r) => { timer = setTimeout(() => r(true), timeoutMs); }),
      ]);
      clearTimeout(timer as NodeJS.Timeout);
      if (timedOut) this.logger.warn(`${this.queue.pending} file(s) still in progress after ${timeoutMs / 1000} s: left queued for the next start`);
      await this.releaseAll();
      this.emit('service:stopped', reason);
    })();
    return this.stopping;
  }

  private async releaseAll(): Promise<void> {
    for (const { name, release } of this.releasers.reverse()) {
      try {
        if (name === 'logger') this.logger.info(`Done: ${this.hostId} dataMan server shutdown complete`);
        await release();
      } catch (err) {
        this.logger.error(`stopping ${name}: ${(err as Error).message}`);
      }
    }
    this.releasers.length = 0;
  }
}
