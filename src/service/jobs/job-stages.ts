/**
 * The stages of one job, each a function with typed inputs and outputs; `runJob` (job.ts) runs
 * them in order and holds the retry and abandon policy. Log lines and docs use these names.
 *
 * recover  — a start that finds this file half delivered by the last run resumes that delivery
 * process  — the raw file processed once (worker thread), its bytes written as they are made
 *            into both temporaries at once: the day folder's and the repository's (one-pass.ts)
 * copy     — both flushed together and the repository copy verified, still under temporary
 *            names (or, resuming, the repository copy made from the processed file)
 * confirm  — the raw file is still the one that was read (behaviour.md §3), just before names
 * commit   — the final names, in the order of behaviour.md §6, and the pointer
 * record   — the delivery in the ledger
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readStructure, withFileSource } from '../../fits/index.js';
import { DatamanError } from '../../errors.js';
import type { ServiceClock } from '../../base/clock.js';
import type { Logger } from '../../ops/logger.js';
import type { DatamanConfig } from '../../ops/config.js';
import { prepareDelivery, prepareProcTemp, type DeliveryOptions, type DeliveryProgress, type DeliveryRequest, type DeliveryResult, type FsPort, type PreparedDelivery } from './deliver.js';
import { onePassDelivery, type OnePassDelivery } from './one-pass.js';
import { DeliveryError, isTransientErrno } from './delivery-errors.js';
import type { Ledger, LedgerRow } from '../ledger/ledger.js';
import { ProcessingError, type WorkerPool } from './worker-pool.js';
import type { WorkerOptions } from './worker-protocol.js';
import { findOrphans, removeStaleTemps } from './recovery.js';
import { confirmSettled, type FileIdentity } from '../discovery/readiness.js';

export const JOB_STAGES = ['recover', 'process', 'copy', 'confirm', 'commit', 'record'] as const;
export type JobStage = (typeof JOB_STAGES)[number];

export interface JobContext {
  config: DatamanConfig;
  ledger: Ledger;
  pool: WorkerPool;
  logger: Logger;
  clock: ServiceClock;
  fs: FsPort | undefined;
  /** Background work (behaviour.md §2.6): its processing pauses while a new exposure is in flight. */
  yields?: boolean | undefined;
  workerOptions: WorkerOptions;
  /**
   * Aborted as soon as a stop is requested: a back-off or ledger wait ends at once, the file
   * stays queued for the next start and its unnamed temporaries are removed.
   */
  signal: AbortSignal;
  random: () => number;
  /** One delivery at a time per channel, so that the pointer rule's look at `<CHAN>.new` and its write are never interleaved. */
  channelLocks: Map<string, Promise<unknown>>;
  /** When this service started (its clock): temporaries written before then are a dead run's. */
  runningSinceMs?: number;
}

/** A file taken at its first whole look: it must still be that file when the names are given. */
export interface Unsettled {
  size: number;
  mtimeMs: number;
  identity?: FileIdentity | undefined;
  /** Resolves when the settle interval is over: at once for a triggered file. */
  heldStill: Promise<void>;
}

/** What every stage knows about the job. */
export interface Job {
  ctx: JobContext;
  /** The row as queued (its id and path). */
  row: LedgerRow;
  name: string;
  channel: string;
  obsDate: string;
  dayDir: string;
  /** One ledger operation, waited for while the ledger cannot be written (see `whenLedgerWritable`). */
  record: <T>(fn: () => T) => Promise<T>;
}

/** A processed temporary in the day folder, not yet named. */
export interface Processed {
  tempPath: string;
  instrumentId: string;
  warnings: string[];
}

// ------------------------------------------------------------------------------- recover

export interface Recovered {
  progress: DeliveryProgress | undefined;
  /** Set when the last run had named the processed copy: delivery resumes from it. */
  processed: Processed | undefined;
}

