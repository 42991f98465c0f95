/**
 * What the operator commands (`status`, `requeue`, `replay`) share: the configuration and the
 * ledger they read directly (so that they work while the service is down), the test of whether
 * the service is running, copying a file into the drop folder, and processing raw files in place
 * exactly as the service does (`runJob`), recording everything in the same ledger.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { constants, copyFile, link, readFile, stat, unlink } from 'node:fs/promises';
import { isIP } from 'node:net';
import { basename, join, relative, resolve, isAbsolute } from 'node:path';
import type { CliContext } from './context.js';
import { configPath } from './commands/serve.js';
import { ConfigError } from '../ops/config-error.js';
import { DatamanError, isFsError } from '../errors.js';
import { type DatamanConfig, loadConfig } from '../ops/config.js';
import { systemClock } from '../base/clock.js';
import { localParts } from '../base/local-time.js';
import { createLoggerFromConfig, type RootLogger } from '../ops/logger.js';
import { openLedger, type Ledger, type LedgerRow } from '../service/ledger/ledger.js';
import { nameParts, runJob, sha256File, type JobContext } from '../service/jobs/job.js';
import { lookAt } from '../service/discovery/readiness.js';
import { WorkerPool } from '../service/jobs/worker-pool.js';
import { workerOptionsFrom } from '../service/jobs/queued-job.js';

export { inLanes } from './lanes.js';
export { positiveInteger } from './options.js';

/** Name of the ledger file in `paths.stateDir` (the service's default). */
export const LEDGER_FILE = 'ledger.sqlite';

/** Loads the configuration a command names (--config, else $DATAMAN_CONFIG, else the reference's). */
export function operatorConfig(ctx: CliContext, option: string | undefined): Promise<DatamanConfig> {
  return loadConfig(configPath(ctx, option));
}

/**
 * Opens the service's ledger. With `mustExist` (for commands that only read), a missing ledger
 * file is a `ConfigError` instead of a new empty ledger: it almost always means a configuration
 * whose `paths.stateDir` is not the service's. SQLite WAL lets this connection read while the
 * service writes; the ledger's busy timeout covers the moments both write.
 */
export function openOperatorLedger(config: DatamanConfig, options: { mustExist: boolean }): Ledger {
  const file = join(config.paths.stateDir, LEDGER_FILE);
  if (options.mustExist && !existsSync(file)) {
    throw new ConfigError(`no ledger ${file}`, {
      hint: `has the service run with ${config.file ?? 'this configuration'}? The ledger is in paths.stateDir`,
    });
  }
  return openLedger(config.paths.stateDir, { clock: systemClock, fileName: LEDGER_FILE });
}

/** `address:port` of the configured UDP trigger. */
export function udpAddress(config: DatamanConfig): string {
  const { ipAddr, ipPort } = config.server;
  return isIP(ipAddr) === 6 ? `[${ipAddr}]:${ipPort}` : `${ipAddr}:${ipPort}`;
}

/** What `serviceRunning` checks, for the commands' help texts. */
export const SERVICE_RUNNING_HELP = [
  'The service counts as running when the configured UDP trigger port (server.ipAddr:ipPort)',
  'is already bound on this host: a test bind fails with EADDRINUSE, whatever program holds it.',
].join('\n');

/**
 * Whether the dataman service (or anything else, such as the reference dataMan) holds the
 * configured UDP trigger port: a test bind of `server.ipAddr:ipPort` that fails with
 * `EADDRINUSE` means running. This needs no pid file and no HTTP page, and a killed service
 * releases the port at once, so it never reports a dead service as running.
 *
 * Port 0 (tests) names no fixed port and an address not on this host (`EADDRNOTAVAIL`) cannot
 * have the service here: both count as not running. Any other bind error is thrown.
 */
