/**
 * The parts every delivery step shares (deliver.ts has the steps): the request and its options,
 * port calls that say which operation failed on which path, the handles and temporaries to
 * release when a step fails, the classification of a failure (retry or not, resume where), and
 * giving a final name without ever replacing a file (`link`, which fails with EEXIST).
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { systemClock, type Clock } from '../../base/clock.js';
import { uniqueName } from '../../steps/unique-name.js';
import { nodeFsPort, type FsHandle, type FsPort, type FsStats } from './fs-port.js';
import { DeliveryError, isTransientErrno, type DeliveryProgress, type DeliveryStep } from './delivery-errors.js';

/** One file to deliver. */
export interface DeliveryRequest {
  /**
   * The processed file, already written by the caller under a dot-prefixed temporary name in
   * the day folder `<procDir>/<obsDate>/` (see `prepareProcTemp`), so that giving it its final
   * name stays within one folder. Delivery moves it to its final name; on a failure before that
   * it is left in place for the retry.
   */
  tempPath: string;
  /** The archive's incoming folder (`/newdata`). */
  repoDir: string;
  /** The desired file name, e.g. `mods1b.20260115.0001.fits`. */
  baseName: string;
  /** Channel, e.g. `mods1b`: the pointer is `<repoDir>/MODS1B.new`. */
  channel: string;
  /** Instrument id for UNIQNAME: INSTRUME lower-cased, e.g. `mods1b`. */
  instrumentId: string;
  /** Permissions of the delivered files and the pointer, e.g. `0o644`. */
  fileMode: number;
  /** Check CHECKSUM/DATASUM of the repository copy (every HDU must carry them). */
  verifyChecksums: boolean;
  /** What an earlier, failed attempt achieved (`DeliveryError.progress`): resume after it. */
  resume?: DeliveryProgress | undefined;
}

export interface DeliveryOptions {
  /** @default nodeFsPort */
  fs?: FsPort;
  /** Local wall clock for UNIQNAME. @default systemClock */
  clock?: Clock;
  /** IANA time zone of UNIQNAME's local clock. @default the host's */
  timeZone?: string | undefined;
  /** Copy buffer size in bytes, a multiple of 4. @default 4 MiB */
  chunkBytes?: number;
  /** Names tried before giving up: the name, UNIQNAME, then UNIQNAME-2 … @default 100 */
  maxNameAttempts?: number;
  /** Random part of temporary names. @default 12 hex digits from `crypto.randomBytes` */
  randomId?: () => string;
  /** Called as each step starts (logging, events, tests). */
  onStep?: (step: DeliveryStep) => void;
}

export interface DeliveryResult {
  /** Final path of the processed copy in the day folder. */
  procPath: string;
  /** Final path of the repository copy. */
  repoPath: string;
  /** Base name of the repository copy: what `<CHAN>.new` names. */
  deliveredName: string;
  pointerPath: string;
  bytes: number;
  /** A unique name was used for the processed or the repository copy. */
  renamed: boolean;
  /**
   * Whether `<CHAN>.new` now names this file, or was kept on a later exposure (the pointer
   * rule, behaviour.md §6 step 3; pointer-rule.ts).
   */
  pointer: 'moved' | 'kept';
  /** Why, in one sentence naming both files and their DATE-OBS (for the log). */
  pointerReason: string;
  warnings: string[];
}

/**
 * `.<name>.<kind>-<random>`: dot-prefixed and not ending in `.fits`, so that neither the
 * archive ingester nor a watcher of the day folder can mistake it for a delivered file.
 */
export function tempName(name: string, kind: string, randomId: () => string): string {
  return `.${name}.${kind}-${randomId()}`;
}

/** `x.fits` → `x-2.fits` */
export function withSuffix(name: string, n: number): string {
  return n < 2 ? name : name.replace(/\.fits$/, `-${n}.fits`);
}

/** A port call that failed: which operation on which path. */
export class OpFailure extends Error {
  constructor(
    readonly op: string,
    readonly path: string,
    readonly error: unknown,
  ) {
    super(`${op} ${path}: ${describe(error)}`);
  }
}

export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A copy in the repository under its temporary name. */
export interface RepoCopy {
  temp: string;
  /** Length of the bytes read from the processed file. */
  bytes: number;
  /** Length of the processed file before the copy. */
  sourceBytes: number;
}

export const sameFile = (a: FsStats, b: FsStats) => a.ino === b.ino && a.dev === b.dev;

