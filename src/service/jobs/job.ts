/**
 * One queued file, start to end, as a list of named stages (job-stages.ts: recover, process,
 * copy, confirm, commit, record; behaviour.md §3 and §6). The retry and abandon policy is here,
 * once: transient failures (NFS away, disk full, permissions) are retried with back-off while the
 * file stays queued; permanent ones (not FITS, unusable header) are recorded at once with their
 * reason; a raw file that changed after it was read abandons the attempt (nothing visible) and
 * is waited for again; the service's stop ends a back-off wait at once and leaves the file queued.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { sleepUnlessAborted } from '../../base/clock.js';
import { backoffMs, DeliveryError, type DeliveryProgress, type DeliveryResult, type PreparedDelivery } from './deliver.js';
import type { LedgerRow } from '../ledger/ledger.js';
import { isLedgerUnavailable, whenLedgerWritable } from '../ledger/ledger-availability.js';
import {
  classify, commit, confirm, copy, processRaw, recordDelivered, recover, JOB_STAGES,
  type Job, type JobContext, type JobStage, type Processed, type Unsettled,
} from './job-stages.js';

export { JOB_STAGES } from './job-stages.js';
export type { JobContext, JobStage, Unsettled } from './job-stages.js';

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

/** Time spent in each stage of one job, for the debug log (and the latency benchmark). */
class StageTimes {
  private readonly ms = new Map<JobStage, number>();
  private readonly started = performance.now();

  async time<T>(stage: JobStage, fn: () => Promise<T>): Promise<T> {
    const from = performance.now();
    try {
      return await fn();
    } finally {
      this.ms.set(stage, (this.ms.get(stage) ?? 0) + performance.now() - from);
    }
  }

  summary(): string {
    return `job took ${Math.round(performance.now() - this.started)} ms: ${JOB_STAGES.map((s) => `${s} ${Math.round(this.ms.get(s) ?? 0)}`).join(', ')}`;
  }
}

