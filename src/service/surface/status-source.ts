/**
 * What the operator surface (status page, `/status.json`, `/healthz`) reads from a running
 * service, behind one small interface so that the HTTP layer knows nothing of the service's
 * internals and a test can hand it anything that fits. `readStatus` takes one snapshot (ledger
 * queries, disk space) per request; `checkHealth` (health.ts) says whether the service can do its job.
 *
 * Nothing here is computed per page view beyond a few indexed ledger reads and two `statfs`
 * calls: quick looks are made once per delivered file by `quicklook-updater.ts`.
 */
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { CatchUpStatus, QueueDepth, ServiceView } from '../events.js';
import type { Clock } from '../../base/clock.js';
import type { DatamanConfig } from '../../ops/config.js';
import type { Ledger, LedgerCounts, LedgerRow, LedgerState } from '../ledger/ledger.js';
import type { HealthSubject, LiveHealthSource } from './health.js';
import type { EventLoopDelay, EventLoopWatch } from './event-loop.js';
import { VERSION } from '../../version.js';

export { checkHealth, healthLine, repoDirWritable, HEALTH_CODES, type HealthProblem, type HealthReport } from './health.js';

/** Whether each source of work is running; `drop` is null when no drop folder is configured. */
export interface SourcesAlive {
  watcher: boolean;
  /** null: switched off (server.udpTrigger), as a shadow runs. */
  udp: boolean | null;
  drop: boolean | null;
}


/** Everything the status page, `/status.json` and `/healthz` read. */
export interface StatusSource extends HealthSubject {
  /** dataman's version (package.json). */
  readonly version: string;
  /** The configuration file the service runs with (undefined for built-in defaults). */
  readonly configFile: string | undefined;
  /** When the service started, ms since the epoch. */
  readonly startedAt: number;
  /** The service's clock, ms since the epoch. */
  now(): number;
  /** Channel folders the service watches, e.g. `['mods1b', 'mods1r']`. */
  readonly channels: readonly string[];
  /** IANA zone for times shown on the page (the observatory's local clock). @default UTC */
  readonly timeZone?: string | undefined;
  sources(): SourcesAlive;
  queue(): QueueDepth;
  /** The start's catch-up and the background backlog (behaviour.md §2.4); undefined before the scan. */
  catchUp?(): CatchUpStatus | undefined;
  readonly ledger: Ledger;
  readonly repoDir: string;
  readonly procDir: string;
  /** Path of the latest quick-look PNG of a channel, or undefined when there is none yet. */
  quickLook(channel: string): string | undefined;
  /** Folder for the quick looks of single files (their own pages), made on first view. Without it, file pages show none. */
  readonly fileQuickLookDir?: string | undefined;
  /** The main thread's delay over the last seconds (event-loop.ts), when watched. */
  readonly eventLoop?: Pick<EventLoopWatch, 'recent'> | undefined;
}

/**
 * What `statusSourceFor` needs beyond the service's current public getters: a getter telling
 * whether the watcher, the UDP trigger and the drop-folder watcher are still running. Until the
 * service has it, sources count as alive from start until `service:stopped`.
 */
export interface SourcesAliveGetter {
  sourcesAlive?(): SourcesAlive;
  readonly liveHealth?: LiveHealthSource | undefined;
  readonly eventLoop?: EventLoopWatch | undefined;
}

/** What the status source reads from a running service. */
export interface StatusSubject extends ServiceView, SourcesAliveGetter {
  readonly uptimeMs: number;
  readonly udp: { address: string; port: number } | undefined;
  readonly config: DatamanConfig;
  readonly clock: Clock;
}

export interface StatusSourceOptions {
  /** Folder of the quick-look PNGs `<chan>.png` (the quick-look updater's `dir`). */
  quickLookDir: string;
}

