/**
 * Atomic delivery of a processed file (behaviour.md §6, §9 row 10): the processed copy in
 * `<procDir>/<obsDate>/`, a verified copy in `<repoDir>` (`/newdata`), then the `<CHAN>.new`
 * pointer. Nothing half-written is ever visible under a final name, nothing is ever
 * overwritten, and a failed delivery says whether a retry can help and where it should resume.
 *
 * The repository copy is made and verified from the processed file's temporary before any final
 * name is given (`prepareDelivery`): the service does that while the raw file's settle interval
 * still runs, and only the names remain once it has. Names appear in the order of §6.
 *
 * Final names are given with `link()` + `unlink()` rather than `rename()`: `link` fails with
 * EEXIST atomically when the name exists, where `rename` would silently replace it. The
 * reference checks for the name first and then writes, so two files processed at once could
 * overwrite each other.
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { FitsError, readStructure, SequentialChecksums, type Hdu } from '../fits/index.js';
import { systemClock, type Clock } from '../base/clock.js';
import { uniqueName } from '../steps/unique-name.js';
import { nodeFsPort, portByteSource, readFully, writeFully, type FsHandle, type FsPort, type FsStats } from './fs-port.js';
import { DeliveryError, isTransientErrno, type DeliveryProgress, type DeliveryStep } from './delivery-errors.js';

export { DeliveryError, backoffMs, DELIVERY_STEPS, TRANSIENT_ERRNOS } from './delivery-errors.js';
export type { BackoffOptions, DeliveryProgress, DeliveryStep } from './delivery-errors.js';
export { nodeFsPort } from './fs-port.js';
export type { FsPort, FsHandle, FsStats, OpenFlags } from './fs-port.js';

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
  warnings: string[];
}

/** Creates the day folder (as needed) and returns a temporary path in it for `processFile`. */
export async function prepareProcTemp(
  procDir: string,
  obsDate: string,
  baseName: string,
  options: { fs?: FsPort; dirMode?: number; randomId?: () => string } = {},
): Promise<{ dayDir: string; tempPath: string }> {
  const fs = options.fs ?? nodeFsPort;
  const dayDir = join(procDir, obsDate);
  // 0o777 before the umask, as the reference (`os.makedirs(procPath, 0o777)`).
  await fs.mkdir(dayDir, { recursive: true, mode: options.dirMode ?? 0o777 });
  // The new folder's name must survive a crash as well as the files in it.
  await fs.fsyncDir(procDir);
  return { dayDir, tempPath: join(dayDir, tempName(baseName, 'part', options.randomId ?? defaultRandomId)) };
}

/** Delivers one processed file; see the module comment and `DeliveryRequest`. */
export async function deliver(request: DeliveryRequest, options: DeliveryOptions = {}): Promise<DeliveryResult> {
  const delivery = new Delivery(request, options);
  await delivery.prepare();
  return delivery.commit();
}

/** A delivery whose repository copy is made and verified, with no final name given yet. */
export interface PreparedDelivery {
  /** Gives the final names and updates the pointer (what `deliver` does after the copy). */
  commit(): Promise<DeliveryResult>;
  /** Removes the prepared copy instead; returns the temporaries that could not be removed. */
  abandon(): Promise<string[]>;
}

/**
 * The first half of `deliver`: the verified repository copy, made while the caller still waits
 * for something (the raw file's settle interval) before anything may get a final name. Fails
 * as `deliver` does, with the progress to resume from.
 */
export async function prepareDelivery(request: DeliveryRequest, options: DeliveryOptions = {}): Promise<PreparedDelivery> {
  const delivery = new Delivery(request, options);
  await delivery.prepare();
  return { commit: () => delivery.commit(), abandon: () => delivery.abandon() };
}

const defaultRandomId = () => randomBytes(6).toString('hex');

/**
 * `.<name>.<kind>-<random>`: dot-prefixed and not ending in `.fits`, so that neither the
 * archive ingester nor a watcher of the day folder can mistake it for a delivered file.
 */
function tempName(name: string, kind: string, randomId: () => string): string {
  return `.${name}.${kind}-${randomId()}`;
}

