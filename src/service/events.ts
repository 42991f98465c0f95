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

/**
 * The catch-up at start while it is worked off (behaviour.md §2.4), and the background backlog:
 * files of the background lane (catch-up, resumed, drop folder) not yet finished.
 */
export interface CatchUpStatus {
  /** Whether the start's catch-up is still being worked off. */
  active: boolean;
  /** Files of the catch-up (resumed from the last run, or found by the scan and not yet delivered). */
  total: number;
  /** Of those, finished: delivered, failed or skipped. */
  done: number;
  delivered: number;
  failed: number;
  skipped: number;
  /** When the catch-up started, ms since the epoch. */
  startedAt: number;
  /** About how long the rest takes at the pace so far, ms; null before the first file is done. */
  etaMs: number | null;
  /** Background files waiting, queued or running now (also after the catch-up: drop-folder files). */
  backlog: number;
}

/** A running service as its read-only surfaces see it. */
export interface ServiceView extends ServiceEventSource {
  readonly queueDepth: QueueDepth;
  readonly ledgerHandle: Ledger;
  /** The catch-up and the background backlog (undefined before the start's scan). */
  readonly catchUp?: CatchUpStatus | undefined;
}
