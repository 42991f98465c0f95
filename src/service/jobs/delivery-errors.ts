/**
 * How delivery fails: which step, which file, whether a retry can help, and what had already
 * been done (so that the retry resumes instead of delivering twice). Plus the back-off the
 * service waits between retries.
 */
import { DatamanError } from '../../errors.js';

/**
 * The steps of a delivery, in the order they run: the repository copy is made from the processed
 * temporary first, then the final names appear in the order of behaviour.md §6. (A delivery
 * resumed after `proc-rename` copies from the final file.)
 */
export const DELIVERY_STEPS = ['repo-copy', 'repo-verify', 'proc-rename', 'repo-rename', 'pointer'] as const;
export type DeliveryStep = (typeof DELIVERY_STEPS)[number];

/**
 * What a delivery has achieved so far. A `DeliveryError` carries it; passing it back as
 * `resume` makes the retry start after the last finished step (nothing is delivered twice).
 */
export interface DeliveryProgress {
  /** Step 1 done: the processed copy's final path in the day folder. */
  procPath?: string;
  /** Step 2 done: the repository copy's final path and length in bytes. */
  repo?: { path: string; bytes: number };
  /** A unique name (UNIQNAME, possibly with a suffix) was used for a copy. */
  renamed?: boolean;
  /** Temporaries a failed clean-up left behind; the retry removes them. */
  leftovers?: string[];
  /** Warnings so far (a unique name used, a copy made twice…). */
  warnings?: string[];
}

/**
 * Error numbers that say "try again later": a full disk or quota, permissions being fixed,
 * the NFS server away or slow, a read-only remount, too many open files.
 */
export const TRANSIENT_ERRNOS: ReadonlySet<string> = new Set([
  'ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'ESTALE', 'EIO', 'EAGAIN', 'EBUSY', 'EINTR', 'ETIMEDOUT', 'EROFS',
  'ENOTCONN', 'EHOSTDOWN', 'EHOSTUNREACH', 'ENETDOWN', 'ENETUNREACH', 'ECONNRESET', 'ECONNREFUSED',
  'EMFILE', 'ENFILE', 'ENOMEM',
]);

/** Whether an error number is worth a retry (ENOENT depends on which path: see `deliver`). */
export function isTransientErrno(errno: string): boolean {
  return TRANSIENT_ERRNOS.has(errno);
}

/** Reasons that are not error numbers. */
export type DeliveryReason =
  | 'input-missing' // the processed file to deliver is not there
  | 'verify-failed' // the repository copy did not match the processed file, twice
  | 'names-exhausted' // the name, UNIQNAME and all its suffixes exist
  | 'bad-request'; // a name or path the caller should never have passed

export interface DeliveryErrorOptions {
  step: DeliveryStep;
  /** The file (or folder) the failing operation was about. */
  path: string;
  retryable: boolean;
  /** The error number of the failed call, if any (also when `reason` is not one). */
  errno?: string | undefined;
  /** What was done before the failure: pass it back as `resume`. */
  progress: DeliveryProgress;
  hint?: string;
  cause?: unknown;
}

/**
 * A delivery that did not complete. `code` is `delivery-<errno>` (`delivery-ENOSPC`) or
 * `delivery-<reason>` (`delivery-verify-failed`); `retryable` says whether the service should
 * keep the file queued and try again after `backoffMs`. Nothing half-written is ever visible
 * under a final name, whatever the failure.
 */
export class DeliveryError extends DatamanError {
  readonly retryable: boolean;
  readonly step: DeliveryStep;
  readonly path: string;
  /** The error number, when an operating-system call failed. */
  readonly errno: string | undefined;
  readonly progress: DeliveryProgress;

  constructor(reason: DeliveryReason | (string & {}), message: string, options: DeliveryErrorOptions) {
    super(`delivery-${reason}`, message, {
      hint: options.hint ?? (options.retryable ? 'transient: the file stays queued and delivery is retried with back-off' : undefined),
      cause: options.cause,
    });
    this.retryable = options.retryable;
    this.step = options.step;
    this.path = options.path;
    this.errno = options.errno ?? (isReason(reason) ? undefined : reason);
    this.progress = options.progress;
  }
}

const REASONS: ReadonlySet<string> = new Set(['input-missing', 'verify-failed', 'names-exhausted', 'bad-request']);
function isReason(reason: string): boolean {
  return REASONS.has(reason);
}

export interface BackoffOptions {
  /** Upper bound of the first retry's wait, in ms. @default 1000 */
  baseMs?: number;
  /** Cap of the wait, in ms. @default 60000 */
  maxMs?: number;
  /** Uniform random number in [0, 1). @default Math.random */
  random?: () => number;
}

/**
 * Wait before retry number `attempt` (1 = first retry), in ms: exponential back-off with full
 * jitter, uniform in [0, min(maxMs, baseMs·2^(attempt−1))). Full jitter spreads the retries of
 * many files that failed together (the NFS server came back) instead of retrying them in step.
 */
export function backoffMs(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = 1000, maxMs = 60000, random = Math.random } = options;
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`backoffMs: attempt must be an integer ≥ 1, got ${attempt}`);
  if (!(baseMs >= 0) || !(maxMs >= 0)) throw new RangeError(`backoffMs: baseMs and maxMs must be ≥ 0, got ${baseMs} and ${maxMs}`);
  // 2^(attempt-1) overflows to Infinity for huge attempts; min() caps it either way.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 1024));
  const r = random();
  if (!(r >= 0 && r < 1)) throw new RangeError(`backoffMs: random() must return a number in [0, 1), got ${r}`);
  return Math.floor(r * ceiling);
}