/** `x.fits` → `x-2.fits` */
function withSuffix(name: string, n: number): string {
  return n < 2 ? name : name.replace(/\.fits$/, `-${n}.fits`);
}

/** A port call that failed: which operation on which path. */
class OpFailure extends Error {
  constructor(
    readonly op: string,
    readonly path: string,
    readonly error: unknown,
  ) {
    super(`${op} ${path}: ${describe(error)}`);
  }
}

function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A copy in the repository under its temporary name. */
interface RepoCopy {
  temp: string;
  /** Length of the bytes read from the processed file. */
  bytes: number;
  /** Length of the processed file before the copy. */
  sourceBytes: number;
}

const sameFile = (a: FsStats, b: FsStats) => a.ino === b.ino && a.dev === b.dev;

class Delivery {
  private readonly fs: FsPort;
  private readonly clock: Clock;
  private readonly chunkBytes: number;
  private readonly maxNameAttempts: number;
  private readonly randomId: () => string;
  private readonly dayDir: string;
  private readonly progress: DeliveryProgress;
  private readonly warnings: string[];
  /** Handles open in the current step, closed on failure. */
  private readonly handles = new Set<FsHandle>();
  /** Temporaries of ours that exist, removed on failure. */
  private readonly temps = new Set<string>();
  /** The repository copy `prepare` made, verified, still under its temporary name. */
  private prepared: RepoCopy | undefined;

  constructor(
    private readonly req: DeliveryRequest,
    private readonly options: DeliveryOptions,
  ) {
    this.fs = options.fs ?? nodeFsPort;
    this.clock = options.clock ?? systemClock;
    this.chunkBytes = options.chunkBytes ?? 4 * 1024 * 1024;
    // Verification sums whole 32-bit words of each chunk.
    if (!Number.isInteger(this.chunkBytes) || this.chunkBytes <= 0 || this.chunkBytes % 4 !== 0) throw new RangeError(`chunkBytes must be a positive multiple of 4, got ${this.chunkBytes}`);
    this.maxNameAttempts = options.maxNameAttempts ?? 100;
    this.randomId = options.randomId ?? defaultRandomId;
    this.dayDir = dirname(req.tempPath);
    const resume = req.resume ?? {};
    this.warnings = [...(resume.warnings ?? [])];
    this.progress = { ...resume, leftovers: [...(resume.leftovers ?? [])], warnings: this.warnings };
  }

  /**
   * Copies the processed temporary into the repository under a temporary name and verifies it,
   * before anything gets a final name, so that the caller can do this while it still waits
   * (the settle interval). A delivery resumed after step 1 copies later, from the final file.
   */
  async prepare(): Promise<void> {
    this.validate();
    if (this.progress.procPath !== undefined || this.progress.repo !== undefined) return;
    this.prepared = await this.verifiedCopy(this.req.tempPath);
  }

  /** Gives the names, in the order of behaviour.md §6: the processed copy, the repository copy, the pointer. */
  async commit(): Promise<DeliveryResult> {
    const procPath = await this.step('proc-rename', () => (this.progress.procPath === undefined ? this.deliverProc() : this.finishProc(this.progress.procPath)));
    const prepared = this.prepared;
    this.prepared = undefined;
    const repo = this.progress.repo ?? (await this.renameRepoCopy(prepared ?? (await this.verifiedCopy(procPath))));
    await this.step('pointer', () => this.writePointer(basename(repo.path)));
    return {
      procPath,
      repoPath: repo.path,
      deliveredName: basename(repo.path),
      pointerPath: this.pointerPath,
      bytes: repo.bytes,
      renamed: this.progress.renamed ?? false,
      warnings: [...this.warnings],
    };
  }

  /** Removes a prepared copy that will not be delivered; returns the temporaries that could not be removed. */
  async abandon(): Promise<string[]> {
    this.prepared = undefined;
    const before = new Set(this.progress.leftovers ?? []);
    await this.cleanUp();
    return (this.progress.leftovers ?? []).filter((path) => !before.has(path));
  }