export async function serviceRunning(config: DatamanConfig): Promise<boolean> {
  const { ipAddr, ipPort } = config.server;
  if (ipPort === 0) return false;
  const socket = createSocket({ type: isIP(ipAddr) === 6 ? 'udp6' : 'udp4' });
  const closeQuietly = () => {
    try {
      socket.close();
    } catch {
      // A socket whose bind failed may already be closed: nothing to release.
    }
  };
  return new Promise<boolean>((resolvePromise, reject) => {
    socket.once('error', (err: NodeJS.ErrnoException) => {
      closeQuietly();
      if (err.code === 'EADDRINUSE') resolvePromise(true);
      else if (err.code === 'EADDRNOTAVAIL') resolvePromise(false);
      else reject(new ConfigError(`cannot tell whether the service is running: test bind of UDP ${udpAddress(config)} failed: ${err.message}`, { cause: err }));
    });
    socket.bind({ port: ipPort, address: ipAddr, exclusive: true }, () => {
      socket.close(() => resolvePromise(false));
    });
  });
}

/**
 * Failed jobs that are still the last word on their file: a failure counts while the newest job
 * of that base name is that failed job. A file reprocessed since (delivered, or queued again)
 * no longer counts; of several failures of one file only the newest is listed. Newest first.
 */
export function outstandingFailures(ledger: Ledger, cap = 1000): { outstanding: LedgerRow[]; superseded: number } {
  const failed = ledger.failures(cap);
  const outstanding: LedgerRow[] = [];
  for (const row of failed) {
    if (ledger.newestIdByName(row.name) === row.id) outstanding.push(row);
  }
  return { outstanding, superseded: failed.length - outstanding.length };
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}

/**
 * The raw file an operator names: an argument with a `/` is a path (relative to the working
 * folder); a bare name is looked up under `<dataDir>/<chan>/` (the channel from the name), then
 * in the working folder. Throws a `DatamanError` saying where it looked.
 */
export async function resolveRawFile(config: DatamanConfig, arg: string, cwd: string): Promise<string> {
  if (arg.includes('/')) {
    const path = resolve(cwd, arg);
    if (!(await isFile(path))) throw new DatamanError('not-found', `${arg}: no such file (${path})`);
    return path;
  }
  // The channel only from a name that is a raw name: anything else is looked for here only.
  const channel = new RegExp(config.watch.namePattern).exec(arg)?.[1]?.toLowerCase() ?? null;
  const candidates = [
    ...(channel !== null ? [join(config.paths.dataDir, channel, arg)] : []),
    resolve(cwd, arg),
  ];
  for (const c of candidates) if (await isFile(c)) return c;
  throw new DatamanError('not-found', `${arg}: no such file (looked for ${candidates.join(' and ')})`);
}

/**
 * The file to process again for a failed job: the raw file of a raw-file job; for a drop job
 * (whose file the service moved to `<dropDir>/failed/`), the raw file `<dataDir>/<chan>/<name>`
 * if there is one — the operator's fix is usually there — else the filed copy in `failed/`.
 */
export async function sourceOfFailure(config: DatamanConfig, row: LedgerRow): Promise<string> {
  const dropDir = config.paths.dropDir;
  const candidates: string[] = [];
  if (row.origin !== 'drop' || dropDir === undefined || !isInside(row.path, dropDir)) candidates.push(row.path);
  if (row.channel !== null) candidates.push(join(config.paths.dataDir, row.channel, row.name));
  if (dropDir !== undefined) candidates.push(join(dropDir, 'failed', row.name));
  for (const c of [...new Set(candidates)]) if (await isFile(c)) return c;
  throw new DatamanError('not-found', `${row.name} (failed job ${row.id}): its file is gone (looked for ${[...new Set(candidates)].join(', ')})`);
}

/**
 * Copies `source` into the drop folder for the running service to reprocess. The copy is made
 * under a dot-prefixed temporary name the watcher ignores, then linked to the final name: the
 * watcher never sees half a file, and `link` never replaces an existing file. The name must
 * stay the raw name (the drop watcher only takes names matching the raw pattern), so when a file
 * of that name is already waiting: identical content is already queued (`alreadyThere`), other
 * content is refused.
 */
