/**
 * One queued file, start to end: attempts made of the named stages (job-stages.ts: recover,
 * process, copy, confirm, commit, record; behaviour.md §3 and §6), and after an attempt that did
 * not deliver, one decision (`afterFailure`): transient failures (NFS away, disk full,
 * permissions) are retried with back-off while the file stays queued; permanent ones (not FITS,
 * unusable header) are recorded at once with their reason; a raw file that changed after it was
 * read is waited for again (nothing visible); the service's stop ends a back-off wait at once and
 * leaves the file queued.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename, join } from 'node:path';
import { sleepUnlessAborted } from '../../base/clock.js';
import { backoffMs, DeliveryError, type DeliveryProgress, type DeliveryResult, type PreparedDelivery } from './deliver.js';
import type { LedgerRow } from '../ledger/ledger.js';
import { isLedgerUnavailable, whenLedgerWritable } from '../ledger/ledger-availability.js';
import { afterFailure } from './after-failure.js';
import {
  changedSince, classify, commit, confirm, copy, processRaw, recordDelivered, recover, removeUnnamed, seal, JOB_STAGES,
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

/** What an attempt leaves for the next: the processed copy (flushed, unnamed or named) and where delivery stopped. */
interface Carry {
  processed: Processed | undefined;
  progress: DeliveryProgress | undefined;
}

type Attempt =
  | { kind: 'delivered'; row: LedgerRow; carry: Carry; result: DeliveryResult; warnings: string[] }
  /** The raw file changed before the names: the copy is abandoned (what could not be removed is in `leftovers`). */
  | { kind: 'changed'; row: LedgerRow; carry: Carry; leftovers: string[] }
  | { kind: 'failed'; row: LedgerRow; carry: Carry; error: unknown };

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
  let current = row;
  try {
    let carry: Carry = await times.time('recover', () => recover(job, leftovers));
    current = await record(() => ledger.markProcessing(row.id));
    if (carry.processed === undefined) logger.info(`Processing ${name}...`);
    for (let attempt = 1; ; attempt++) {
      // Once a final name exists, the delivery is finished whatever the raw file does meanwhile.
      const pendingCheck = carry.progress?.procPath === undefined ? unsettled : undefined;
      const tried = await attemptDelivery(job, current, carry, pendingCheck, times);
      ({ row: current, carry } = tried);
      if (tried.kind === 'delivered') {
        logger.debug(`${name}: ${times.summary()}`);
        logger.info(tried.warnings.length > 0 ? `Done: ${name} processed and archived with ${tried.warnings.length} warning(s)` : `Done: ${name} processed and archived`);
        return { kind: 'delivered', row: current, result: tried.result, warnings: tried.warnings };
      }
      if (tried.kind === 'changed') return await waitAgain(job, carry, tried.leftovers, '');
      const failure = classify(tried.error);
      const named = carry.progress?.procPath !== undefined;
      const next = afterFailure({
        retryable: failure.retryable, ledgerDown: isLedgerUnavailable(tried.error), stopping: ctx.signal.aborted, named,
        rawChanged: pendingCheck !== undefined && !named && (await changedSince(job, pendingCheck)),
      });
      if (next === 'retry') {
        const delayMs = backoffMs(attempt, { random: ctx.random });
        current = await record(() => ledger.recordRetry(row.id, { code: failure.code, message: failure.message }));
        logger.warn(`${name}: ${failure.message}; retrying in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt})`);
        onRetry(current, tried.error as Error, delayMs);
        await sleepUnlessAborted(ctx.clock, delayMs, ctx.signal);
        // Queued while it waited; each retry is another attempt. A stop meanwhile leaves it queued.
        if (!ctx.signal.aborted) current = await record(() => ledger.markProcessing(row.id));
        if (!ctx.signal.aborted) continue;
      }
      if (next === 'wait-again') return await waitAgain(job, carry, carry.progress?.leftovers ?? [], ` (${failure.message})`);
      // Not delivered, for good or for now: an unnamed processed copy is of no use to anyone.
      if (!named) await removeUnnamed(job, carry.processed);
      if (next === 'record') {
        current = await record(() => ledger.markFailed(row.id, { code: failure.code, message: failure.message }));
        logger.error(`${name}: ${failure.message}`);
        if (failure.stack) logger.error(`${name}: internal error, please report: ${failure.stack}`);
        return { kind: 'failed', row: current, code: failure.code, message: failure.message };
      }
      if (isLedgerUnavailable(tried.error)) throw tried.error;
      logger.warn(`${name}: not delivered before shutdown (${failure.message}); it stays queued for the next start`);
      return { kind: 'interrupted', row: current.state === 'queued' ? current : await record(() => ledger.recordRetry(row.id, { code: failure.code, message: failure.message })) };
    }
  } catch (err) {
    // Stopping while the ledger could not record a step: it keeps the last state it did record,
    // and the next start resumes from there (finishing a delivery already made).
    if (!(ctx.signal.aborted && isLedgerUnavailable(err))) throw err;
    logger.warn(`${name}: left for the next start; the ledger could not record its progress: ${(err as Error).message}`);
    return { kind: 'interrupted', row: current };
  }
}