/** The status source of a running service. */
export function statusSourceFor(service: StatusSubject, options: StatusSourceOptions): StatusSource {
  const { config, clock } = service;
  const startedAt = clock.now() - service.uptimeMs;
  let stopped = false;
  service.once('service:stopped', () => { stopped = true; });
  const hasDrop = config.paths.dropDir !== undefined;
  return {
    version: VERSION,
    configFile: config.file,
    startedAt,
    now: () => clock.now(),
    channels: config.channels,
    timeZone: config.timeZone,
    sources: () => service.sourcesAlive?.()
      ?? { watcher: !stopped, udp: !stopped && service.udp !== undefined, drop: hasDrop ? !stopped : null },
    queue: () => service.queueDepth,
    catchUp: () => service.catchUp,
    get ledger() { return service.ledgerHandle; },
    repoDir: config.paths.repoDir,
    procDir: config.paths.procDir,
    quickLook: (channel) => quickLookPath(options.quickLookDir, channel),
    health: service.liveHealth,
    fileQuickLookDir: join(options.quickLookDir, 'files'),
    eventLoop: service.eventLoop,
  };
}

/** `<dir>/<chan>.png` if it exists. Channel names are checked by the configuration (`[a-z0-9_-]+`). */
export function quickLookPath(dir: string, channel: string): string | undefined {
  if (!/^[a-z0-9_-]+$/i.test(channel)) return undefined;
  const path = join(dir, `${channel}.png`);
  return existsSync(path) ? path : undefined;
}

/** When a disk counts as nearly full. */
export interface DiskThresholds {
  /** Warn below this fraction of the file system free. @default 0.10 */
  minFreeFraction: number;
  /** Warn below this many bytes free. @default 20e9 (20 GB) */
  minFreeBytes: number;
}

export const DEFAULT_DISK_THRESHOLDS: DiskThresholds = Object.freeze({ minFreeFraction: 0.1, minFreeBytes: 20e9 });

export interface DiskStatus {
  /** `repoDir` or `procDir`. */
  name: string;
  path: string;
  /** Bytes available to the service (not to root), or null when `statfs` failed. */
  freeBytes: number | null;
  totalBytes: number | null;
  freeFraction: number | null;
  /** Below either threshold, or unreadable. */
  warning: boolean;
  error: string | null;
}

/** One row of the recent-files table. */
export interface FileStatus {
  id: number;
  name: string;
  channel: string | null;
  imageType: string | null;
  object: string | null;
  /** s */
  exptime: number | null;
  state: LedgerState;
  origin: string;
  /** From found complete to delivered, s. */
  latencySeconds: number | null;
  warnings: string[];
  deliveredName: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  skipReason: string | null;
  /** Last change, ms since the epoch. */
  updatedAt: number;
}

export interface StatusSnapshot {
  service: {
    version: string;
    configFile: string | null;
    startedAt: number;
    now: number;
    uptimeSeconds: number;
    channels: string[];
    timeZone: string;
  };
  sources: SourcesAlive;
  queue: QueueDepth;
  /** The start's catch-up and the background backlog, or null before the start's scan. */
  catchUp: CatchUpStatus | null;
  counts: LedgerCounts | null;
  disks: DiskStatus[];
  thresholds: DiskThresholds;
  recent: FileStatus[];
  failures: FileStatus[];
  quickLooks: Array<{ channel: string; available: boolean }>;
  /** Delivery latency of the files delivered in the last `latencyHours`, oldest first. */
  latency: LatencyPoint[];
  /** A ledger query that threw, or null. */
  ledgerError: string | null;
  /** The main thread's delay over the last seconds, ms (`high` at or above the page's threshold); null when not watched. */
  eventLoop: (EventLoopDelay & { high: boolean }) | null;
}

/** One delivered file on the latency plot. */
export interface LatencyPoint {
  name: string;
  /** Delivered, ms since the epoch. */
  deliveredAt: number;
  /** From found complete to delivered, s. */
  seconds: number;
}