export async function copyIntoDropFolder(source: string, dropDir: string): Promise<{ path: string; alreadyThere: boolean }> {
  const name = basename(source);
  const target = join(dropDir, name);
  const temp = join(dropDir, `.${name}.requeue-${process.pid}-${randomBytes(4).toString('hex')}.part`);
  await copyFile(source, temp, constants.COPYFILE_EXCL);
  try {
    try {
      await link(temp, target);
      return { path: target, alreadyThere: false };
    } catch (err) {
      if (!isFsError(err) || err.code !== 'EEXIST') throw err;
      const [mine, theirs] = await Promise.all([readFile(temp), readFile(target).catch(() => undefined)]);
      if (theirs !== undefined && mine.equals(theirs)) return { path: target, alreadyThere: true };
      throw new DatamanError('drop-exists', `${target} is already waiting in the drop folder with other content; not replaced`, {
        hint: 'requeue again once the service has taken it (it moves it to done/ or failed/), or use --now',
      });
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** The result of processing one raw file in place. */
export type InPlaceOutcome =
  | { kind: 'delivered'; path: string; name: string; row: LedgerRow; deliveredName: string; warnings: string[] }
  | { kind: 'failed'; path: string; name: string; row: LedgerRow | undefined; code: string; message: string };

export interface InPlaceOptions {
  /** Worker threads, i.e. files processed at the same time. */
  concurrency: number;
  /** Attempts of a file whose failures are transient (NFS away, disk full) before giving up. @default 5 */
  maxAttempts?: number;
  /** Told of each transient failure before the retry. */
  onRetry?: (name: string, message: string, attempt: number, delayMs: number) => void;
  /** The log; by default the configured log file only (nothing on standard output). */
  logger?: RootLogger;
  /** Where a log file that cannot be written is reported. */
  stderr?: { write(text: string): unknown };
}

/**
 * Processes raw files in place, as the service would after a drop-folder request: each file gets
 * a new `drop` job in the ledger (`ledger.note(path, 'drop')`), is checked once for completeness,
 * then `runJob` processes it on a worker thread and delivers it (a delivered name is never
 * replaced: a clash gets the unique name). The raw file stays where it is and is only read.
 * Transient failures are retried with back-off up to `maxAttempts`, then recorded as failed.
 */
export class InPlaceRunner {
  private readonly abort = new AbortController();
  private readonly pattern: RegExp;
  private readonly channelLocks = new Map<string, Promise<unknown>>();

  private constructor(
    readonly config: DatamanConfig,
    readonly ledger: Ledger,
    private readonly pool: WorkerPool,
    private readonly logger: RootLogger,
    private readonly options: InPlaceOptions,
  ) {
    this.pattern = new RegExp(config.watch.namePattern);
  }

  static open(config: DatamanConfig, options: InPlaceOptions): InPlaceRunner {
    const ledger = openOperatorLedger(config, { mustExist: false });
    const sink = options.stderr ?? process.stderr;
    const logger = options.logger ?? createLoggerFromConfig(config, { console: false, stdout: sink, stderr: sink });
    return new InPlaceRunner(config, ledger, new WorkerPool(options.concurrency), logger, options);
  }

  /** Ends retries (Ctrl-C): files in progress finish or fail, nothing new should be started. */
  stop(): void {
    this.abort.abort();
  }

  get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  async run(path: string): Promise<InPlaceOutcome> {
    const { ledger } = this;
    const name = basename(path);
    const info = await stat(path).catch((err: Error) => err);
    if (info instanceof Error || !info.isFile()) {
      const message = info instanceof Error ? info.message : `${path} is not a file`;
      return { kind: 'failed', path, name, row: undefined, code: isFsError(info) ? info.code ?? 'not-found' : 'not-a-file', message };
    }
    const { channel, obsDate } = nameParts(name, this.pattern);
    let row = ledger.note(path, 'drop', { channel, obsDate, size: info.size, mtimeMs: info.mtimeMs });
    const fail = (code: string, message: string): InPlaceOutcome => {
      this.logger.error(`${name}: ${message}`);
      return { kind: 'failed', path, name, row: ledger.markFailed(row.id, { code, message }), code, message };
    };
    // One look, no settle interval: the operator names files that are finished. A file still
    // being written (or cut short) is refused rather than waited for.
    const look = await lookAt(path);
    if (look.state === 'gone') return fail('gone', `${path} disappeared`);
    if (look.state === 'incomplete') return fail('incomplete', `${name} is incomplete: ${look.reason}`);
    if (look.state === 'broken') return fail(look.error.code, look.error.message);
    const warnings = look.state === 'no-conpars' ? ['no CONPARS table; processed without it (temperatures -999.9)'] : [];
    for (const w of warnings) this.logger.warn(`${name}: ${w}`);
    ledger.setDetails(row.id, { size: look.size, mtimeMs: look.mtimeMs, completeAt: systemClock.now(), warnings });
    row = ledger.markQueued(row.id);

    // Its own signal, so that giving up on this file ends only this file's retries.
    const job = new AbortController();
    const onAbort = () => job.abort();
    this.abort.signal.addEventListener('abort', onAbort, { once: true });
    const maxAttempts = this.options.maxAttempts ?? 5;
    const ctx: JobContext = {
      config: this.config, ledger, pool: this.pool, logger: this.logger, clock: systemClock, fs: undefined,
      workerOptions: workerOptionsFrom(this.config), signal: job.signal, random: Math.random, channelLocks: this.channelLocks,
    };
    let attempts = 0;
    try {
      // No settle interval (the operator names a finished file), but the same last check as the
      // service's: the raw file must still be the one looked at when the first name is given.
      const unsettled = { size: look.size, mtimeMs: look.mtimeMs, identity: look.identity, heldStill: Promise.resolve() };
      const outcome = await runJob(ctx, row, (r, err, delayMs) => {
        attempts++;
        if (attempts >= maxAttempts) job.abort();
        else this.options.onRetry?.(name, err.message, attempts, delayMs);
      }, unsettled);
      if (outcome.kind === 'delivered') {
        // For the record, as the service does: the raw file's checksum after delivery.
        const checksum = await sha256File(path).catch((err: Error) => {
          this.logger.warn(`${name}: cannot checksum the raw file for the ledger: ${err.message}`);
          return null;
        });
        const done = checksum === null ? outcome.row : ledger.setDetails(outcome.row.id, { checksum });
        return { kind: 'delivered', path, name, row: done, deliveredName: outcome.result.deliveredName, warnings: [...warnings, ...outcome.warnings, ...outcome.result.warnings] };
      }
      if (outcome.kind === 'failed') return { kind: 'failed', path, name, row: outcome.row, code: outcome.code, message: outcome.message };
      if (outcome.kind === 'changed') return fail('changed', `${name} changed while it was processed; nothing was delivered (run again once it is finished)`);
      // Interrupted: retries ended (gave up, or Ctrl-C). Unlike the service, nobody will pick it
      // up again, so it is recorded as failed with the last error.
      const last = outcome.row.errorMessage ?? 'interrupted';
      const message = this.abort.signal.aborted ? `interrupted: ${last}` : `gave up after ${attempts} attempts: ${last}`;
      return fail(outcome.row.errorCode ?? 'interrupted', message);
    } finally {
      this.abort.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Stops the workers and closes the ledger and the log. */
  async close(): Promise<void> {
    try {
      await this.pool.close();
    } finally {
      try {
        this.ledger.close();
      } finally {
        await this.logger.close();
      }
    }
  }
}

/**
 * Runs `fn` with SIGINT/SIGTERM stopping the runner (files in progress end, no new ones start)
 * instead of killing the process: a kill would leave jobs `processing` in the ledger.
 */
export async function withInterrupts<T>(runner: InPlaceRunner, onSignal: (signal: NodeJS.Signals) => void, fn: () => Promise<T>): Promise<T> {
  const handler = (signal: NodeJS.Signals) => {
    if (!runner.stopped) onSignal(signal);
    runner.stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await fn();
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}

/** `YYYY-MM-DD hh:mm:ss` of an epoch in the configured zone (the host's by default). */
export function localTime(epochMs: number, timeZone: string | undefined): string {
  const p = localParts(epochMs, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}:${two(p.second)}`;
}
