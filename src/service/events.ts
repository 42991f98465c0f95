import type { EventEmitter } from 'node:events';
import type { Ledger, LedgerOrigin, LedgerRow } from './ledger/ledger.js';
import type { DeliveryResult } from './jobs/deliver.js';

/** Everything the service reports, by `noun:verb` name (tests and the status page listen). */
export interface ServiceEvents {
  /** A source reported a file. */
  'file:detected': [path: string, origin: LedgerOrigin];
  /** A file passed the completeness check and was queued. */
  'file:ready': [row: LedgerRow];
  /** A reported file needs nothing done (already delivered, disappeared…). */
  'file:skipped': [row: LedgerRow | undefined, path: string, reason: string];
  /** Processing of a queued file started. */
  'job:start': [row: LedgerRow];
  /** A transient failure; the file stays queued and is retried after `delayMs`. */
  'job:retry': [row: LedgerRow, error: Error, delayMs: number];
  /** A permanent failure, recorded with its reason. */
  'job:failed': [row: LedgerRow, error: { code: string; message: string }];
  /** Delivered into repoDir and `<CHAN>.new` updated. */
  'delivery:done': [row: LedgerRow, result: DeliveryResult];
  /** The service stopped (all sources closed, the ledger closed). */
  'service:stopped': [reason: string];
}

/**
 * What the things the service attaches (metrics, night log, quick looks, status) see of it:
 * its events, queue and ledger, never the class, so that none of them imports its parent.
 */
export type ServiceEventSource = Pick<EventEmitter<ServiceEvents>, 'on' | 'off' | 'once'>;

/** Files by stage: waiting to be complete, queued for a worker, being processed. */
export interface QueueDepth {
  waiting: number;
  queued: number;
  running: number;
}

/** A running service as its read-only surfaces see it. */
export interface ServiceView extends ServiceEventSource {
  readonly queueDepth: QueueDepth;
  readonly ledgerHandle: Ledger;
}
