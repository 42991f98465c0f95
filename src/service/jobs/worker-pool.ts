/**
 * A fixed pool of processing worker threads, one job per worker at a time. The queue in front of
 * it limits concurrency; the pool only hands jobs to idle workers and replaces a worker that dies.
 */
import { Worker } from 'node:worker_threads';
import { DatamanError } from '../../errors.js';
import type { ChunkAck, FromWorker, WorkerJob, WorkerOptions, WorkerReply, WorkerStart, WrittenLayout } from './worker-protocol.js';

export class ProcessingError extends DatamanError {
  constructor(code: string, message: string, readonly expected: boolean, readonly workerStack?: string) {
    super(code, message);
  }
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

/** Writes a chunk of processed bytes at `position` (the main thread's side of a streamed job). */
export type ChunkWriter = (bytes: Uint8Array, position: number) => Promise<void>;

interface PendingJob {
  resolve: (r: ProcessResult) => void;
  reject: (e: Error) => void;
  slot: Slot;
  write?: ChunkWriter | undefined;
  /** The first chunk that could not be written: the job fails with this error, not the worker's echo of it. */
  writeError?: Error | undefined;
}

/**
 * A worker running `process-worker`: the compiled .js module, or — when this code runs from
 * TypeScript sources under tsx (tests, benchmarks) — a bootstrap that registers tsx's loader in
 * the worker first (Node 20 does not apply the parent's `--import tsx` inside workers).
 */
function createWorker(start: WorkerStart): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./process-worker.js', import.meta.url), { resourceLimits: WORKER_LIMITS, workerData: start });
  const api = import.meta.resolve('tsx/esm/api');
  const module = new URL('./process-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(module)}); });`;
  return new Worker(bootstrap, { eval: true, resourceLimits: WORKER_LIMITS, workerData: start });
}

/**
 * A worker's JavaScript objects live briefly and are few (the pixels are in its WebAssembly
 * arena): a small young generation is enough. With V8's default each worker kept about 50 MB of
 * heap committed for 7-8 MB of live objects (docs/soak.md).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 6 };

export interface ProcessResult {
  outcomes: Extract<WorkerReply, { ok: true }>['outcomes'];
  uniqName: string;
  bytes: number;
  /** Where each HDU was written and what it sums to. */
  layout: WrittenLayout;
  /** Wall time per processing stage, ms. */
  timings: Record<string, number>;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, PendingJob>();
  private readonly waiting: Array<() => void> = [];
  private nextId = 1;
  private closed = false;
  /** Shared with every worker: while 1, yielding jobs wait at their checkpoints. */
  private readonly hold = new Int32Array(new SharedArrayBuffer(4));

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = createWorker({ hold: this.hold.buffer });
    const slot: Slot = { worker, busy: false };
    worker.on('message', (message: FromWorker) => {
      const job = this.pending.get(message.id);
      if (!job) return;
      if (message.type === 'chunk') {
        this.writeChunk(worker, job, message.id, message.bytes, message.position);
        return;
      }
      this.pending.delete(message.id);
      this.release(slot);
      if (job.writeError !== undefined) job.reject(job.writeError);
      else if (message.ok) job.resolve({ outcomes: message.outcomes, uniqName: message.uniqName, bytes: message.bytes, layout: message.layout, timings: message.timings });
      else job.reject(new ProcessingError(message.error.code, message.error.message, message.error.expected, message.error.stack));
    });
    worker.on('error', (err) => this.lost(slot, err));
    worker.on('exit', (code) => {
      if (!this.closed) this.lost(slot, new Error(`processing worker exited with code ${code}`));
    });
    return slot;
  }

  /** A worker died: fail its job and put a fresh worker in its place. */
  private lost(slot: Slot, err: Error): void {
    for (const [id, job] of this.pending) {
      if (job.slot === slot) {
        this.pending.delete(id);
        job.reject(new ProcessingError('worker-crash', `processing worker failed: ${err.message}`, false));
      }
    }
    const index = this.slots.indexOf(slot);
    if (index >= 0 && !this.closed) {
      void slot.worker.terminate();
      this.slots[index] = this.spawn();
      this.release(this.slots[index]);
    }
  }

  private release(slot: Slot): void {
    slot.busy = false;
    this.waiting.shift()?.();
  }

  private async acquire(): Promise<Slot> {
    for (;;) {
      if (this.closed) throw new ProcessingError('pool-closed', 'the processing pool is shut down', true);
      const free = this.slots.find((s) => !s.busy);
      if (free) {
        free.busy = true;
        return free;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** Processes `rawPath` into `outputPath` (which must not exist) on a worker thread. */
  process(rawPath: string, outputPath: string, options: WorkerOptions, nowMs: number): Promise<ProcessResult> {
    return this.run({ rawPath, outputPath, nowMs, options });
  }

  /**
   * Processes `rawPath` on a worker thread and hands its bytes to `write` as they are made (a
   * few chunks in flight at most); resolves once every chunk is written. A chunk `write` fails
   * stops the processing and the job fails with that error.
   */
  produce(rawPath: string, options: WorkerOptions, nowMs: number, write: ChunkWriter, how: { yields?: boolean } = {}): Promise<ProcessResult> {
    return this.run({ rawPath, nowMs, options, yields: how.yields }, write);
  }

  /** Holds the yielding jobs at their next checkpoint (true) or lets them go on (false). */
  holdYieldingJobs(held: boolean): void {
    Atomics.store(this.hold, 0, held ? 1 : 0);
    if (!held) Atomics.notify(this.hold, 0);
  }

  private async run(request: Omit<WorkerJob, 'type' | 'id'>, write?: ChunkWriter): Promise<ProcessResult> {
    const slot = await this.acquire();
    const id = this.nextId++;
    const job: WorkerJob = { type: 'job', id, ...request };
    return new Promise<ProcessResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot, write });
      slot.worker.postMessage(job);
    });
  }

  private writeChunk(worker: Worker, job: PendingJob, id: number, bytes: Uint8Array, position: number): void {
    const answer = (error?: string) => {
      const ack: ChunkAck = { type: 'ack', id, buffer: bytes.buffer as ArrayBuffer, error };
      worker.postMessage(ack, [ack.buffer]);
    };
    // After a failed chunk the rest are not written: the worker stops at its next write.
    if (job.write === undefined || job.writeError !== undefined) return answer(job.writeError === undefined ? 'no writer for this job' : 'an earlier chunk failed');
    job.write(bytes, position).then(() => answer(), (err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      job.writeError ??= error;
      answer(error.message);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