  private get pointerPath(): string {
    return join(this.req.repoDir, `${this.req.channel.toUpperCase()}.new`);
  }

  // ---------------------------------------------------------------- step 1: processed copy

  private async deliverProc(): Promise<string> {
    const temp = this.req.tempPath;
    await this.removeLeftovers();
    await this.op('stat', temp, () => this.fs.stat(temp));
    // Flush the data before the name appears: a crash must never leave a final name on a
    // file whose blocks were not written.
    const handle = await this.openFile(temp, 'r+');
    await this.op('fsync', temp, () => this.fs.fsync(handle));
    await this.closeFile(handle);
    // Mode first, so that the final name never shows with the wrong permissions.
    await this.op('chmod', temp, () => this.fs.chmod(temp, this.req.fileMode));
    const final = await this.linkNoClobber(temp, this.dayDir);
    this.progress.procPath = final;
    // From here the temporary is a second name of the delivered file.
    this.temps.add(temp);
    await this.op('unlink', temp, () => this.fs.unlink(temp));
    this.temps.delete(temp);
    await this.op('fsync', this.dayDir, () => this.fs.fsyncDir(this.dayDir));
    return final;
  }

  /** Resumed after step 1: finish what the failed attempt may have left undone. */
  private async finishProc(procPath: string): Promise<string> {
    await this.removeLeftovers();
    const temp = this.req.tempPath;
    const tempStat = await this.statIfExists(temp);
    if (tempStat !== undefined) {
      const procStat = await this.statIfExists(procPath);
      if (procStat !== undefined && sameFile(tempStat, procStat)) {
        await this.op('unlink', temp, () => this.fs.unlink(temp));
      } else {
        this.warnings.push(`${temp} is not the delivered ${procPath}; left in place`);
      }
    }
    await this.op('fsync', this.dayDir, () => this.fs.fsyncDir(this.dayDir));
    return procPath;
  }

  // ------------------------------------------------------- step 2: repository copy, verified

  /** A verified copy of `source` in the repository under a temporary name; copied again once if it does not verify. */
  private async verifiedCopy(source: string): Promise<RepoCopy> {
    for (let attempt = 1; ; attempt++) {
      const copy = await this.step('repo-copy', () => this.copyToRepo(source));
      const problem = await this.step('repo-verify', () => this.verifyCopy(copy, source));
      if (problem === undefined) return copy;
      await this.step('repo-verify', async () => {
        await this.op('unlink', copy.temp, () => this.fs.unlink(copy.temp));
        this.temps.delete(copy.temp);
        if (attempt >= 2) {
          throw new DeliveryError('verify-failed', `Cannot deliver ${this.req.baseName} (repo-verify): the copy of ${source} in ${this.req.repoDir} failed verification twice (${problem}); the processed file is probably bad`, {
            step: 'repo-verify', path: source, retryable: false, progress: this.snapshot(), hint: 'reprocess the raw file',
          });
        }
        this.warnings.push(`the copy of ${source} in ${this.req.repoDir} failed verification (${problem}); copied again`);
      });
    }
  }

  private renameRepoCopy(copy: RepoCopy): Promise<{ path: string; bytes: number }> {
    return this.step('repo-rename', async () => {
      const final = await this.linkNoClobber(copy.temp, this.req.repoDir);
      const repo = { path: final, bytes: copy.bytes };
      this.progress.repo = repo;
      await this.op('unlink', copy.temp, () => this.fs.unlink(copy.temp));
      this.temps.delete(copy.temp);
      await this.op('fsync', this.req.repoDir, () => this.fs.fsyncDir(this.req.repoDir));
      return repo;
    });
  }

