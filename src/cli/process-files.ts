/**
 * The files of one `dataman process` call. One file is processed on this thread (a worker would
 * only add its start-up); several go through the service's worker pool, `jobs` at a time. Each
 * result is handed back in the order of the command line, whatever order the workers finish in.
 * The output is written with O_EXCL (never over an existing file), or with `force` into a
 * temporary file renamed over the target.
 */
import { rename, rm, stat } from 'node:fs/promises';
import { DatamanError, isFsError } from '../errors.js';
import type { StepOutcome } from '../steps/types.js';
import type { WorkerOptions } from '../service/jobs/worker-protocol.js';
import { inLanes } from './lanes.js';

export interface FileTask {
  /** The raw file as named on the command line (for messages). */
  raw: string;
  rawPath: string;
  /** Where the processed file goes. */
  target: string;
  /** An earlier file of the same call with the same output (refused: they would race for it). */
  sameOutputAs?: string;
}

interface Settled {
  raw: string;
  output: string;
  /** Bytes of the raw file (0 when it cannot be read), for the progress rate. */
  rawBytes: number;
  timeMs: number;
}

export type FileResult =
  | (Settled & { ok: true; bytes: number; outcomes: StepOutcome[] })
  /** `bug`: an unexpected error (a worker crash, an internal error), not a fault of the file. */
  | (Settled & { ok: false; code: string; message: string; bug?: string });

/** Processes one raw file into a new output file; throws on failure. */
type ProcessOne = (rawPath: string, outputPath: string) => Promise<{ bytes: number; outcomes: StepOutcome[] }>;

export interface ProcessFilesOptions {
  options: WorkerOptions;
  force: boolean;
  jobs: number;
  now?: () => number;
  /** Each result in command-line order, as soon as it and every earlier one are done. */
  onResult(result: FileResult, index: number): void;
  /** Each result as it finishes (for progress). */
  onSettled?(result: FileResult): void;
}

export async function processFiles(tasks: readonly FileTask[], o: ProcessFilesOptions): Promise<void> {
  const now = o.now ?? (() => performance.now());
  const lanes = Math.max(1, Math.min(o.jobs, tasks.length));
  const lane = lanes === 1 ? await onThisThread(o.options) : await onWorkers(lanes, o.options);
  const results: Array<FileResult | undefined> = [];
  let flushed = 0;
  try {
    await inLanes(tasks, lanes, () => false, async (task, index) => {
      const started = now();
      const result = await processTask(task, (raw, out) => lane.run(raw, out), o.force, () => now() - started);
      o.onSettled?.(result);
      results[index] = result;
      while (results[flushed] !== undefined) {
        o.onResult(results[flushed]!, flushed);
        flushed++;
      }
    });
  } finally {
    await lane.close();
  }
}

async function processTask(task: FileTask, run: ProcessOne, force: boolean, elapsed: () => number): Promise<FileResult> {
  const rawBytes = await stat(task.rawPath).then((s) => s.size, () => 0);
  const settled = { raw: task.raw, output: task.target, rawBytes };
  try {
    if (task.target === task.rawPath) throw new DatamanError('usage', `${task.raw}: the output would replace the raw file; choose another --out`);
    if (task.sameOutputAs !== undefined) throw new DatamanError('usage', `${task.raw}: same output ${task.target} as ${task.sameOutputAs}, given earlier`);
    const written = force ? `${task.target}.dataman-tmp-${process.pid}` : task.target;
    if (force) await rm(written, { force: true });
    try {
      const { bytes, outcomes } = await run(task.rawPath, written);
      if (force) await rename(written, task.target);
      return { ...settled, ok: true, bytes, outcomes, timeMs: elapsed() };
    } catch (err) {
      if (force) await rm(written, { force: true });
      throw err;
    }
  } catch (err) {
    return { ...settled, ...failure(err, task), timeMs: elapsed() };
  }
}

function failure(err: unknown, task: FileTask): { ok: false; code: string; message: string; bug?: string } {
  const code = isFsError(err) ? err.code ?? 'io' : err instanceof DatamanError ? err.code : 'internal';
  if (code === 'EEXIST') return { ok: false, code, message: `${task.target} exists; use --force to replace it` };
  const e = err as Error & { expected?: boolean; workerStack?: string };
  const message = e instanceof Error ? e.message : String(err);
  // A worker's unexpected error arrives as a ProcessingError with expected = false.
  const bug = err instanceof DatamanError ? e.expected === false : !isFsError(err);
  return bug ? { ok: false, code, message, bug: e.workerStack ?? e.stack ?? message } : { ok: false, code, message };
}

async function onThisThread(options: WorkerOptions): Promise<{ run: ProcessOne; close(): Promise<void> }> {
  const [{ processFile }, { defaultLeapSeconds }, { systemClock }] = await Promise.all([
    import('../steps/pipeline.js'), import('../time/index.js'), import('../base/clock.js'),
  ]);
  const full = { ...options, leapSeconds: defaultLeapSeconds(), clock: systemClock };
  return { run: (raw, out) => processFile(raw, out, full), close: async () => {} };
}

async function onWorkers(size: number, options: WorkerOptions): Promise<{ run: ProcessOne; close(): Promise<void> }> {
  const { WorkerPool } = await import('../service/jobs/worker-pool.js');
  const pool = new WorkerPool(size);
  return { run: (raw, out) => pool.process(raw, out, options, Date.now()), close: () => pool.close() };
}
