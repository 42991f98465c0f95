/**
 * Health derived from what the service is failing to do, not only from what is alive: a file
 * retrying a transient delivery error, a disk without room for the next file, a ledger that
 * cannot be written, a watcher that stopped polling, files waiting past their completeness
 * timeout — besides dead sources and an unwritable repoDir. `/healthz`, `status.json`, the
 * page's banner and the `dataman_health_problem` metric all read `checkHealth`.
 *
 * Nothing is latched: each check asks again, so a problem clears by itself once its cause has
 * gone. Only its first-seen time is remembered, for `since`.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, statfs, unlink } from 'node:fs/promises';
import { dirname, join, relative, isAbsolute } from 'node:path';
import type { Clock } from '../../base/clock.js';
import type { Ledger, LedgerRow } from '../ledger/ledger.js';
import { isLedgerUnavailable } from '../ledger/ledger-availability.js';
import type { PollAge } from '../discovery/watcher.js';

/** One reason the service is not doing its job. */
export interface HealthProblem {
  /** Kebab-case kind, one of `HEALTH_CODES`. */
  code: string;
  /** One line, for people: what and where. */
  message: string;
  /** When it began (or was first noticed), ISO-8601 UTC. */
  since: string;
  /** The file concerned, when there is one. */
  file?: string;
  /** Processing attempts so far (a retrying delivery). */
  attempts?: number;
  /** The operating-system error, e.g. `ENOSPC`. */
  errno?: string;
}

export interface HealthReport {
  ok: boolean;
  problems: HealthProblem[];
}

/** Every kind of problem; the metric exports each, 0 or 1, so that an alert can name one. */
export const HEALTH_CODES = [
  'source-dead', 'repo-unwritable', 'ledger-unavailable', 'disk-low', 'delivery-retrying', 'watcher-stale', 'completeness-overdue',
  'event-loop-stalled',
] as const;
export type HealthCode = (typeof HEALTH_CODES)[number];

/** A problem before its `since` is known: `sinceMs` when the cause says, else first seen by a check. */
export interface Finding extends Omit<HealthProblem, 'since'> {
  code: HealthCode;
  sinceMs?: number;
}

/** What the running service itself knows of its health (the rest is checked on disk). */
export interface LiveHealthSource {
  findings(): Finding[];
  /** Bytes the next file needs on each of repoDir and procDir (0 when nothing tells). */
  nextFileBytes(): number;
}

/** A processed file is about three times its raw file (the MERGED float image): 51.7 MB raw → 154 MB. */
export const PROCESSED_BYTES_PER_RAW_BYTE = 3;

export interface LiveHealthOptions {
  clock: Clock;
  repoDir: string;
  procDir: string;
  /** How long ago the raw-folder watcher last reached its folders (undefined: not running). */
  watcherLastPoll: () => PollAge | undefined;
  /** A watcher whose last successful poll is older than this is stale, ms. */
  watcherStaleMs: number;
  /** Files being waited for, queued or running (the service's tracked rows). */
  tracked: () => Iterable<LedgerRow>;
  /** The readiness timeout, and how late its last look may come after it (poll and settle), ms. */
  incompleteTimeoutMs: number;
  incompleteGraceMs: number;
  /** The main thread's stalls (event-loop.ts), when watched. */
  eventLoop?: { findings(): Finding[] };
}

interface Retrying {
  row: LedgerRow;
  errno: string | undefined;
  /** Where, e.g. `repoDir /newdata`, and the delivery step when known. */
  where: string;
  sinceMs: number;
}

/** The service's own part of health, fed by its jobs and its ledger. */
export class LiveHealth implements LiveHealthSource {
  private readonly retrying = new Map<number, Retrying>();
  private ledgerFailure: { sinceMs: number; message: string } | undefined;
  private lastDeliveredBytes = 0;

  constructor(private readonly o: LiveHealthOptions) {}

