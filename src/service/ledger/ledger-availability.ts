/**
 * Whether the ledger can be written *now*, and waiting until it can: a locked, full, read-only
 * or vanished ledger delays a file, it does not fail it.
 */
import { sleepUnlessAborted, type Timers } from '../../base/clock.js';
import type { Logger } from '../../ops/logger.js';
import { backoffMs } from '../jobs/delivery-errors.js';
import { LedgerError } from './ledger-schema.js';

/** What an SQLite error code means for the operator. */
export function hintFor(code: string): string | undefined {
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) {
    return 'the file is damaged or is not a dataman ledger: move it aside (keep it for inspection) and start again '
      + 'to create an empty ledger; files within the catch-up window are then processed again';
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_PERM')) {
    return 'check that the state folder (paths.stateDir) is on a local disk and writable by the dataman user';
  }
  if (code.startsWith('SQLITE_FULL')) return 'the disk holding the state folder is full';
  if (code.startsWith('SQLITE_BUSY')) return 'another process holds the ledger locked: is a second dataman running, or a sqlite3 session left open?';
  return undefined;
}

/** The SQLite result code an error carries, if any. */
export function sqliteCode(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/**
 * Primary SQLite result codes of a ledger that cannot be used *for now*: another connection
 * holds the lock, the disk is full, an I/O error, a read-only file or remount, a state folder
 * that went away. Waiting can help. A damaged file, a refused call or a bug cannot.
 */
const UNAVAILABLE = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_PROTOCOL', 'SQLITE_PERM']);

/** Whether `err` is a `LedgerError` that may clear by itself (see `whenLedgerWritable`). */
export function isLedgerUnavailable(err: unknown): boolean {
  if (!(err instanceof LedgerError)) return false;
  const code = sqliteCode(err.cause);
  // Extended codes (SQLITE_IOERR_WRITE, SQLITE_BUSY_SNAPSHOT, SQLITE_READONLY_DBMOVED) by their primary part.
  return code !== undefined && UNAVAILABLE.has(code.split('_', 2).join('_'));
}

export interface LedgerWaitOptions {
  clock: Timers;
  logger: Logger;
  /** What waits, first in each log line (the file's name). */
  what: string;
  /** Aborted at shutdown: stop waiting and throw the last error. */
  signal: AbortSignal;
  /** For the back-off's jitter. @default Math.random */
  random?: (() => number) | undefined;
  /** An error the caller already got from the first try: start by waiting. */
  failed?: unknown;
}

/**
 * Runs one ledger operation (`fn`, synchronous like every ledger method), and while the ledger
 * is unavailable (`isLedgerUnavailable`: locked past the busy timeout, disk full, read-only, I/O
 * error) waits and runs it again, with the delivery's exponential back-off (up to 60 s apart),
 * logging each failure as a warning that names the ledger file, the cause and what to check.
 * The waits are timers, not wall-clock arithmetic, so a clock step cannot stretch them. Any
 * other error is thrown at once, and so is the last one when `signal` aborts (the ledger then
 * holds the last state it recorded, which the next start resumes from).
 */
export async function whenLedgerWritable<T>(fn: () => T, o: LedgerWaitOptions): Promise<T> {
  let failure: unknown = o.failed;
  for (let attempt = 1; ; attempt++) {
    if (failure === undefined) {
      try {
        const result = fn();
        if (attempt > 1) o.logger.info(`${o.what}: the ledger is writable again`);
        return result;
      } catch (err) {
        failure = err;
      }
    }
    if (!isLedgerUnavailable(failure) || o.signal.aborted) throw failure;
    const delayMs = backoffMs(attempt, { random: o.random ?? Math.random });
    const e = failure as LedgerError;
    o.logger.warn(`${o.what}: ${e.message}${e.hint === undefined ? '' : ` - ${e.hint}`}; trying again in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt})`);
    await sleepUnlessAborted(o.clock, delayMs, o.signal);
    if (o.signal.aborted) throw failure;
    failure = undefined;
  }
}