export interface ReadStatusOptions {
  /** Hours of deliveries on the latency plot (a night). @default 16 */
  latencyHours?: number;
  /** At most this many deliveries (the latest) are read for the latency plot. @default 2000 */
  latencyLimit?: number;
  /** Rows in the recent-files table. @default 50 */
  recentLimit?: number;
  /** Rows in the failures table. @default 20 */
  failureLimit?: number;
  thresholds?: DiskThresholds;
}

/** One snapshot of everything the page shows. Never throws: a failing part is reported in it. */
export async function readStatus(source: StatusSource, options: ReadStatusOptions = {}): Promise<StatusSnapshot> {
  const thresholds = options.thresholds ?? DEFAULT_DISK_THRESHOLDS;
  const now = source.now();
  let ledgerError: string | null = null;
  const query = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (err) {
      ledgerError ??= (err as Error).message;
      return fallback;
    }
  };
  const counts = query(() => source.ledger.countsByState(), null);
  const recent = query(() => source.ledger.recent(options.recentLimit ?? 50), []).map(fileStatus);
  const failures = query(() => source.ledger.failures(options.failureLimit ?? 20), []).map(fileStatus);
  const since = now - (options.latencyHours ?? 16) * 3_600_000;
  const latency = query(() => source.ledger.deliveredSince(since, options.latencyLimit ?? 2000), [])
    .flatMap((r) => (r.state === 'delivered' && r.deliveredAt !== null && r.completeAt !== null && r.deliveredAt >= since
      ? [{ name: r.name, deliveredAt: r.deliveredAt, seconds: (r.deliveredAt - r.completeAt) / 1000 }] : []))
    .sort((a, b) => a.deliveredAt - b.deliveredAt);
  const disks = await Promise.all([
    diskStatus('repoDir', source.repoDir, thresholds),
    diskStatus('procDir', source.procDir, thresholds),
  ]);
  return {
    service: {
      version: source.version, configFile: source.configFile ?? null, startedAt: source.startedAt, now,
      uptimeSeconds: Math.max(0, Math.round((now - source.startedAt) / 1000)), channels: [...source.channels],
      timeZone: source.timeZone ?? 'UTC',
    },
    sources: source.sources(),
    queue: source.queue(),
    catchUp: source.catchUp?.() ?? null,
    counts,
    disks,
    thresholds,
    recent,
    failures,
    quickLooks: source.channels.map((channel) => ({ channel, available: source.quickLook(channel) !== undefined })),
    latency,
    ledgerError,
    eventLoop: source.eventLoop?.recent() ?? null,
  };
}

function fileStatus(row: LedgerRow): FileStatus {
  const latency = row.deliveredAt !== null && row.completeAt !== null ? (row.deliveredAt - row.completeAt) / 1000 : null;
  return {
    id: row.id, name: row.name, channel: row.channel, imageType: row.imageType, object: row.object, exptime: row.exptime,
    state: row.state, origin: row.origin, latencySeconds: latency, warnings: row.warnings, deliveredName: row.deliveredName,
    errorCode: row.errorCode, errorMessage: row.errorMessage, skipReason: row.skipReason, updatedAt: row.updatedAt,
  };
}

/** Free space of the file system holding `path`, with the warning flag. */
export async function diskStatus(name: string, path: string, thresholds: DiskThresholds = DEFAULT_DISK_THRESHOLDS): Promise<DiskStatus> {
  try {
    const s = await statfs(path);
    const freeBytes = s.bavail * s.bsize;
    const totalBytes = s.blocks * s.bsize;
    const freeFraction = totalBytes > 0 ? freeBytes / totalBytes : null;
    const warning = freeBytes < thresholds.minFreeBytes || (freeFraction !== null && freeFraction < thresholds.minFreeFraction);
    return { name, path, freeBytes, totalBytes, freeFraction, warning, error: null };
  } catch (err) {
    return { name, path, freeBytes: null, totalBytes: null, freeFraction: null, warning: true, error: (err as Error).message };
  }
}