export async function recover(job: Job, leftovers: string[]): Promise<Recovered> {
  const { ctx, row, name, dayDir } = job;
  const { config, ledger, logger } = ctx;
  let progress = await findOrphans(row, dayDir, config.paths.repoDir, ledger, job.record);
  if (leftovers.length > 0) progress = { ...progress, leftovers: [...(progress?.leftovers ?? []), ...leftovers] };
  if (row.startedAt !== null) {
    for (const temp of await removeStaleTemps([dayDir, config.paths.repoDir], name, ctx.clock.now(), ctx.runningSinceMs)) {
      logger.info(`${name}: removed ${temp}, left by a run that stopped while working on it`);
    }
  }
  if (progress?.procPath === undefined) return { progress, processed: undefined };
  logger.warn(`${name}: the last run stopped while delivering it; finishing that delivery of ${progress.procPath}`);
  const instrumentId = (await describe(progress.procPath)).instrument?.toLowerCase() ?? job.channel;
  return { progress, processed: { tempPath: join(dayDir, `.${name}.recovered`), instrumentId, warnings: [] } };
}

// ------------------------------------------------------------------------------- process

/** Processed, both temporaries written but not yet flushed: `seal` is the copy stage. */
export interface Produced {
  processed: Processed;
  row: LedgerRow;
  copies: OnePassDelivery;
}

/** `progress`: an earlier attempt's, whose leftover temporaries this one removes first. */
export async function processRaw(job: Job, current: LedgerRow, progress: DeliveryProgress | undefined): Promise<Produced> {
  const { ctx, row, name, channel, obsDate } = job;
  const { config, logger, ledger } = ctx;
  const { tempPath } = await prepareProcTemp(config.paths.procDir, obsDate, name, { dirMode: config.delivery.dirMode, ...(ctx.fs ? { fs: ctx.fs } : {}) });
  // The instrument (for UNIQNAME) is known once processed: `seal` is told it.
  const copies = onePassDelivery({ ...deliveryRequest(job, tempPath, channel), resume: progress }, deliveryOptions(job));
  // A failure here removes both temporaries (the delivery's step clean-up).
  const result = await copies.write((write) => ctx.pool.produce(row.path, ctx.workerOptions, ctx.clock.now(), write, { yields: ctx.yields === true }));
  try {
    logger.debug(`${name}: processed (${Object.entries(result.timings).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')})`);
    const warnings = result.outcomes.flatMap((o) => [
      ...(o.status === 'skipped' ? [`${o.step} skipped: ${o.reason}`] : []),
      ...o.warnings.map((w) => `${o.step}: ${w}`),
    ]);
    for (const w of warnings) logger.warn(`${name}: ${w}`);
    const summary = await describe(tempPath);
    const updated = await job.record(() => ledger.setDetails(row.id, {
      warnings: [...current.warnings, ...warnings],
      imageType: summary.imageType, object: summary.object, exptime: summary.exptime, obsDate, channel,
    }));
    return { processed: { tempPath, instrumentId: summary.instrument?.toLowerCase() ?? channel, warnings }, row: updated, copies };
  } catch (err) {
    await copies.abandon();
    throw err;
  }
}

// ---------------------------------------------------------------------------------- copy

/** Both copies flushed and the repository copy verified; on failure the day copy goes too (a retry processes again). */
export function seal(produced: Produced): Promise<PreparedDelivery> {
  return produced.copies.seal(produced.processed.instrumentId);
}

/** The repository copy made from a processed file already there (a retry, or a delivery resumed after a restart). */
export function copy(job: Job, processed: Processed, progress: DeliveryProgress | undefined): Promise<PreparedDelivery> {
  return prepareDelivery({ ...deliveryRequest(job, processed.tempPath, processed.instrumentId), resume: progress }, deliveryOptions(job));
}

function deliveryRequest(job: Job, tempPath: string, instrumentId: string): DeliveryRequest {
  const { config } = job.ctx;
  return {
    tempPath, repoDir: config.paths.repoDir, baseName: job.name, channel: job.channel, instrumentId,
    fileMode: config.delivery.fileMode, verifyChecksums: config.delivery.checksums,
  };
}

function deliveryOptions(job: Job): DeliveryOptions {
  const { ctx } = job;
  return { clock: ctx.clock, timeZone: ctx.config.timeZone, ...(ctx.fs ? { fs: ctx.fs } : {}) };
}

