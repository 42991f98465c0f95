/**
 * Runs a queued file's job (`runJob`) and acts on its outcome: a delivered one is forgotten by
 * the watcher and checksummed for the record, a drop-folder file is moved to `done/` or
 * `failed/`, and anything `runJob` did not expect is recorded as the file's failure while the
 * service goes on. A file that changed under its job is handed back (`JobEnd` 'again'): the
 * intake, which owns the tracked files, waits for it again.
 */
import type { EventEmitter } from 'node:events';
import { basename } from 'node:path';
import { DatamanError } from '../../errors.js';
import type { DatamanConfig } from '../../ops/config.js';
import type { LedgerRow } from '../ledger/ledger.js';
import { isLedgerUnavailable } from '../ledger/ledger-availability.js';
import type { ServiceEvents } from '../events.js';
import { fileDropIfAny } from '../discovery/drop-folder.js';
import type { JobEnd, TrackedFile } from '../discovery/intake.js';
import type { DeliveryResult } from './deliver.js';
import { runJob, sha256File, type JobContext } from './job.js';
import type { WorkerOptions } from './worker-protocol.js';

/** What health is told of a job, before anyone hears of its outcome. */
export interface JobHealth {
  retried(row: LedgerRow, err: Error): void;
  ended(rowId: number): void;
  delivered(bytes: number): void;
}

/** What the job runner needs from the service that composes it: what every job gets, and more. */
export interface JobRunnerDeps extends Pick<JobContext, 'config' | 'ledger' | 'pool' | 'logger' | 'clock' | 'fs' | 'signal' | 'random'> {
  /** When the service started: temporaries written before then are a dead run's. */
  runningSinceMs: number;
  health: JobHealth;
  events: Pick<EventEmitter<ServiceEvents>, 'emit'>;
  /** Tells the listeners of a delivery, none of which can undo it (`DatamanService.notify`). */
  notifyDelivered: (row: LedgerRow, result: DeliveryResult) => void;
  /** The filesystem port of background jobs (`yieldingFs`); by default `fs`. */
  backgroundFs?: JobContext['fs'];
  /** Stops polling a delivered raw file. */
  forgetWatched: (path: string) => void;
  /** One ledger operation, waited for while the ledger is unavailable (`whenLedgerWritable`). */
  record: <T>(what: string, fn: () => T, failed?: unknown) => Promise<T>;
  isStopping: () => boolean;
}

export class JobRunner {
  /** One delivery at a time per channel, so that the pointer rule's look at `<CHAN>.new` and its write are never interleaved. */
  private readonly channelLocks = new Map<string, Promise<unknown>>();

  constructor(private readonly d: JobRunnerDeps) {}

  /** Runs the job of a tracked file (read only: the intake changes it); never rejects. */
  async run(path: string, tracked: Readonly<TrackedFile>): Promise<JobEnd> {
    const { d } = this;
    if (d.isStopping()) return { kind: 'done' }; // left queued in the ledger for the next start
    d.events.emit('job:start', tracked.row);
    let ended = false;
    const ctx: JobContext = {
      config: d.config, ledger: d.ledger, pool: d.pool, logger: d.logger, clock: d.clock,
      fs: tracked.lane === 'background' && d.backgroundFs !== undefined ? d.backgroundFs : d.fs,
      yields: tracked.lane === 'background',
      workerOptions: workerOptionsFrom(d.config), signal: d.signal, random: d.random,
      channelLocks: this.channelLocks, runningSinceMs: d.runningSinceMs,
    };
    try {
      const onRetry = (row: LedgerRow, err: Error, delayMs: number) => {
        d.health.retried(row, err);
        d.events.emit('job:retry', row, err, delayMs);
      };
      const outcome = await runJob(ctx, tracked.row, onRetry, tracked.unsettled, tracked.leftovers);
      d.health.ended(tracked.row.id); // before anyone hears of the outcome
      ended = true;
      if (outcome.kind === 'changed') return { kind: 'again', row: outcome.row, leftovers: outcome.leftovers };
      if (outcome.kind === 'delivered') {
        d.health.delivered(outcome.result.bytes);
        d.notifyDelivered(outcome.row, outcome.result);
        // Delivered raw files stay in their folder for good: polling them would cost a stat per
        // file per interval, for ever. (A failed one is still watched: it may be rewritten.)
        d.forgetWatched(path);
        // The raw file's checksum is for the record, not for the observer: after delivery, and
        // before a drop-folder file is moved away.
        const checksum = await sha256File(path).catch((err: Error) => {
          d.logger.warn(`${basename(path)}: cannot checksum the raw file for the ledger: ${err.message}`);
          return null;
        });
        if (checksum !== null) await d.record(basename(path), () => d.ledger.setDetails(outcome.row.id, { checksum }));
        await fileDropIfAny(outcome.row, d.config.paths.dropDir, d.logger, 'done');
      } else if (outcome.kind === 'failed') {
        d.events.emit('job:failed', outcome.row, { code: outcome.code, message: outcome.message });
        await fileDropIfAny(outcome.row, d.config.paths.dropDir, d.logger, 'failed', outcome.message);
      }
    } catch (err) {
      if (!ended) d.health.ended(tracked.row.id);
      await this.unexpected(path, tracked, err);
    }
    return { kind: 'done' };
  }

  /** What `runJob` did not expect: the file is recorded as failed, the service goes on. */
  private async unexpected(path: string, tracked: Readonly<TrackedFile>, err: unknown): Promise<void> {
    const { d } = this;
    if (d.signal.aborted && isLedgerUnavailable(err)) {
      // Stopping while the ledger could not record a step: the next start resumes from the
      // last state it did record.
      d.logger.warn(`${basename(path)}: left for the next start; the ledger could not record its progress: ${(err as Error).message}`);
      return;
    }
    // runJob records every failure it expects; this is anything else (a disk error while
    // recovering, the ledger failing).
    const e = err as NodeJS.ErrnoException;
    const failure = { code: typeof e?.code === 'string' ? e.code : 'internal', message: e?.message ?? String(err) };
    d.logger.error(`${basename(path)}: ${failure.message}`);
    if (!(err instanceof DatamanError)) d.logger.error(`${basename(path)}: internal error, please report: ${e?.stack ?? failure.message}`);
    try {
      const row = await d.record(basename(path), () => d.ledger.markFailed(tracked.row.id, failure));
      d.events.emit('job:failed', row, failure);
    } catch (ledgerErr) {
      d.logger.error(`${basename(path)}: cannot record the failure in the ledger: ${(ledgerErr as Error).message}`);
    }
  }
}

/** The worker options of a configuration (the service's jobs and the in-place CLI's alike). */
export function workerOptionsFrom(c: DatamanConfig): WorkerOptions {
  return {
    steps: { ...c.processing }, site: { ...c.site }, sensors: { ...c.sensors }, defaultSensors: { ...c.defaultSensors },
    // Not flushed on the worker: the kernel writes the processed file back while the
    // repository copy is made, and delivery's flush before its name (behaviour.md §6) waits
    // only for what is left. Flushing here would put the two flushes one after the other.
    timeZone: c.timeZone, checksums: c.delivery.checksums, fsync: false,
  };
}
