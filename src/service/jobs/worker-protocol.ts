import type { ProcessingOptions, StepOutcome } from '../../steps/types.js';
import type { WrittenHdu } from '../../fits/index.js';

/** Processing options that cross the thread boundary (the worker loads its own tables). */
export type WorkerOptions = Omit<ProcessingOptions, 'leapSeconds' | 'clock' | 'checkpoint'> & { checksums: boolean; fsync: boolean };

/**
 * One file to process. With `outputPath` the worker writes the processed file itself (the
 * command line); without it the processed bytes come back to the main thread as `WorkerChunk`s,
 * which writes them where it wants (the service: both copies at once, through its file-system
 * port) and answers each with a `ChunkAck` that hands the buffer back.
 */
export interface WorkerJob {
  type: 'job';
  id: number;
  rawPath: string;
  outputPath?: string | undefined;
  /**
   * Background work: the worker pauses at the processing's checkpoints while the pool's hold is
   * set (a new exposure in flight), for at most `MAX_HOLD_MS` at a time.
   */
  yields?: boolean | undefined;
  nowMs: number;
  options: WorkerOptions;
}

/** Processed bytes for `position` onwards, in a buffer transferred to the main thread. */
export interface WorkerChunk {
  type: 'chunk';
  id: number;
  position: number;
  bytes: Uint8Array;
}

/** A chunk written (or not: `error`); `buffer` is the chunk's, transferred back for reuse. */
export interface ChunkAck {
  type: 'ack';
  id: number;
  buffer: ArrayBuffer;
  error?: string | undefined;
}

/** Where each HDU of the processed file is and what its header and data sum to (the writer's `WrittenHdu`). */
export type WrittenLayout = { bytes: number; hdus: WrittenHdu[] };

export type WorkerReply =
  | { type: 'done'; id: number; ok: true; outcomes: StepOutcome[]; uniqName: string; bytes: number; layout: WrittenLayout; timings: Record<string, number> }
  | { type: 'done'; id: number; ok: false; error: { name: string; code: string; message: string; expected: boolean; stack?: string | undefined } };

export type ToWorker = WorkerJob | ChunkAck;

/** What every worker gets at its start: the pool's hold flag (Int32 0 = run, 1 = yielding jobs wait). */
export interface WorkerStart {
  hold: SharedArrayBuffer;
}

/** The longest a yielding job waits at one checkpoint: a hold can delay background work, never stop it. */
export const MAX_HOLD_MS = 5000;
export type FromWorker = WorkerChunk | WorkerReply;