/** The raw file changed under the job: nothing is delivered, the file is waited for again. */
async function waitAgain(job: Job, carry: Carry, leftovers: string[], why: string): Promise<JobOutcome> {
  job.ctx.logger.info(`${job.name}: changed while it was processed${why}; waiting for it again`);
  await removeUnnamed(job, carry.processed);
  return { kind: 'changed', row: await job.record(() => job.ctx.ledger.markWaiting(job.row.id)), leftovers };
}

/**
 * One attempt: process (unless a processed copy is carried over) into both copies, or copy the
 * carried one; wait for the raw file to hold still; then, under the channel's lock, check it
 * and give the names. Never throws: a failure comes back with what is left for the next attempt.
 */
async function attemptDelivery(job: Job, row: LedgerRow, from: Carry, pendingCheck: Unsettled | undefined, times: StageTimes): Promise<Attempt> {
  let processed = from.processed;
  let prepared: PreparedDelivery | undefined;
  try {
    if (processed === undefined) {
      const produced = await times.time('process', () => processRaw(job, row, from.progress));
      ({ row } = produced);
      prepared = await times.time('copy', () => seal(produced));
      ({ processed } = produced);
    } else {
      const made = processed;
      prepared = await times.time('copy', () => copy(job, made, from.progress));
    }
    const ready = prepared;
    // The settle interval (none for a triggered file) is waited for outside the channel's lock,
    // so that it holds up no other file; the check itself is made inside it, just before the
    // first final name appears.
    if (pendingCheck) await times.time('confirm', () => pendingCheck.heldStill);
    const result = await withLock(job.ctx.channelLocks, job.channel, async () => {
      if (pendingCheck && !(await times.time('confirm', () => confirm(job, pendingCheck)))) return undefined;
      return times.time('commit', () => commit(job, ready));
    });
    if (result === undefined) return { kind: 'changed', row, carry: { processed, progress: from.progress }, leftovers: await abandon(job, ready) };
    row = await times.time('record', () => recordDelivered(job, result));
    return { kind: 'delivered', row, carry: { processed, progress: from.progress }, result, warnings: processed.warnings };
  } catch (error) {
    const progress = error instanceof DeliveryError ? error.progress : from.progress;
    // A copy made but not named (the raw file could not be looked at) is not left in repoDir.
    const left = prepared !== undefined && progress?.procPath === undefined ? await abandon(job, prepared) : [];
    return { kind: 'failed', row, error, carry: { processed, progress: left.length === 0 ? progress : { ...progress, leftovers: [...(progress?.leftovers ?? []), ...left] } } };
  }
}

/** Throws away a prepared repository copy; what cannot be removed now, the next attempt removes. */
async function abandon(job: Job, prepared: PreparedDelivery): Promise<string[]> {
  const left = await prepared.abandon();
  for (const path of left) job.ctx.logger.warn(`${job.name}: could not remove ${path}; the next attempt removes it`);
  return left;
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