  private async copyToRepo(sourcePath: string): Promise<RepoCopy> {
    const repoDir = this.req.repoDir;
    await this.removeLeftovers();
    const dirStat = await this.op('stat', repoDir, () => this.fs.stat(repoDir));
    if (!dirStat.isDirectory) throw this.badRequest('repo-copy', repoDir, `the repository folder ${repoDir} is not a folder`);
    const sourceBytes = (await this.op('stat', sourcePath, () => this.fs.stat(sourcePath))).size;
    const source = await this.openFile(sourcePath, 'r');
    const temp = join(repoDir, tempName(this.req.baseName, 'part', this.randomId));
    const target = await this.openFile(temp, 'wx', this.req.fileMode);
    this.temps.add(temp);
    const buffer = Buffer.allocUnsafe(this.chunkBytes);
    let bytes = 0;
    for (;;) {
      const chunk = await this.op('read', sourcePath, () => readFully(this.fs, source, bytes, this.chunkBytes, buffer));
      if (chunk.length === 0) break;
      await this.op('write', temp, () => writeFully(this.fs, target, chunk, bytes));
      bytes += chunk.length;
      if (chunk.length < this.chunkBytes) break;
    }
    await this.op('fsync', temp, () => this.fs.fsync(target));
    await this.closeFile(target);
    await this.closeFile(source);
    await this.op('chmod', temp, () => this.fs.chmod(temp, this.req.fileMode));
    return { temp, bytes, sourceBytes };
  }

  /**
   * Reads the copy back beside the processed file (its temporary or final name) in one pass: the same length, the same bytes
   * and, when asked, every HDU's CHECKSUM and DATASUM summed from the same chunks. Returns what
   * is wrong, or undefined. (A client re-reading its own fresh write may be served from its
   * cache; this still catches a bad write path, a short or partial copy, and a processed file
   * whose checksums are wrong.)
   */
  private async verifyCopy(copy: RepoCopy, sourcePath: string): Promise<string | undefined> {
    const { temp } = copy;
    if (copy.bytes !== copy.sourceBytes) return `${copy.bytes} bytes copied from a file of ${copy.sourceBytes} bytes`;
    const st = await this.op('stat', temp, () => this.fs.stat(temp));
    if (st.size !== copy.bytes) return `${st.size} bytes, expected ${copy.bytes}`;
    const handle = await this.openFile(temp, 'r');
    const source = await this.openFile(sourcePath, 'r');
    const problem = await this.compareAndSum(copy, handle, source, sourcePath);
    await this.closeFile(source);
    await this.closeFile(handle);
    return problem;
  }

  private async compareAndSum(copy: RepoCopy, handle: FsHandle, source: FsHandle, sourcePath: string): Promise<string | undefined> {
    const { temp } = copy;
    let checksums: SequentialChecksums | undefined;
    if (this.req.verifyChecksums) {
      const structure = await this.copyStructure(handle);
      if (typeof structure === 'string') return structure;
      checksums = new SequentialChecksums(structure);
    }
    const copied = Buffer.allocUnsafe(this.chunkBytes);
    const processed = Buffer.allocUnsafe(this.chunkBytes);
    for (let offset = 0; offset < copy.bytes; ) {
      const chunk = await this.op('read', temp, () => readFully(this.fs, handle, offset, this.chunkBytes, copied));
      if (chunk.length === 0) return `${temp} ended at byte ${offset} of ${copy.bytes}`;
      const original = await this.op('read', sourcePath, () => readFully(this.fs, source, offset, chunk.length, processed));
      if (!chunk.equals(original)) return `bytes ${offset}..${offset + chunk.length - 1} differ from ${sourcePath}`;
      checksums?.update(chunk, offset);
      offset += chunk.length;
    }
    if (checksums === undefined) return undefined;
    const results = checksums.results();
    const wrong = results.flatMap((h) => [
      ...(h.datasumOk === false ? [`DATASUM of HDU ${h.index} does not match its data`] : []),
      ...(h.checksumOk === false ? [`CHECKSUM of HDU ${h.index} does not match the HDU`] : []),
    ]);
    if (wrong.length > 0) return wrong.join('; ');
    const unstamped = results.filter((h) => h.checksumOk !== true || h.datasumOk !== true).map((h) => h.index);
    if (unstamped.length > 0) return `HDU ${unstamped.join(', ')} without CHECKSUM/DATASUM`;
    return undefined;
  }

