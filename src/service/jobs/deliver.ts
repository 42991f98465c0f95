/**
 * Atomic delivery of a processed file (behaviour.md §6, §9 row 10): the processed copy in
 * `<procDir>/<obsDate>/`, a verified copy in `<repoDir>` (`/newdata`), then the `<CHAN>.new`
 * pointer (moved only when the file is not an earlier exposure: pointer-rule.ts). Nothing
 * half-written is ever visible under a final name, nothing is ever overwritten, and a failed
 * delivery says whether a retry can help and where it should resume.
 *
 * The repository copy is made and verified from the processed file's temporary before any final
 * name is given (`prepareDelivery`), so that the service can check the raw file is unchanged
 * (and, for a watcher-found file, wait out the settle interval) between the two; only the names
 * remain then. Names appear in the order of §6. The shared parts are in delivery-base.ts.
 *
 * Final names are given with `link()` + `unlink()` rather than `rename()`: `link` fails with
 * EEXIST atomically when the name exists, where `rename` would silently replace it. The
 * reference checks for the name first and then writes, so two files processed at once could
 * overwrite each other.
 */
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { FitsError, readStructure, SequentialChecksums, type Hdu } from '../../fits/index.js';
import { nodeFsPort, portByteSource, readFully, writeFully, type FsHandle, type FsPort } from './fs-port.js';
import { DeliveryError } from './delivery-errors.js';
import { decidePointer, type PointerDecision } from './pointer-rule.js';
import { readCurrentPointer, readDeliveredExposure } from './pointer-read.js';
import { DeliveryBase, OpFailure, sameFile, tempName, type DeliveryOptions, type DeliveryRequest, type DeliveryResult, type RepoCopy } from './delivery-base.js';

export { DeliveryError, backoffMs, DELIVERY_STEPS, TRANSIENT_ERRNOS } from './delivery-errors.js';
export type { BackoffOptions, DeliveryProgress, DeliveryStep } from './delivery-errors.js';
export { nodeFsPort } from './fs-port.js';
export type { FsPort, FsHandle, FsStats, OpenFlags } from './fs-port.js';
export type { DeliveryOptions, DeliveryRequest, DeliveryResult } from './delivery-base.js';

const defaultRandomId = () => randomBytes(6).toString('hex');

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

export class Delivery extends DeliveryBase {
  /** The repository copy `prepare` made, verified, still under its temporary name. */
  protected prepared: RepoCopy | undefined;

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
    const pointer = await this.step('pointer', () => this.updatePointer(repo.path));
    return {
      procPath,
      repoPath: repo.path,
      deliveredName: basename(repo.path),
      pointerPath: this.pointerPath,
      bytes: repo.bytes,
      renamed: this.progress.renamed ?? false,
      pointer: pointer.action === 'move' ? 'moved' : 'kept',
      pointerReason: pointer.reason,
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

  /**
   * A verified copy of `source` in the repository under a temporary name; copied again once if
   * it does not verify (`attempt` 2: a copy made another way did not verify already).
   */
  protected async verifiedCopy(source: string, attempt = 1): Promise<RepoCopy> {
    for (; ; attempt++) {
      const copy = await this.step('repo-copy', () => this.copyToRepo(source));
      const problem = await this.step('repo-verify', () => this.verifyCopy(copy, source));
      if (problem === undefined) return copy;
      await this.rejectCopy(copy, source, problem, attempt);
    }
  }

  /** Removes a copy that did not verify; the second time, the delivery fails for good. */
  protected rejectCopy(copy: RepoCopy, source: string, problem: string, attempt: number): Promise<void> {
    return this.step('repo-verify', async () => {
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

  /**
   * The pointer rule (pointer-rule.ts): the pointer moves to the delivered file unless that is
   * an earlier exposure than the one it names now. Decided here, inside the channel's lock the
   * caller holds, just before the pointer would be replaced, so no other delivery of the
   * channel can come between the look and the write.
   */
  private async updatePointer(repoPath: string): Promise<PointerDecision> {
    const name = basename(repoPath);
    const key = await this.op('read', repoPath, () => readDeliveredExposure(this.fs, repoPath, this.req.baseName));
    const current = await readCurrentPointer(this.fs, this.pointerPath);
    const decision = decidePointer({ name, key }, current);
    // A pointer nobody can use is worth a look (a file gone is not: the archive may take it).
    if (current.kind === 'unusable') this.warnings.push(`${basename(this.pointerPath)}: ${decision.reason}`);
    if (decision.action === 'move') await this.writePointer(name);
    return decision;
  }

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
}