  /** A job's transient failure, retried after a back-off. */
  retried(row: LedgerRow, err: Error): void {
    // A DeliveryError carries errno, path and step; a processing error only its code (`processing-ENOSPC`).
    const e = err as { errno?: unknown; code?: unknown; path?: unknown; step?: unknown };
    const errno = [e.errno, e.code].find((c): c is string => typeof c === 'string' && /^E[A-Z0-9]+$/.test(c))
      ?? (typeof e.code === 'string' ? /E[A-Z0-9]+$/.exec(e.code)?.[0] : undefined);
    const folder = typeof e.path === 'string' ? this.folderOf(e.path) : 'processing';
    const where = typeof e.step === 'string' ? `${folder} (${e.step})` : folder;
    const previous = this.retrying.get(row.id);
    this.retrying.set(row.id, { row, errno, where, sinceMs: previous?.sinceMs ?? this.o.clock.now() });
  }

  /** The job ended (delivered, failed, waited for again, left for the next start). */
  ended(rowId: number): void {
    this.retrying.delete(rowId);
  }

  delivered(bytes: number): void {
    this.lastDeliveredBytes = bytes;
  }

  /** A ledger call failed with a cause that may clear by itself (locked, full, read-only). */
  ledgerFailed(message: string): void {
    this.ledgerFailure ??= { sinceMs: this.o.clock.now(), message };
    this.ledgerFailure.message = message;
  }

  ledgerWritten(): void {
    this.ledgerFailure = undefined;
  }

  findings(): Finding[] {
    const now = this.o.clock.now();
    const found: Finding[] = [];
    for (const r of this.retrying.values()) {
      found.push({
        code: 'delivery-retrying', file: r.row.name, attempts: r.row.attempts, sinceMs: r.sinceMs, ...(r.errno ? { errno: r.errno } : {}),
        message: `${r.row.name} ${r.errno ?? r.row.errorCode ?? 'error'} in ${r.where}, ${r.row.attempts} attempt(s)`,
      });
    }
    if (this.ledgerFailure) found.push({ code: 'ledger-unavailable', sinceMs: this.ledgerFailure.sinceMs, message: `writes fail: ${this.ledgerFailure.message}` });
    const poll = this.o.watcherLastPoll();
    if (poll !== undefined && poll.ageMs > this.o.watcherStaleMs) {
      found.push({
        code: 'watcher-stale', sinceMs: now - poll.ageMs + this.o.watcherStaleMs,
        message: `no successful poll of ${poll.unreachable.join(', ')} for ${Math.round(poll.ageMs / 1000)} s${poll.everOk ? '' : ' (none since start)'}`,
      });
    }
    found.push(...(this.o.eventLoop?.findings() ?? []));
    const overdueAfter = this.o.incompleteTimeoutMs + this.o.incompleteGraceMs;
    for (const row of this.o.tracked()) {
      if ((row.state === 'seen' || row.state === 'waiting') && now - row.firstSeenAt > overdueAfter) {
        found.push({
          code: 'completeness-overdue', file: row.name, sinceMs: row.firstSeenAt + overdueAfter,
          message: `${row.name} still waiting to be complete ${Math.round((now - row.firstSeenAt) / 1000)} s after it was found (timeout ${Math.round(this.o.incompleteTimeoutMs / 1000)} s)`,
        });
      }
    }
    return found;
  }

  nextFileBytes(): number {
    let largest = 0;
    for (const row of this.o.tracked()) largest = Math.max(largest, (row.size ?? 0) * PROCESSED_BYTES_PER_RAW_BYTE);
    return largest > 0 ? largest : this.lastDeliveredBytes;
  }

  private folderOf(path: string): string {
    for (const [name, dir] of [['repoDir', this.o.repoDir], ['procDir', this.o.procDir]] as const) {
      const rel = relative(dir, path);
      if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) return `${name} ${dir}`;
    }
    return dirname(path);
  }
}

/** Write methods of the ledger: their success means the ledger is writable again. */
const LEDGER_WRITES = new Set<string>(['note', 'markWaiting', 'markQueued', 'markProcessing', 'markDelivered', 'markFailed', 'markSkipped', 'recordRetry', 'setDetails']);

/** The ledger, telling `health` when a call fails for a cause that may clear and when a write works again. */
export function ledgerReportingTo(ledger: Ledger, health: Pick<LiveHealth, 'ledgerFailed' | 'ledgerWritten'>): Ledger {
  return new Proxy(ledger, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function' || typeof key !== 'string' || key === 'close') return value;
      return (...args: unknown[]) => {
        try {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (LEDGER_WRITES.has(key)) health.ledgerWritten();
          return result;
        } catch (err) {
          if (isLedgerUnavailable(err)) health.ledgerFailed((err as Error).message);
          throw err;
        }
      };
    },
  });
}