/** A delivery's state and the parts its steps share; the steps are in `Delivery` (deliver.ts). */
export abstract class DeliveryBase {
  protected readonly fs: FsPort;
  protected readonly clock: Clock;
  protected readonly chunkBytes: number;
  protected readonly maxNameAttempts: number;
  protected readonly randomId: () => string;
  protected readonly dayDir: string;
  protected readonly progress: DeliveryProgress;
  protected readonly warnings: string[];
  /** Handles open in the current step, closed on failure. */
  protected readonly handles = new Set<FsHandle>();
  /** Temporaries of ours that exist, removed on failure. */
  protected readonly temps = new Set<string>();
  constructor(
    protected req: DeliveryRequest,
    protected readonly options: DeliveryOptions,
  ) {
    this.fs = options.fs ?? nodeFsPort;
    this.clock = options.clock ?? systemClock;
    this.chunkBytes = options.chunkBytes ?? 4 * 1024 * 1024;
    // Verification sums whole 32-bit words of each chunk.
    if (!Number.isInteger(this.chunkBytes) || this.chunkBytes <= 0 || this.chunkBytes % 4 !== 0) throw new RangeError(`chunkBytes must be a positive multiple of 4, got ${this.chunkBytes}`);
    this.maxNameAttempts = options.maxNameAttempts ?? 100;
    this.randomId = options.randomId ?? (() => randomBytes(6).toString('hex'));
    this.dayDir = dirname(req.tempPath);
    const resume = req.resume ?? {};
    this.warnings = [...(resume.warnings ?? [])];
    this.progress = { ...resume, leftovers: [...(resume.leftovers ?? [])], warnings: this.warnings };
  }

  protected get pointerPath(): string {
    return join(this.req.repoDir, `${this.req.channel.toUpperCase()}.new`);
  }

  // ------------------------------------------------------------------------ shared parts

  /**
   * Links `temp` to the first free name in `dir`: the base name, UNIQNAME, UNIQNAME-2, …
   * Never replaces an existing file (link fails with EEXIST).
   */
  protected async linkNoClobber(temp: string, dir: string): Promise<string> {
    const tempStat = await this.op('stat', temp, () => this.fs.stat(temp));
    let uniq: string | undefined;
    for (let i = 0; i < this.maxNameAttempts; i++) {
      // The UNIQNAME is read once, at the first clash, so that suffixes count on from it.
      if (i === 1) uniq = uniqueName(this.req.instrumentId, this.clock, this.options.timeZone);
      const name = i === 0 || uniq === undefined ? this.req.baseName : withSuffix(uniq, i);
      const final = join(dir, name);
      try {
        await this.fs.link(temp, final);
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw new OpFailure('link', final, err);
        // NFS: a retransmitted LINK whose first reply was lost answers EEXIST although it
        // worked. The name then holds our own file, which is a success, not a clash.
        const existing = await this.statIfExists(final);
        if (existing === undefined || !sameFile(existing, tempStat)) continue;
      }
      if (i > 0) {
        this.progress.renamed = true;
        this.warnings.push(`${join(dir, this.req.baseName)} exists, delivered as ${name}`);
      }
      return final;
    }
    throw new DeliveryError('names-exhausted', `Cannot deliver ${this.req.baseName} into ${dir}: the name, ${uniq ?? 'UNIQNAME'} and its suffixes up to -${this.maxNameAttempts - 1} all exist`, {
      step: dir === this.dayDir ? 'proc-rename' : 'repo-rename', path: join(dir, this.req.baseName), retryable: false, progress: this.snapshot(),
    });
  }

  protected async openFile(path: string, flags: 'r' | 'r+' | 'wx', mode?: number): Promise<FsHandle> {
    const handle = await this.op('open', path, () => this.fs.open(path, flags, mode));
    this.handles.add(handle);
    return handle;
  }

  protected async closeFile(handle: FsHandle): Promise<void> {
    this.handles.delete(handle);
    await this.op('close', handle.path, () => this.fs.close(handle));
  }

  protected async statIfExists(path: string): Promise<FsStats | undefined> {
    try {
      return await this.fs.stat(path);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw new OpFailure('stat', path, err);
    }
  }

  /** Temporaries a failed clean-up of an earlier attempt left behind. Still there, they are reported. */
  protected async removeLeftovers(): Promise<void> {
    const leftovers = this.progress.leftovers ?? [];
    if (leftovers.length === 0) return;
    for (const path of leftovers) {
      try {
        await this.fs.unlink(path);
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') continue;
        // A dot-named temporary harms nobody: report it rather than block the delivery.
        this.warnings.push(`could not remove the temporary ${path} left by an earlier attempt: ${describe(err)}`);
      }
    }
    this.progress.leftovers = [];
  }

