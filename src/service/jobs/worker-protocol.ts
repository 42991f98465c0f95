import type { ProcessingOptions, StepOutcome } from '../../steps/types.js';

/** Processing options that cross the thread boundary (the worker loads its own tables). */
export type WorkerOptions = Omit<ProcessingOptions, 'leapSeconds' | 'clock'> & { checksums: boolean; fsync: boolean };

export interface WorkerJob {
  id: number;
  rawPath: string;
  outputPath: string;
  nowMs: number;
  options: WorkerOptions;
}

export type WorkerReply =
  | { id: number; ok: true; outcomes: StepOutcome[]; uniqName: string; bytes: number; timings: Record<string, number> }
  | { id: number; ok: false; error: { name: string; code: string; message: string; expected: boolean; stack?: string | undefined } };
