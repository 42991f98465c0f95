/**
 * A file-system port that records every call and fails, corrupts or holds the calls a test
 * chooses, per operation, per delivery step (followed through `onStep`) and per path. Wraps the
 * real port: everything not faulted happens on disk.
 */
import { nodeFsPort, type DeliveryStep, type FsHandle, type FsPort } from '../../../src/service/jobs/deliver.js';

export type FsOp = keyof FsPort;

export interface Call {
  step: DeliveryStep | undefined;
  op: FsOp;
  path: string;
}

/** A call held until the test calls `release()`; `reached` resolves once the call is waiting. */
export class Gate {
  readonly reached: Promise<void>;
  readonly released: Promise<void>;
  private reach!: () => void;
  private open!: () => void;

  constructor() {
    this.reached = new Promise<void>((resolve) => (this.reach = resolve));
    this.released = new Promise<void>((resolve) => (this.open = resolve));
  }

  /** Called by the port when the held call arrives. */
  async wait(): Promise<void> {
    this.reach();
    await this.released;
  }

  release(): void {
    this.open();
  }
}

export interface Fault {
  op: FsOp;
  /** Only calls made during this step. */
  step?: DeliveryStep;
  /** Only calls whose path passes. */
  path?: (path: string) => boolean;
  /** Let this many matching calls through first. @default 0 */
  after?: number;
  /** How many matching calls to affect. @default 1 */
  times?: number;
  /**
   * `fail`: throw `errno` instead of calling; `fail-after`: make the call, then throw `errno`
   * (an NFS reply lost after the server did the work); `corrupt`: flip one byte of a write;
   * `hold`: wait for `gate` before calling.
   */
  action: 'fail' | 'fail-after' | 'corrupt' | 'hold';
  errno?: string;
  gate?: Gate;
}

interface ActiveFault extends Fault {
  seen: number;
  fired: number;
}

export function errnoError(errno: string, op: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${errno}: injected fault, ${op} '${path}'`), { code: errno, errno: -1, syscall: op, path });
}

export class FaultyFs implements FsPort {
  readonly calls: Call[] = [];
  private faults: ActiveFault[] = [];
  private currentStep: DeliveryStep | undefined;

  constructor(private readonly inner: FsPort = nodeFsPort) {}

  /** Pass as `DeliveryOptions.onStep`. */
  readonly onStep = (step: DeliveryStep): void => {
    this.currentStep = step;
  };

  inject(fault: Fault): this {
    this.faults.push({ ...fault, seen: 0, fired: 0 });
    return this;
  }

  clear(): void {
    this.faults = [];
  }

  /** How many times the injected faults fired. */
  get fired(): number {
    return this.faults.reduce((n, f) => n + f.fired, 0);
  }

  private match(op: FsOp, path: string): ActiveFault | undefined {
    this.calls.push({ step: this.currentStep, op, path });
    for (const f of this.faults) {
      if (f.op !== op || (f.step !== undefined && f.step !== this.currentStep) || (f.path !== undefined && !f.path(path))) continue;
      f.seen++;
      if (f.seen <= (f.after ?? 0) || f.fired >= (f.times ?? 1)) continue;
      f.fired++;
      return f;
    }
    return undefined;
  }

  private async run<T>(op: FsOp, path: string, call: () => Promise<T>, corrupted?: () => Promise<T>, alwaysCall = false): Promise<T> {
    const fault = this.match(op, path);
    if (fault === undefined) return call();
    switch (fault.action) {
      case 'corrupt':
        return corrupted === undefined ? call() : corrupted();
      case 'hold':
        await fault.gate?.wait();
        return call();
      case 'fail':
        if (alwaysCall) await call();
        throw errnoError(fault.errno ?? 'EIO', op, path);
      case 'fail-after':
        await call();
        throw errnoError(fault.errno ?? 'EIO', op, path);
    }
  }

  open(path: string, flags: 'r' | 'r+' | 'wx', mode?: number): Promise<FsHandle> {
    return this.run('open', path, () => this.inner.open(path, flags, mode));
  }

  read(handle: FsHandle, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return this.run('read', handle.path, () => this.inner.read(handle, buffer, offset, length, position));
  }

  /** `corrupt` flips the lowest bit of the middle byte of what is written (the caller's buffer is left alone). */
  write(handle: FsHandle, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return this.run('write', handle.path, () => this.inner.write(handle, buffer, offset, length, position), () => {
      const copy = Buffer.from(buffer.subarray(offset, offset + length));
      const at = Math.floor(length / 2);
      if (length > 0) copy[at] = copy[at]! ^ 0x01;
      return this.inner.write(handle, copy, 0, length, position);
    });
  }

  fsync(handle: FsHandle): Promise<void> {
    return this.run('fsync', handle.path, () => this.inner.fsync(handle));
  }

  fsyncDir(path: string): Promise<void> {
    return this.run('fsyncDir', path, () => this.inner.fsyncDir(path));
  }

  /**
   * As close(2): the descriptor is released even when close reports an error (on NFS, a
   * write-back that failed), so `fail` closes the real handle and then throws.
   */
  close(handle: FsHandle): Promise<void> {
    return this.run('close', handle.path, () => this.inner.close(handle), undefined, true);
  }

  link(existingPath: string, newPath: string): Promise<void> {
    return this.run('link', newPath, () => this.inner.link(existingPath, newPath));
  }

  rename(oldPath: string, newPath: string): Promise<void> {
    return this.run('rename', newPath, () => this.inner.rename(oldPath, newPath));
  }

  unlink(path: string): Promise<void> {
    return this.run('unlink', path, () => this.inner.unlink(path));
  }

  stat(path: string) {
    return this.run('stat', path, () => this.inner.stat(path));
  }

  chmod(path: string, mode: number): Promise<void> {
    return this.run('chmod', path, () => this.inner.chmod(path, mode));
  }

  mkdir(path: string, options: { recursive: boolean; mode?: number }): Promise<void> {
    return this.run('mkdir', path, () => this.inner.mkdir(path, options));
  }
}
