/**
 * The dataman service, the only composition root (STYLE §1): the three sources (watcher, UDP
 * trigger, drop folder) and the catch-up scan feed one `Intake`, which waits until a file is
 * complete and queues it in its lane (a new exposure never waits for background work, jobs/lanes.ts);
 * the queue runs each through the `JobRunner` on worker threads; the ledger records every step. This file only wires them. Each resource pushes its release function as it starts; stop
 * runs them in reverse.
 */
import { EventEmitter } from 'node:events';
import { mkdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import type { DatamanConfig } from '../ops/config.js';
import { type ServiceClock, systemClock } from '../base/clock.js';
import { createLoggerFromConfig, type Logger, type RootLogger } from '../ops/logger.js';
import { openLedger, type Ledger, type LedgerOptions, type LedgerOrigin, type LedgerRow } from './ledger/ledger.js';
import { whenLedgerWritable } from './ledger/ledger-availability.js';
import type { FsPort } from './jobs/deliver.js';
import { RawWatcher, scanOnce, type RawSource } from './discovery/watcher.js';
import { RawFolderPoller } from './discovery/raw-poller.js';
import { UdpTrigger, triggerOptionsFromConfig } from './discovery/udp-trigger.js';
import { Intake, type TrackedFile } from './discovery/intake.js';
import { ensureDropFolders } from './discovery/drop-folder.js';
import { WorkerPool } from './jobs/worker-pool.js';
import { JobRunner } from './jobs/queued-job.js';
import { LaneQueue, laneShares, yieldingFs } from './jobs/lanes.js';
import { nodeFsPort } from './jobs/deliver.js';
import { CatchUpProgress, catchUpOrder } from './discovery/catch-up.js';
import { removeStaleTemps } from './jobs/recovery.js';
import type { CatchUpStatus, QueueDepth, ServiceEvents } from './events.js';
import { attachMetrics } from './surface/metrics.js';
import { attachQuickLookUpdater } from './surface/quicklook-updater.js';
import { startStatusServer } from './surface/status-http.js';
import { statusSourceFor } from './surface/status-source.js';
import { checkHealth, HEALTH_PROBE, ledgerReportingTo, LiveHealth } from './surface/health.js';
import { EventLoopWatch, type EventLoopThresholds } from './surface/event-loop.js';
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
  /** Delivered files after which chokidar's watcher (`watch.usePolling: false`) is rebuilt without them (tests). @default 200 */
  watcherRebuildAfterForgets?: number;
  /** Ledger settings (tests: a short busy timeout, `onOpen` to inject faults through SQLite). */
  ledger?: Pick<LedgerOptions, 'busyTimeoutMs' | 'onOpen'>;
  /** When a blocked main thread shows on the page and becomes a health problem (§7.1). @default EVENT_LOOP_THRESHOLDS */
  eventLoop?: Partial<EventLoopThresholds>;
  /** The raw-folder watcher counts as stale after this long without a successful poll, ms. @default 30 s, at least 10 poll intervals */
  watcherStaleMs?: number;
}

export class DatamanService extends EventEmitter<ServiceEvents> {
  readonly config: DatamanConfig;
  readonly clock: ServiceClock;
  readonly logger: Logger;
  private rootLogger!: RootLogger;
  private ledger!: Ledger;
  private pool!: WorkerPool;
  private queue!: LaneQueue;
  private catchUpProgress: CatchUpProgress | undefined;
  private trigger: UdpTrigger | undefined;
  private watcher: RawSource | undefined;
  private readonly releasers: Array<{ name: string; release: () => Promise<void> | void }> = [];
  /** Files from first report to the end of their job, by absolute path. */
  private readonly tracked = new Map<string, TrackedFile>();
  private admission!: Intake;
  private readonly abort = new AbortController();
  private readonly pattern: RegExp;
  private stopping: Promise<void> | undefined;
  private startedAt = 0;
  private udpAddress: { address: string; port: number } | undefined;
  private readonly hostId: string;
  /** Which sources are running (the status page and /healthz report a dead one). */
  private readonly alive = { watcher: false, udp: false as boolean | null, drop: null as boolean | null };
  private statusAddress: { host: string; port: number } | undefined;
  private isisAddress: { host: string; port: number } | undefined;
  /** What health knows from the inside: retrying files, ledger writes, the watcher, overdue waits. */
  readonly liveHealth: LiveHealth;
  /** How late the main thread runs (metrics, page, health). */
  readonly eventLoop: EventLoopWatch;