/**
 * Removes a processed temporary that got no final name (154 MB for a full frame, of no use to
 * anyone: a later attempt processes again). What cannot be removed is said, never thrown: the
 * next start removes it (`removeStaleTemps`).
 */
export async function removeUnnamed(job: Job, processed: Processed | undefined): Promise<void> {
  if (processed === undefined) return;
  const temp = processed.tempPath;
  await rm(temp, { force: true }).catch((e: Error) => job.ctx.logger.warn(`${job.name}: could not remove ${temp}: ${e.message}`));
}

// ------------------------------------------------------------------------------- confirm

/** True when the raw file is still the one that was read (after the settle interval, if any). */
export function confirm(job: Job, unsettled: Unsettled): Promise<boolean> {
  return confirmSettled(job.row.path, unsettled);
}

/**
 * After a failed attempt: whether the raw file changed under it. A raw file that cannot be
 * looked at now counts as unchanged: the failure is then judged on its own.
 */
export function changedSince(job: Job, unsettled: Unsettled): Promise<boolean> {
  return confirm(job, unsettled).then((same) => !same, () => false);
}

// -------------------------------------------------------------------------------- commit

export async function commit(job: Job, prepared: PreparedDelivery): Promise<DeliveryResult> {
  const { ctx, name } = job;
  const result = await prepared.commit();
  for (const w of result.warnings) ctx.logger.warn(`${name}: ${w}`);
  ctx.logger.info(`Processed image ${name} written to ${result.procPath}`);
  ctx.logger.info(`Processed image ${name} copied to ${ctx.config.paths.repoDir} as ${result.deliveredName}`);
  // A delivery that is an earlier exposure leaves the pointer on the newer one (behaviour.md §6 step 3).
  if (result.pointer === 'moved') ctx.logger.info(`Updated ${result.pointerPath}`);
  else ctx.logger.info(`${result.pointerPath} not moved: ${result.pointerReason}`);
  return result;
}

// -------------------------------------------------------------------------------- record

/** Delivered: from here on only the record is missing, and it is waited for, never redone. */
export function recordDelivered(job: Job, result: DeliveryResult): Promise<LedgerRow> {
  return job.record(() => job.ctx.ledger.markDelivered(job.row.id, { procPath: result.procPath, repoPath: result.repoPath, deliveredName: result.deliveredName }));
}

// ------------------------------------------------------------------------- shared parts

export interface Failure {
  code: string;
  message: string;
  retryable: boolean;
  /** Set for unexpected errors (bugs), which keep their stack in the log. */
  stack?: string | undefined;
}

export function classify(err: unknown): Failure {
  if (err instanceof DeliveryError) return { code: err.code, message: err.message, retryable: err.retryable };
  if (err instanceof ProcessingError) {
    // An errno from reading the raw file or writing the temporary one is the disk's, not the file's.
    const errno = /^E[A-Z]+$/.test(err.code) ? err.code : undefined;
    if (errno !== undefined && isTransientErrno(errno)) return { code: `processing-${errno}`, message: err.message, retryable: true };
    return { code: err.code, message: err.message, retryable: false, stack: err.expected ? undefined : err.workerStack };
  }
  if (err instanceof DatamanError) return { code: err.code, message: err.message, retryable: false };
  const errno = (err as NodeJS.ErrnoException)?.code;
  if (typeof errno === 'string' && isTransientErrno(errno)) return { code: errno, message: (err as Error).message, retryable: true };
  return { code: 'internal', message: (err as Error)?.message ?? String(err), retryable: false, stack: (err as Error)?.stack };
}

/** What the operator surface shows about a file, from its processed primary header. */
async function describe(path: string): Promise<{ instrument: string | undefined; imageType: string | null; object: string | null; exptime: number | null }> {
  const s = await withFileSource(path, readStructure);
  const h = s.hdus[0]!.header;
  return {
    instrument: h.string('INSTRUME')?.trim(),
    imageType: h.string('IMAGETYP') ?? null,
    object: h.string('OBJECT') ?? null,
    exptime: h.number('EXPTIME') ?? null,
  };
}