  protected async op<T>(op: string, path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw err instanceof OpFailure ? err : new OpFailure(op, path, err);
    }
  }

  /** Runs one step; on failure closes its handles, removes its temporaries and classifies the error. */
  protected async step<T>(step: DeliveryStep, fn: () => Promise<T>): Promise<T> {
    this.options.onStep?.(step);
    try {
      return await fn();
    } catch (err) {
      const cleanup = await this.cleanUp();
      if (err instanceof DeliveryError) throw cleanup.length === 0 ? err : this.rewrap(err, cleanup);
      if (!(err instanceof OpFailure) || errnoOf(err.error) === undefined) {
        // Not a file-system failure: a bug. Keep its stack; never hide a failed clean-up.
        const original = err instanceof OpFailure ? err.error : err;
        if (cleanup.length === 0) throw original;
        throw new AggregateError([original], `${describe(original)}; ${cleanupText(cleanup)}`);
      }
      throw await this.classify(step, err, cleanup);
    }
  }

  protected async classify(step: DeliveryStep, failure: OpFailure, cleanup: string[]): Promise<DeliveryError> {
    const errno = errnoOf(failure.error)!;
    const base = `Cannot deliver ${this.req.baseName} (${step}): ${failure.op} ${failure.path} failed: ${describe(failure.error)}`;
    let retryable = isTransientErrno(errno);
    let reason: string = errno;
    let message = base;
    let path = failure.path;
    if (errno === 'ENOENT') {
      const repoDir = this.req.repoDir;
      const repoDirGone = step !== 'proc-rename' && (await this.fs.stat(repoDir).then((s) => !s.isDirectory, () => true));
      if (repoDirGone) {
        retryable = true;
        path = repoDir;
        message = `${base}: the repository folder ${repoDir} is not there (NFS mount away?)`;
      } else if (step === 'proc-rename' || failure.path === this.progress.procPath || failure.path === this.req.tempPath) {
        reason = 'input-missing';
        path = failure.path === this.progress.procPath ? failure.path : this.req.tempPath;
        message = `${base}: the processed file is gone`;
      } else {
        // One of our temporaries vanished (someone cleaning the folder): copy again.
        retryable = true;
      }
    }
    message += retryable ? ' (transient: will retry)' : ' (permanent)';
    if (cleanup.length > 0) message += `; ${cleanupText(cleanup)}`;
    return new DeliveryError(reason, message, {
      step, path, retryable, errno, progress: this.snapshot(), cause: failure.error,
      ...(reason === 'input-missing' ? { hint: 'reprocess the raw file' } : {}),
    });
  }

  protected rewrap(err: DeliveryError, cleanup: string[]): DeliveryError {
    const reason = err.code.slice('delivery-'.length);
    return new DeliveryError(reason, `${err.message}; ${cleanupText(cleanup)}`, {
      step: err.step, path: err.path, retryable: err.retryable, errno: err.errno, progress: this.snapshot(), hint: err.hint, cause: err.cause,
    });
  }

  /** Closes open handles and removes our temporaries; returns what could not be done. */
  protected async cleanUp(): Promise<string[]> {
    const failures: string[] = [];
    for (const handle of [...this.handles]) {
      this.handles.delete(handle);
      try {
        await this.fs.close(handle);
      } catch (err) {
        failures.push(`could not close ${handle.path}: ${describe(err)}`);
      }
    }
    for (const temp of [...this.temps]) {
      this.temps.delete(temp);
      try {
        await this.fs.unlink(temp);
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') continue;
        failures.push(`could not remove ${temp}: ${describe(err)}`);
        (this.progress.leftovers ??= []).push(temp);
      }
    }
    return failures;
  }

  protected snapshot(): DeliveryProgress {
    const { repo, leftovers } = this.progress;
    return {
      ...this.progress,
      ...(repo ? { repo: { ...repo } } : {}),
      leftovers: [...(leftovers ?? [])],
      warnings: [...this.warnings],
    };
  }

  protected badRequest(step: DeliveryStep, path: string, what: string): DeliveryError {
    return new DeliveryError('bad-request', `Cannot deliver ${this.req.baseName}: ${what}`, { step, path, retryable: false, progress: this.snapshot() });
  }

  protected validate(): void {
    const { baseName, tempPath, channel, instrumentId, fileMode } = this.req;
    const plain = (s: string) => s.length > 0 && !s.includes('/') && !s.includes('\0') && s !== '.' && s !== '..';
    const problems: string[] = [];
    if (!plain(baseName) || baseName.startsWith('.') || !baseName.endsWith('.fits')) problems.push(`the name ${JSON.stringify(baseName)} is not a plain, visible *.fits file name`);
    // A dot-named temporary can never be one of the final names (which the never-overwrite
    // check could otherwise mistake for our own link).
    if (!basename(tempPath).startsWith('.')) problems.push(`the temporary ${tempPath} is not dot-prefixed`);
    if (!/^[A-Za-z0-9_-]+$/.test(channel)) problems.push(`the channel ${JSON.stringify(channel)} is not a plain name`);
    if (!plain(instrumentId) || instrumentId.startsWith('.')) problems.push(`the instrument id ${JSON.stringify(instrumentId)} is not a plain name`);
    if (!Number.isInteger(fileMode) || fileMode < 0 || fileMode > 0o7777) problems.push(`the file mode ${fileMode} is not a permission number`);
    if (problems.length > 0) throw this.badRequest('proc-rename', tempPath, problems.join('; '));
  }
}

function cleanupText(failures: string[]): string {
  return `clean-up failed: ${failures.join('; ')}`;
}