  private constructor(private readonly options: ServiceOptions) {
    super();
    this.config = options.config;
    this.clock = options.clock ?? systemClock;
    this.pattern = new RegExp(options.config.watch.namePattern);
    this.hostId = (options.hostName ?? hostname()).slice(0, 5);
    this.rootLogger = options.logger ?? createLoggerFromConfig(options.config, { clock: this.clock, hostName: options.hostName });
    this.logger = this.rootLogger;
    const w = options.config.watch;
    this.eventLoop = new EventLoopWatch(this.clock, options.eventLoop);
    this.liveHealth = new LiveHealth({
      eventLoop: this.eventLoop,
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

  private async startTrigger(config: DatamanConfig): Promise<void> {
    const trigger = new UdpTrigger(triggerOptionsFromConfig(config, this.logger));
    trigger.on('proc', (name) => this.admission.onTrigger(name));
    trigger.on('quit', () => void this.stop('quit'));
    trigger.on('error', (err) => {
      this.logger.error(`UDP trigger: ${err.message}`);
    });
    this.udpAddress = await trigger.start();
    this.trigger = trigger;
    this.alive.udp = true;
    this.onRelease('UDP trigger', () => { this.alive.udp = false; return trigger.stop(); });
    this.logger.info(`${this.hostId} dataMan server started on ${this.udpAddress.address}:${this.udpAddress.port}`);
  }

  private async startParts(): Promise<void> {
    const { config } = this;
    this.startedAt = this.clock.now();
    this.onRelease('logger', () => this.rootLogger.close());
    this.eventLoop.start();
    this.onRelease('event-loop watch', () => this.eventLoop.stop());
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
    const shares = laneShares(config.queue.concurrency);
    this.pool = new WorkerPool(shares.workers);
    this.onRelease('workers', () => this.pool.close());
    // While a new exposure is in flight, background jobs pause: their processing at its next
    // checkpoint (the pool's hold), their bulk reads, writes and flushes in `yieldingFs`.
    this.queue = new LaneQueue(shares, (busy) => this.pool.holdYieldingJobs(busy));
    this.composeIntakeAndJobs();
    // Attached before any intake so that no delivery is missed.
    const quickLooks = attachQuickLookUpdater(this, { dir: config.paths.quickLookDir, logger: this.logger.child('quicklook') });
    this.onRelease('quick looks', async () => { await quickLooks.detach(); await quickLooks.idle(); });
    // One status source, so that /healthz, the page and the metrics agree on each problem's `since`.
    const status = statusSourceFor(this, { quickLookDir: quickLooks.dir });
    const metrics = attachMetrics(this, { health: () => checkHealth(status), eventLoop: this.eventLoop });
    this.onRelease('metrics', () => metrics.detach());
    const nightLog = attachNightLog(this, config.paths.nightLogDir, this.logger.child('nightlog'));
    this.onRelease('night log', async () => { nightLog.detach(); await nightLog.idle(); });
    if (config.isis.enabled) {
      // Optional caliban-era ISIS node; before any intake, like the listeners above, so that no
      // delivery misses its LASTFILE push.
      const isis = await startIsisLink({
        config: config.isis, events: this, status, timers: this.clock, logger: this.logger.child('isis'), repoDir: config.paths.repoDir,
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
    // So is a health check's writability probe (the soak's SIGKILL found one).
    for (const probe of await removeStaleTemps([config.paths.repoDir], HEALTH_PROBE, this.clock.now(), this.startedAt)) {
      this.logger.info(`Removed ${probe}, left by a run that stopped while checking that repoDir is writable`);
    }
    // The catch-up (behaviour.md §2.4), in the background lane: work left by the last run first,
    // then (once the UDP trigger listens, below) anything new on disk within the catch-up window,
    // newest exposure first, then the drop folder. Background jobs wait until each of these files
    // had its first look, so that this order holds from the first job (whole files are queued in
    // whatever order their looks end).
    const releaseBackground = this.queue.holdBackground();
    const catchUp = new CatchUpProgress(this, () => this.clock.now(), this.logger);
    this.catchUpProgress = catchUp;
    this.onRelease('catch-up', () => catchUp.close());
    const backlog: TrackedFile[] = [];
    const take = (path: string, origin: LedgerOrigin, existing?: LedgerRow) => {
      const tracked = this.admission.take(path, origin, existing);
      if (tracked === undefined) return;
      backlog.push(tracked);
      if (origin !== 'drop') catchUp.add(tracked.row.path);
    };
    for (const row of this.ledger.interrupted()) {
      this.logger.info(`Resuming ${basename(row.path)} (${row.state} when the service last stopped)`);
      take(row.path, row.origin, row);
    }

    if (config.server.udpTrigger) {
      await this.startTrigger(config);
    } else {
      this.alive.udp = null; // not configured, as a drop folder may not be
      this.logger.info(`${this.hostId} dataMan server started without a UDP trigger (server.udpTrigger off${config.shadow ? ', a shadow' : ''}): the watcher finds the files`);
    }
    if (config.http.enabled) {
      const server = await startStatusServer(status, metrics.registry, {
        host: config.http.host, port: config.http.port, logger: this.logger.child('http'),
      });
      this.statusAddress = server.address;
      this.onRelease('status page', () => server.close());
      this.logger.info(`Status page on http://${server.address.host}:${server.address.port}/`);
    }
    // The catch-up scan once the trigger listens (an observer's next frame does not wait on a
    // listing of the raw folders) and before the watcher's first look (which would otherwise
    // take a file written just before the start for a new exposure).
    const since = this.clock.now() - config.watch.catchUpHours * 3600_000;
    const scan = await scanOnce(channelDirs, this.pattern, since);
    for (const p of scan.problems) this.logger.warn(`catch-up scan: ${p}`);
    for (const f of catchUpOrder(scan.files)) take(f.path, 'catchup');
    catchUp.begin();
    if (config.paths.dropDir) {
      const drops = await scanOnce([config.paths.dropDir], this.pattern, 0);
      for (const f of drops.files) take(f.path, 'drop');
    }
    void Promise.all(backlog.map((t) => t.firstLook)).then(releaseBackground);

    // Files older than the catch-up window (at least 6 h, for clock skew between the camera
    // computer and this one) are long done, and delivered ones are forgotten: neither is polled.
    // Polling (NFS): the poller, whose cost follows new files and whose start does not wait for
    // a listing; inotify (a local disk): chokidar (behaviour.md §2.1). Both compare mtimes with
    // the system clock (the kernel's, which sets them), not the service's.
    const ignoreOlderThanMs = Math.max(config.watch.catchUpHours, 6) * 3600_000;
    const watcher: RawSource = config.watch.usePolling
      ? new RawFolderPoller({ folders: channelDirs, intervalMs: config.watch.intervalMs, namePattern: this.pattern, ignoreOlderThanMs })
      : new RawWatcher({
        folders: channelDirs, usePolling: false, intervalMs: config.watch.intervalMs, namePattern: this.pattern,
        ignoreOlderThanMs, rebuildAfterForgets: this.options.watcherRebuildAfterForgets,
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
  }

  /** The intake hands each complete file's job to the queue and hears how it ended (changed on disk: waited for again). */
  private composeIntakeAndJobs(): void {
    const common = {
      config: this.config, ledger: this.ledger, clock: this.clock, logger: this.logger, events: this as EventEmitter<ServiceEvents>,
      signal: this.abort.signal, isStopping: () => this.stopping !== undefined,
      record: <T>(what: string, fn: () => T, failed?: unknown) => this.record(what, fn, failed),
    };
    const jobs = new JobRunner({
      ...common, pool: this.pool, fs: this.options.fs, random: this.options.random ?? Math.random, runningSinceMs: this.startedAt,
      health: this.liveHealth, notifyDelivered: (row, result) => this.notify('delivery:done', row, result),
      // A background job's repository copy pauses while a new exposure is in flight (behaviour.md §2.6).
      backgroundFs: yieldingFs(this.options.fs ?? nodeFsPort, () => this.queue.freshIdle()),
      forgetWatched: (path) => { this.watcher?.forget(path).catch((err: Error) => this.logger.error(`watcher: ${err.message}`)); },
    });
    this.admission = new Intake({
      ...common, tracked: this.tracked, pattern: this.pattern,
      enqueue: (tracked, job) => this.queue.add(tracked, job),
      reconsider: (tracked) => this.queue.reconsider(tracked),
      runJob: (path, tracked) => jobs.run(path, tracked),
    });
  }

  /** The bound UDP address (port 0 in tests picks a free one). */
  get udp(): { address: string; port: number } | undefined {
    return this.udpAddress;
  }

  /** Which sources are running: the watcher, the UDP trigger, the drop folder (null: none configured). */
  sourcesAlive(): { watcher: boolean; udp: boolean | null; drop: boolean | null } {
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

  /** The start's catch-up and the background backlog (status page, status.json, /metrics). */
  get catchUp(): CatchUpStatus | undefined {
    const backlog = [...this.tracked.values()].filter((t) => t.lane === 'background').length;
    return this.catchUpProgress?.status(backlog);
  }

  /**
   * A file reported by a source. Raw files already delivered are skipped (a repeated trigger);
   * a file already being handled only has its priority raised. Drop-folder files always run.
   */
  intake(path: string, origin: LedgerOrigin, existing?: LedgerRow): void {
    this.admission.take(path, origin, existing);
  }

  /** One ledger operation, waited for while the ledger is unavailable (see `whenLedgerWritable`). */
  private record<T>(what: string, fn: () => T, failed?: unknown): Promise<T> {
    return whenLedgerWritable(fn, { clock: this.clock, logger: this.logger, what, signal: this.abort.signal, random: this.options.random, failed });
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
