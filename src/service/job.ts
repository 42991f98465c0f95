/**
 * One queued file, start to end: process it on a worker thread into a temporary file in the day
 * folder, deliver it (behaviour.md §6), record the outcome in the ledger. Transient failures
 * (NFS away, disk full, permissions) are retried with back-off while the file stays queued;
 * permanent ones (not FITS, unusable header) are recorded at once with their reason.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename, join } from 'node:path';
import { readStructure, withFileSource } from '../fits/index.js';
import { DatamanError } from '../errors.js';
import { type ServiceClock, sleep } from '../base/clock.js';
import type { Logger } from '../ops/logger.js';
import type { DatamanConfig } from '../ops/config.js';
import { backoffMs, DeliveryError, prepareDelivery, prepareProcTemp, type DeliveryProgress, type DeliveryResult, type FsPort } from './deliver.js';
import { isTransientErrno } from './delivery-errors.js';
import { isLedgerUnavailable, whenLedgerWritable, type Ledger, type LedgerRow } from './ledger.js';
import { ProcessingError, type WorkerPool } from './worker-pool.js';
import type { WorkerOptions } from './worker-protocol.js';
import { findOrphans, removeStaleTemps } from './recovery.js';
import { confirmSettled } from './readiness.js';
import { rm } from 'node:fs/promises';

export interface JobContext {
  config: DatamanConfig;
  ledger: Ledger;
  pool: WorkerPool;
  logger: Logger;
  clock: ServiceClock;
  fs: FsPort | undefined;
  workerOptions: WorkerOptions;
  /** Aborted when the service stops: retries end, the file stays queued for the next start. */
  signal: AbortSignal;
  random: () => number;
  /** One delivery at a time per channel, so that `<CHAN>.new` always names the last one delivered. */
  channelLocks: Map<string, Promise<unknown>>;
  /** When this service started (its clock): temporaries written before then are a dead run's. */
  runningSinceMs?: number;
}

/** Runs `fn` after every earlier holder of `key` has finished. */
export async function withLock<T>(locks: Map<string, Promise<unknown>>, key: string, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(fn);
  const tail = run.catch(() => undefined);
  locks.set(key, tail);
  try {
    return await run;
  } finally {
    if (locks.get(key) === tail) locks.delete(key);
  }
}

export type JobOutcome =
  | { kind: 'delivered'; row: LedgerRow; result: DeliveryResult; warnings: string[] }
  /** The raw file changed after it looked complete: nothing was delivered; wait for it again. */
  | { kind: 'changed'; row: LedgerRow; leftovers: string[] }
  | { kind: 'failed'; row: LedgerRow; code: string; message: string }
  | { kind: 'interrupted'; row: LedgerRow };

/** Names of the channel and observing date in a raw file name (`<chan>.<YYYYMMDD>.<NNNN>.fits`). */
export function nameParts(name: string, pattern: RegExp): { channel: string | null; obsDate: string | null } {
  const m = pattern.exec(name);
  const [first, second] = name.split('.');
  const channel = m?.[1] ?? first ?? null;
  const obsDate = m?.[2] ?? (second && /^\d{8}$/.test(second) ? second : null);
  return { channel: channel ? channel.toLowerCase() : null, obsDate };
}

/** A file taken at its first complete look: it must still be unchanged a settle interval later. */
export interface Unsettled {
  size: number;
  mtimeMs: number;
  /** Resolves one settle interval after the look, on the service's timers. */
  heldStill: Promise<void>;
}