export async function runJob(
  ctx: JobContext, row: LedgerRow, onRetry: (row: LedgerRow, err: Error, delayMs: number) => void,
  /** The raw file as it was read; checked just before the first final name. Undefined: no check. */
  unsettled?: Unsettled,
  /** Temporaries an earlier run of this job could not remove (a `changed` outcome's): removed before delivering. */
  leftovers: string[] = [],
): Promise<JobOutcome> {
  const job = jobOf(ctx, row);
  const { name, record } = job;
  const { ledger, logger } = ctx;
  const times = new StageTimes();
  const recovered = await times.time('recover', () => recover(job, leftovers));
  let progress: DeliveryProgress | undefined = recovered.progress;
  let processed: Processed | undefined = recovered.processed;
  let current = await record(() => ledger.markProcessing(row.id));
  // Once a final name exists, the delivery is finished whatever the raw file does meanwhile.
  let confirmed = unsettled === undefined || progress?.procPath !== undefined;
  if (processed === undefined) logger.info(`Processing ${name}...`);

  /** Throws away a prepared repository copy; what cannot be removed now, the next attempt removes. */
  const abandon = async (prepared: PreparedDelivery): Promise<string[]> => {
    const left = await prepared.abandon();
    for (const path of left) logger.warn(`${name}: could not remove ${path}; the next attempt removes it`);
    progress = { ...progress, leftovers: [...(progress?.leftovers ?? []), ...left] };
    return left;
  };
  /** The raw file changed under the job: nothing is delivered, the file is waited for again. */
  const changed = async (why: string, left: string[]): Promise<JobOutcome> => {
    logger.info(`${name}: changed while it was processed${why}; waiting for it again`);
    if (processed !== undefined && progress?.procPath === undefined) await rm(processed.tempPath, { force: true });
    return { kind: 'changed', row: await record(() => ledger.markWaiting(row.id)), leftovers: left };
  };

  for (let attempt = 1; ; attempt++) {
    try {
      if (processed === undefined) ({ processed, row: current } = await times.time('process', () => processRaw(job, current)));
      const made = processed;
      const prepared = await times.time('copy', () => copy(job, made, progress));
      // The settle interval (none for a triggered file) is waited for outside the channel's
      // lock, so that it holds up no other file; the check itself is made inside it, just
      // before the first final name appears.
      if (!confirmed) await times.time('confirm', () => unsettled!.heldStill);
      const result = await withLock(ctx.channelLocks, job.channel, async () => {
        if (!confirmed) {
          const same = await times.time('confirm', () => confirm(job, unsettled!)).catch(async (err: unknown) => {
            // The raw file cannot be looked at (NFS away): the copy is not left in repoDir meanwhile.
            await abandon(prepared);
            throw err;
          });
          if (!same) return undefined;
        }
        return times.time('commit', () => commit(job, prepared));
      });
      if (result === undefined) return await changed('', await abandon(prepared));
      current = await times.time('record', () => recordDelivered(job, result));
      logger.debug(`${name}: ${times.summary()}`);
      logger.info(made.warnings.length > 0 ? `Done: ${name} processed and archived with ${made.warnings.length} warning(s)` : `Done: ${name} processed and archived`);
      return { kind: 'delivered', row: current, result, warnings: made.warnings };
    } catch (err) {
      // A retry checks the raw file again before its first name, unless a name was given.
      if (err instanceof DeliveryError && err.progress.procPath !== undefined) confirmed = true;
      if (ctx.signal.aborted && isLedgerUnavailable(err)) {
        // Stopping while the ledger could not record a step: it keeps the last state it did
        // record, and the next start resumes from there (finishing a delivery already made).
        logger.warn(`${name}: left for the next start; the ledger could not record its progress: ${(err as Error).message}`);
        return { kind: 'interrupted', row: current };
      }
      if (!confirmed && !(await confirm(job, unsettled!).catch(() => true))) {
        // Failed on a raw file that was still being written (azcam rewrote it after it looked
        // complete): not the file's fault. Wait for it again.
        return changed(` (${(err as Error).message})`, (err instanceof DeliveryError ? err.progress.leftovers : undefined) ?? []);
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
      // Not delivered, for good or for now: an unnamed processed temporary (154 MB for a full
      // frame) is of no use to anyone; a retry after a restart processes again.
      if (processed !== undefined && progress?.procPath === undefined) {
        const temp = processed.tempPath;
        await rm(temp, { force: true }).catch((e: Error) => logger.warn(`${name}: could not remove ${temp}: ${e.message}`));
      }
      if (ctx.signal.aborted && failure.retryable) {
        logger.warn(`${name}: not delivered before shutdown (${failure.message}); it stays queued for the next start`);
        return { kind: 'interrupted', row: current.state === 'queued' ? current : await record(() => ledger.recordRetry(row.id, { code: failure.code, message: failure.message })) };
      }
      current = await record(() => ledger.markFailed(row.id, { code: failure.code, message: failure.message }));
      logger.error(`${name}: ${failure.message}`);
      if (failure.stack) logger.error(`${name}: internal error, please report: ${failure.stack}`);
      return { kind: 'failed', row: current, code: failure.code, message: failure.message };
    }
  }
}

function jobOf(ctx: JobContext, row: LedgerRow): Job {
  const { config } = ctx;
  const name = basename(row.path);
  const parts = nameParts(name, new RegExp(config.watch.namePattern));
  const obsDate = parts.obsDate ?? row.obsDate ?? 'unknown-date';
  return {
    ctx, row, name, obsDate,
    channel: parts.channel ?? row.channel ?? 'unknown',
    dayDir: join(config.paths.procDir, obsDate),
    // A ledger that cannot be written for now (locked, disk full, read-only) holds the job at
    // that step until it can: the record never falls behind what was done on disk.
    record: (fn) => whenLedgerWritable(fn, { clock: ctx.clock, logger: ctx.logger, what: name, signal: ctx.signal, random: ctx.random }),
  };
}

/** sha256 of a file, streamed (for the ledger's record of the raw file). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