  /** The copy's HDUs from its headers, or what makes it unsound. */
  private async copyStructure(handle: FsHandle): Promise<Hdu[] | string> {
    // The port's close is not used here: the handle is closed by the caller.
    const source = { ...portByteSource(this.fs, handle), close: async () => {} };
    try {
      const structure = await readStructure(source);
      if (!structure.complete) return structure.truncation?.message ?? 'incomplete FITS structure';
      return structure.hdus;
    } catch (err) {
      if (err instanceof FitsError) return err.message;
      throw new OpFailure('read', handle.path, err);
    }
  }

  // ---------------------------------------------------------------------- step 3: pointer

  /** Replaces `<CHAN>.new` atomically: readers see the old name or the new one, never an empty file. */
  private async writePointer(deliveredName: string): Promise<void> {
    const repoDir = this.req.repoDir;
    const pointer = this.pointerPath;
    await this.removeLeftovers();
    const temp = join(repoDir, tempName(basename(pointer), 'tmp', this.randomId));
    const handle = await this.openFile(temp, 'wx', this.req.fileMode);
    this.temps.add(temp);
    await this.op('write', temp, () => writeFully(this.fs, handle, Buffer.from(`${deliveredName}\n`, 'utf8'), 0));
    await this.op('fsync', temp, () => this.fs.fsync(handle));
    await this.closeFile(handle);
    await this.op('chmod', temp, () => this.fs.chmod(temp, this.req.fileMode));
    await this.op('rename', temp, () => this.fs.rename(temp, pointer));
    this.temps.delete(temp);
    await this.op('fsync', repoDir, () => this.fs.fsyncDir(repoDir));
  }

  // ------------------------------------------------------------------------ shared parts

  /**
   * Links `temp` to the first free name in `dir`: the base name, UNIQNAME, UNIQNAME-2, …
   * Never replaces an existing file (link fails with EEXIST).
   */
  private async linkNoClobber(temp: string, dir: string): Promise<string> {
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

  private async openFile(path: string, flags: 'r' | 'r+' | 'wx', mode?: number): Promise<FsHandle> {
    const handle = await this.op('open', path, () => this.fs.open(path, flags, mode));
    this.handles.add(handle);
    return handle;
  }

  private async closeFile(handle: FsHandle): Promise<void> {
    this.handles.delete(handle);
    await this.op('close', handle.path, () => this.fs.close(handle));
  }

  private async statIfExists(path: string): Promise<FsStats | undefined> {
    try {
      return await this.fs.stat(path);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw new OpFailure('stat', path, err);
    }
  }

  /** Temporaries a failed clean-up of an earlier attempt left behind. Still there, they are reported. */
  private async removeLeftovers(): Promise<void> {
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

  private async op<T>(op: string, path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw err instanceof OpFailure ? err : new OpFailure(op, path, err);
    }
  }

  /** Runs one step; on failure closes its handles, removes its temporaries and classifies the error. */
  private async step<T>(step: DeliveryStep, fn: () => Promise<T>): Promise<T> {
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

  private async classify(step: DeliveryStep, failure: OpFailure, cleanup: string[]): Promise<DeliveryError> {
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

  private rewrap(err: DeliveryError, cleanup: string[]): DeliveryError {
    const reason = err.code.slice('delivery-'.length);
    return new DeliveryError(reason, `${err.message}; ${cleanupText(cleanup)}`, {
      step: err.step, path: err.path, retryable: err.retryable, errno: err.errno, progress: this.snapshot(), hint: err.hint, cause: err.cause,
    });
  }

  /** Closes open handles and removes our temporaries; returns what could not be done. */
  private async cleanUp(): Promise<string[]> {
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

  private snapshot(): DeliveryProgress {
    const { repo, leftovers } = this.progress;
    return {
      ...this.progress,
      ...(repo ? { repo: { ...repo } } : {}),
      leftovers: [...(leftovers ?? [])],
      warnings: [...this.warnings],
    };
  }

  private badRequest(step: DeliveryStep, path: string, what: string): DeliveryError {
    return new DeliveryError('bad-request', `Cannot deliver ${this.req.baseName}: ${what}`, { step, path, retryable: false, progress: this.snapshot() });
  }

  private validate(): void {
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