export async function runJob(
  ctx: JobContext, row: LedgerRow, onRetry: (row: LedgerRow, err: Error, delayMs: number) => void, unsettled?: Unsettled,
  /** Temporaries an earlier run of this job could not remove (a `changed` outcome's): removed before delivering. */
  leftovers: string[] = [],
): Promise<JobOutcome> {
  const { config, ledger, logger } = ctx;
  const name = basename(row.path);
  const parts = nameParts(name, new RegExp(config.watch.namePattern));
  const obsDate = parts.obsDate ?? row.obsDate ?? 'unknown-date';
  const channel = parts.channel ?? row.channel ?? 'unknown';
  const dayDir = join(config.paths.procDir, obsDate);
  // A ledger that cannot be written for now (locked, disk full, read-only) holds the job at that
  // step until it can: the record never falls behind what was done on disk.
  const record = <T>(fn: () => T): Promise<T> => whenLedgerWritable(fn, {
    clock: ctx.clock, logger, what: name, signal: ctx.signal, random: ctx.random,
  });
  // A start that finds this file half delivered by the last run finishes that delivery.
  let progress: DeliveryProgress | undefined = await findOrphans(row, dayDir, config.paths.repoDir, ledger, record);
  if (leftovers.length > 0) progress = { ...progress, leftovers: [...(progress?.leftovers ?? []), ...leftovers] };
  if (row.startedAt !== null) {
    for (const temp of await removeStaleTemps([dayDir, config.paths.repoDir], name, ctx.clock.now(), ctx.runningSinceMs)) {
      logger.info(`${name}: removed ${temp}, left by a run that stopped while working on it`);
    }
  }
  let current = await record(() => ledger.markProcessing(row.id));
  let processedTemp: string | undefined;
  let instrumentId = channel;
  let warnings: string[] = [];
  if (progress?.procPath !== undefined) {
    logger.warn(`${name}: the last run stopped while delivering it; finishing that delivery of ${progress.procPath}`);
    processedTemp = join(dayDir, `.${name}.recovered`);
    instrumentId = (await describe(progress.procPath)).instrument?.toLowerCase() ?? channel;
  } else {
    logger.info(`Processing ${name}...`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      if (processedTemp === undefined) {
        const { tempPath } = await prepareProcTemp(config.paths.procDir, obsDate, name, { dirMode: config.delivery.dirMode, ...(ctx.fs ? { fs: ctx.fs } : {}) });
        const processingStarted = performance.now();
        const result = await ctx.pool.process(row.path, tempPath, ctx.workerOptions, ctx.clock.now());
        processedTemp = tempPath;
        logger.debug(`${name}: processed in ${Math.round(performance.now() - processingStarted)} ms (${Object.entries(result.timings).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')})`);
        warnings = result.outcomes.flatMap((o) => [
          ...(o.status === 'skipped' ? [`${o.step} skipped: ${o.reason}`] : []),
          ...o.warnings.map((w) => `${o.step}: ${w}`),
        ]);
        for (const w of warnings) logger.warn(`${name}: ${w}`);
        const summary = await describe(tempPath);
        instrumentId = summary.instrument?.toLowerCase() ?? channel;
        const before = current;
        current = await record(() => ledger.setDetails(row.id, {
          warnings: [...before.warnings, ...warnings],
          imageType: summary.imageType, object: summary.object, exptime: summary.exptime, obsDate, channel,
        }));
      }
      const tempPath = processedTemp;
      const deliveryStarted = performance.now();
      // The repository copy is made and verified while the settle interval may still run; only
      // the final names wait for it (and for the channel, so that `<CHAN>.new` names the last).
      const delivery = await prepareDelivery({
        tempPath, repoDir: config.paths.repoDir, baseName: name, channel, instrumentId,
        fileMode: config.delivery.fileMode, verifyChecksums: config.delivery.checksums, resume: progress,
      }, { clock: ctx.clock, timeZone: config.timeZone, ...(ctx.fs ? { fs: ctx.fs } : {}) });
      const copiedMs = performance.now() - deliveryStarted;
      if (unsettled !== undefined) {
        // Processing overlapped the settle interval; nothing is delivered unless the raw file
        // held still through it (behaviour.md §3). A copy thrown away that cannot be removed
        // now is removed by the next attempt (`leftovers`).
        const abandon = async () => {
          const left = await delivery.abandon();
          for (const path of left) logger.warn(`${name}: could not remove ${path}; the next attempt removes it`);
          progress = { ...progress, leftovers: [...(progress?.leftovers ?? []), ...left] };
          return left;
        };
        const settled = await confirmSettled(row.path, unsettled).catch(async (err: unknown) => {
          // The raw file cannot be looked at (NFS away): the copy is not left in repoDir meanwhile.
          await abandon();
          throw err;
        });
        if (!settled) {
          logger.info(`${name}: changed while it was processed; waiting for it again`);
          const left = await abandon();
          await rm(processedTemp, { force: true });
          return { kind: 'changed', row: await record(() => ledger.markWaiting(row.id)), leftovers: left };
        }
        unsettled = undefined;
      }
      const commitStarted = performance.now();
      const result = await withLock(ctx.channelLocks, channel, () => delivery.commit());
      for (const w of result.warnings) logger.warn(`${name}: ${w}`);
      const ms = (from: number, to = performance.now()) => Math.round(to - from);
      logger.debug(`${name}: delivered in ${ms(deliveryStarted)} ms (copy made and verified ${Math.round(copiedMs)} ms, waiting for the settle interval ${ms(deliveryStarted + copiedMs, commitStarted)} ms, names and pointer ${ms(commitStarted)} ms)`);
      logger.info(`Processed image ${name} written to ${result.procPath}`);
      logger.info(`Processed image ${name} copied to ${config.paths.repoDir} as ${result.deliveredName}`);
      logger.info(`Updated ${result.pointerPath}`);
      // Delivered: from here on only the record is missing, and it is waited for, never redone.
      current = await record(() => ledger.markDelivered(row.id, { procPath: result.procPath, repoPath: result.repoPath, deliveredName: result.deliveredName }));
      logger.info(warnings.length > 0 ? `Done: ${name} processed and archived with ${warnings.length} warning(s)` : `Done: ${name} processed and archived`);
      return { kind: 'delivered', row: current, result, warnings };
    } catch (err) {
      if (ctx.signal.aborted && isLedgerUnavailable(err)) {
        // Stopping while the ledger could not record a step: it keeps the last state it did
        // record, and the next start resumes from there (finishing a delivery already made).
        logger.warn(`${name}: left for the next start; the ledger could not record its progress: ${(err as Error).message}`);
        return { kind: 'interrupted', row: current };
      }
      if (unsettled !== undefined && !(await confirmSettled(row.path, unsettled).catch(() => true))) {
        // Processing failed on a raw file that was still being written (azcam rewrote it after
        // it looked complete): not the file's fault. Wait for it again.
        logger.info(`${name}: changed while it was processed (${(err as Error).message}); waiting for it again`);
        if (processedTemp !== undefined) await rm(processedTemp, { force: true });
        return { kind: 'changed', row: await record(() => ledger.markWaiting(row.id)), leftovers: (err instanceof DeliveryError ? err.progress.leftovers : undefined) ?? [] };
      }
      const failure = classify(err);
      if (err instanceof DeliveryError) progress = err.progress;
      if (failure.retryable && !ctx.signal.aborted) {
        const delayMs = backoffMs(attempt, { random: ctx.random });
        current = await record(() => ledger.recordRetry(row.id, { code: failure.code, message: failure.message }));
        logger.warn(`${name}: ${failure.message}; retrying in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt})`);
        onRetry(current, err as Error, delayMs);
        await sleepUnlessAborted(ctx.clock, delayMs, ctx.signal);
        if (!ctx.signal.aborted) {
          // Queued while it waited; each retry is another attempt.
          current = await record(() => ledger.markProcessing(row.id));
          continue;
        }
      }
      if (ctx.signal.aborted && failure.retryable) {
        logger.warn(`${name}: not delivered before shutdown (${failure.message}); it stays queued for the next start`);
        return { kind: 'interrupted', row: current.state === 'queued' ? current : await record(() => ledger.recordRetry(row.id, { code: failure.code, message: failure.message })) };
      }
      if (processedTemp !== undefined && progress?.procPath === undefined) {
        // Failed before the processed file was named (a copy that never verifies): its 154 MB
        // temporary is of no use to anyone.
        await rm(processedTemp, { force: true }).catch((e: Error) => logger.warn(`${name}: could not remove ${processedTemp}: ${e.message}`));
      }
      current = await record(() => ledger.markFailed(row.id, { code: failure.code, message: failure.message }));
      logger.error(`${name}: ${failure.message}`);
      if (failure.stack) logger.error(`${name}: internal error, please report: ${failure.stack}`);
      return { kind: 'failed', row: current, code: failure.code, message: failure.message };
    }
  }
}

interface Failure {
  code: string;
  message: string;
  retryable: boolean;
  /** Set for unexpected errors (bugs), which keep their stack in the log. */
  stack?: string | undefined;
}

function classify(err: unknown): Failure {
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

async function sleepUnlessAborted(clock: ServiceClock, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await Promise.race([sleep(clock, ms), new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))]);
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

/** sha256 of a file, streamed (for the ledger's record of the raw file). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
