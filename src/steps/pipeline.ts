/**
 * The processing pipeline: UNIQNAME, then fixDETSEC → fixDateTime → fixTemps → fixMisc →
 * makeOTM, each switchable, each reporting its outcome. Headers are edited in place (unchanged
 * cards keep their bytes), data units are copied byte for byte, MERGED is appended (or replaces
 * the MERGED of an earlier run). One entry point serves `dataman process` and the service.
 */
import { open, rm } from 'node:fs/promises';
import { FileSource, writeFits, type Hdu, type HduOutput, type WriteResult, type WriteSink } from '../fits/index.js';
import { isoUtcSeconds } from '../base/local-time.js';
import { openRawFile, type RawFile } from './raw-file.js';
import { fixDetsec } from './fix-detsec.js';
import { fixDateTime } from './fix-date-time.js';
import { fixTemps } from './fix-temps.js';
import { fixMisc } from './fix-misc.js';
import { buildMergedImage, markQuadrants, MergeError, mergedHeader } from './merged-preview.js';
import { stampUniqueName } from './unique-name.js';
import { applied, skipped, STEP_NAMES, type ProcessingOptions, type StepName, type StepOutcome } from './types.js';

export interface ProcessedFile {
  raw: RawFile;
  /** HDUs to write, in order. */
  outputs: HduOutput[];
  outcomes: StepOutcome[];
  uniqName: string;
  /** Wall time of each stage in ms, in order (for benchmarks and the status page). */
  timings: Record<string, number>;
  /** Gives the merge's memory back once the outputs are written (they are invalid after). */
  release(): void;
}

/** Applies the enabled steps to an opened raw file (headers in memory; MERGED computed). */
export async function processRaw(raw: RawFile, options: ProcessingOptions): Promise<ProcessedFile> {
  const { name, outcome } = stampUniqueName(raw.primary, options.clock, options.timeZone);
  const outcomes: StepOutcome[] = [outcome];
  const timings: Record<string, number> = {};
  let merged: HduOutput | undefined;
  let storedData: Map<Hdu, { bytes: Buffer; datasum: number }> | undefined;
  let release = () => {};
  for (const step of STEP_NAMES) {
    if (!options.steps[step]) {
      outcomes.push({ step, status: 'disabled', warnings: [] });
      continue;
    }
    const started = performance.now();
    switch (step) {
      case 'fixDETSEC': outcomes.push(fixDetsec(raw)); break;
      case 'fixDateTime': outcomes.push(fixDateTime(raw, options)); break;
      case 'fixTemps': outcomes.push(await fixTemps(raw, options)); break;
      case 'fixMisc': outcomes.push(fixMisc(raw)); break;
      case 'makeOTM': {
        const result = await makeMerged(raw, options.checkpoint);
        outcomes.push(result.outcome);
        merged = result.hdu;
        storedData = result.storedData;
        release = result.release ?? release;
        break;
      }
    }
    timings[step] = performance.now() - started;
  }
  const outputs: HduOutput[] = raw.hdus
    .filter((h) => merged === undefined || h !== raw.merged)
    .map((h) => {
      const stored = storedData?.get(h);
      // The merge read IM1..IM4 already: copy the very bytes it saw.
      return { header: h.header, data: stored ? { kind: 'bytes', bytes: stored.bytes, datasum: stored.datasum } : { kind: 'copy', source: raw.source, offset: h.dataOffset, length: h.dataPaddedBytes } };
    });
  if (merged) outputs.push(merged);
  return { raw, outputs, outcomes, uniqName: name, timings, release };
}

async function makeMerged(raw: RawFile, checkpoint: (() => void) | undefined): Promise<{ outcome: StepOutcome; hdu?: HduOutput; storedData?: Map<Hdu, { bytes: Buffer; datasum: number }>; release?: () => void }> {
  try {
    const image = await buildMergedImage(raw, checkpoint);
    markQuadrants(raw);
    // Built after the other steps so that MERGED carries the processed primary header.
    const data = { kind: 'stream', length: image.byteLength, chunks: image.chunks } as const;
    return { outcome: applied('makeOTM'), hdu: { header: mergedHeader(raw.primary, image), data }, storedData: image.storedData, release: image.release };
  } catch (err) {
    if (err instanceof MergeError) return { outcome: skipped('makeOTM', err.message) };
    throw err;
  }
}

export interface ProcessFileOptions extends ProcessingOptions {
  /** Write CHECKSUM/DATASUM into every HDU. @default true */
  checksums?: boolean;
  /** Sync the output to disk before returning. @default false (the delivery layer decides) */
  fsync?: boolean;
}

export interface ProcessFileResult {
  outcomes: StepOutcome[];
  uniqName: string;
  bytes: number;
  write: WriteResult;
  /**
   * Wall time per stage in ms: open (headers), each step, write (including fsync when asked).
   * makeOTM reads the amplifiers and measures the bias; the merged pixels are made while written.
   */
  timings: Record<string, number>;
}

/**
 * Processes `rawPath` into `outputPath`, which must not exist (opened with O_EXCL: nothing is
 * ever overwritten). On failure the partial output is removed.
 */
export async function processFile(rawPath: string, outputPath: string, options: ProcessFileOptions): Promise<ProcessFileResult> {
  const out = await open(outputPath, 'wx');
  let ok = false;
  try {
    const result = await processInto(rawPath, out, options);
    if (options.fsync) {
      const started = performance.now();
      await out.sync();
      result.timings.write = (result.timings.write ?? 0) + performance.now() - started;
    }
    ok = true;
    return result;
  } finally {
    await out.close();
    if (!ok) await removeQuietly(outputPath);
  }
}

/**
 * Processes `rawPath` into `sink` (positional writes from 0): the one pass the service turns into
 * both of its copies. With `sums`, every HDU's header and data sums are in `write.hdus` even
 * without checksums stamped. Flushing and closing are the caller's.
 */
export async function processInto(rawPath: string, sink: WriteSink, options: ProcessFileOptions & { sums?: boolean }): Promise<ProcessFileResult> {
  const opened = performance.now();
  const source = await FileSource.open(rawPath);
  try {
    const raw = await openRawFile(source);
    const openMs = performance.now() - opened;
    const processed = await processRaw(raw, options);
    try {
      const writeStarted = performance.now();
      const write = await writeFits(sink, processed.outputs, {
        checksums: options.checksums === false ? undefined : { timestamp: isoUtcSeconds(options.clock.now()) },
        sums: options.sums === true,
      });
      const timings = { open: openMs, ...processed.timings, write: performance.now() - writeStarted };
      return { outcomes: processed.outcomes, uniqName: processed.uniqName, bytes: write.bytes, write, timings };
    } finally {
      processed.release();
    }
  } finally {
    await source.close();
  }
}

async function removeQuietly(path: string): Promise<void> {
  // The original error is what matters; a failed clean-up must not replace it.
  await rm(path, { force: true }).catch(() => undefined);
}

// Here for its old importers; it lives with the outcomes so that light modules can use it.
export { outcomeMessages } from './types.js';

export type { StepName };
