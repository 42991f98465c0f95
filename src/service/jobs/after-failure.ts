/**
 * What a job does after an attempt that did not deliver: one pure decision (behaviour.md §6.1,
 * §6.2, §3), tested as a table (test/service/after-failure.test.ts). `runJob` gathers the facts
 * and acts on the answer.
 */

/** What is known once an attempt failed. */
export interface FailureFacts {
  /** Whether the failure can go away by itself (`classify`: a full disk, NFS away…). */
  retryable: boolean;
  /** The ledger could not record a step (it is waited for, unless the service is stopping). */
  ledgerDown: boolean;
  /** The service is stopping. */
  stopping: boolean;
  /** A final name exists (the processed copy was named): the delivery is finished whatever the raw file does. */
  named: boolean;
  /** The raw file is no longer the one that was read (checked only while it may still matter). */
  rawChanged: boolean;
}

export type AfterFailure =
  /** Wait (back-off) and try again, the file still queued. */
  | 'retry'
  /** The raw file was being rewritten: nothing is delivered, the file is waited for again. */
  | 'wait-again'
  /** Stopping: the file stays queued (or in the state last recorded) for the next start. */
  | 'leave'
  /** The file has failed: record the reason. */
  | 'record';

export function afterFailure(f: FailureFacts): AfterFailure {
  // The ledger cannot record anything now: keep the last state it did record.
  if (f.ledgerDown && f.stopping) return 'leave';
  // A failure on a raw file still being written is not the file's fault.
  if (f.rawChanged && !f.named) return 'wait-again';
  if (f.retryable) return f.stopping ? 'leave' : 'retry';
  return 'record';
}