/** What a health check reads of the service (the status source is one). */
export interface HealthSubject {
  now(): number;
  sources(): { watcher: boolean; udp: boolean | null; drop: boolean | null };
  readonly ledger: Pick<Ledger, 'recent'>;
  readonly repoDir: string;
  readonly procDir: string;
  /** What the service knows of its own health; none for a bare source. */
  readonly health?: LiveHealthSource | undefined;
}

/** First-seen times of the problems found by the last check of each source, by key. */
const firstSeen = new WeakMap<HealthSubject, Map<string, number>>();

/**
 * Checks everything: the sources alive, the ledger answering, repoDir writable, room on repoDir
 * and procDir for the next file, and what the service reports itself (`source.health`). Never
 * throws. Writability is tested by creating and removing a dot-file (the archive ingester ignores
 * dot-files): `access(W_OK)` alone says yes to root on any mode and to a regular file standing
 * where the folder should be.
 */
export async function checkHealth(source: HealthSubject): Promise<HealthReport> {
  const found: Finding[] = [];
  const alive = source.sources();
  const dead = (what: string) => found.push({ code: 'source-dead', message: `the ${what} is not running` });
  if (!alive.watcher) dead('raw-folder watcher');
  if (alive.udp === false) dead('UDP trigger listener');
  if (alive.drop === false) dead('drop-folder watcher');
  try {
    source.ledger.recent(1);
  } catch (err) {
    found.push({ code: 'ledger-unavailable', message: `cannot read the ledger: ${(err as Error).message}` });
  }
  const unwritable = await repoDirWritable(source.repoDir);
  if (unwritable !== null) found.push({ code: 'repo-unwritable', message: `repoDir ${source.repoDir} is not writable: ${unwritable}` });
  const needs = source.health?.nextFileBytes() ?? 0;
  for (const [name, dir] of [['repoDir', source.repoDir], ['procDir', source.procDir]] as const) {
    const free = await statfs(dir).then((s) => s.bavail * s.bsize, () => undefined);
    // An unreadable folder is repo-unwritable or fails the delivery; a full one is low whatever comes next.
    if (free !== undefined && (free < needs || free === 0)) {
      found.push({ code: 'disk-low', message: `${name} ${dir} has ${megabytes(free)} free, the next file needs ${megabytes(needs)}` });
    }
  }
  found.push(...(source.health?.findings() ?? []));
  return report(source, found);
}

function report(source: HealthSubject, found: Finding[]): HealthReport {
  const now = source.now();
  const before = firstSeen.get(source) ?? new Map<string, number>();
  const seen = new Map<string, number>();
  const problems = found.map(({ sinceMs, ...f }): HealthProblem => {
    const key = `${f.code}\n${f.file ?? ''}\n${f.file === undefined ? f.message.split(' ', 2).join(' ') : ''}`;
    const since = sinceMs ?? before.get(key) ?? now;
    seen.set(key, since);
    return { ...f, message: f.message.replace(/\s+/g, ' ').trim(), since: new Date(since).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  });
  firstSeen.set(source, seen);
  return { ok: problems.length === 0, problems };
}

/** `/healthz`'s one line: `unhealthy: <code> <message> since <time>; …`. */
export function healthLine(health: HealthReport): string {
  if (health.ok) return 'ok';
  return `unhealthy: ${health.problems.map((p) => `${p.code} ${p.message} since ${p.since}`).join('; ')}`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * The writability probe's name in repoDir, `.<HEALTH_PROBE>.<random>`: a dot-file the archive
 * ingester ignores. One left by a killed run is removed at the next start.
 */
export const HEALTH_PROBE = 'dataman-healthz';

/** null when a file can be created in `dir`, else why not. */
export async function repoDirWritable(dir: string): Promise<string | null> {
  const probe = join(dir, `.${HEALTH_PROBE}.${randomBytes(6).toString('hex')}`);
  try {
    await access(dir, constants.W_OK);
    const handle = await open(probe, 'wx', 0o600);
    await handle.close();
  } catch (err) {
    return (err as Error).message;
  }
  try {
    await unlink(probe);
  } catch (err) {
    return `created ${probe} but cannot remove it: ${(err as Error).message}`;
  }
  return null;
}
