/**
 * When is a raw file complete? (behaviour.md §3). azcam writes in place under the final name,
 * then reopens the file to append CONPARS, then sends the UDP trigger; over NFS, attribute
 * caching can make a file look still for a moment. A file is structurally whole when its
 * headers' implied length equals its length and it has the primary, IM1..IM4 and CONPARS.
 *
 * - Named by a UDP trigger (azcam's word that it closed the file): whole is enough, processing
 *   starts at once, with no settle interval.
 * - Found by the watcher alone (no writer's word; NFS attribute caching): its size and mtime must
 *   also hold still over the settle interval; a trigger arriving meanwhile ends that wait.
 * - Either way, safety is at the end: immediately before the first final name appears, the raw
 *   file's identity (dev/ino), size, mtime and ctime are compared with what was read
 *   (`confirmSettled`); any change abandons the attempt and the file is waited for again.
 *
 * A whole file without CONPARS is taken after a grace period, trigger or not; a file still
 * incomplete after the timeout, or broken and no longer changing, has failed.
 */
import { stat } from 'node:fs/promises';
import { FitsError, findHdu, readStructure, withFileSource } from '../../fits/index.js';
import { type ServiceClock, type Timers, sleep } from '../../base/clock.js';

/**
 * Which file a look saw, beyond size and mtime: a file replaced under the same name (new inode)
 * or rewritten to the same size and mtime (ctime moves) is another file.
 */
export interface FileIdentity {
  dev: number;
  ino: number;
  ctimeMs: number;
}

/** What one look at a file shows. */
export type Look =
  | { state: 'complete'; size: number; mtimeMs: number; identity?: FileIdentity }
  | { state: 'no-conpars'; size: number; mtimeMs: number; identity?: FileIdentity }
  | { state: 'incomplete'; size: number; mtimeMs: number; reason: string }
  | { state: 'broken'; size: number; mtimeMs: number; error: FitsError }
  | { state: 'gone' };

const IMAGES = ['IM1', 'IM2', 'IM3', 'IM4'];

/** Looks at a file once: its length against its headers, and which MODS extensions it has. */
export async function lookAt(path: string): Promise<Look> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'gone' };
    throw err;
  }
  const base = { size: info.size, mtimeMs: info.mtimeMs };
  if (info.size === 0) return { ...base, state: 'incomplete', reason: 'file is empty' };
  try {
    const s = await withFileSource(path, readStructure);
    if (!s.complete) return { ...base, state: 'incomplete', reason: s.truncation?.detail ?? 'incomplete' };
    const missing = IMAGES.filter((n, i) => !findHdu(s.hdus, n) && !findHdu(s.hdus, `Q${i + 1}`));
    if (missing.length > 0) {
      // Headers so far are whole but extensions are missing: azcam writes them in one go, so
      // this is a file caught between HDUs.
      return { ...base, state: 'incomplete', reason: `no ${missing.join(', ')} yet (${s.hdus.length} HDUs)` };
    }
    // The file may have grown while its headers were read: then this look describes no single
    // state of it, and is taken as "still being written".
    const after = await stat(path);
    if (after.size !== info.size || after.mtimeMs !== info.mtimeMs || !sameIdentity(identityOf(after), identityOf(info))) {
      return { size: after.size, mtimeMs: after.mtimeMs, state: 'incomplete', reason: 'changed while it was being read' };
    }
    return { ...base, identity: identityOf(info), state: findHdu(s.hdus, 'CONPARS') ? 'complete' : 'no-conpars' };
  } catch (err) {
    if (err instanceof FitsError) return { ...base, state: 'broken', error: err };
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'gone' };
    throw err;
  }
}

export interface ReadinessOptions {
  clock: ServiceClock;
  /** Size and mtime must hold still this long (ms). */
  settleMs: number;
  /** How often to look again while waiting (ms). */
  pollMs: number;
  /** A whole file without CONPARS is taken after this long (ms). */
  noConparsGraceMs: number;
  /** A file still incomplete after this long has failed (ms). */
  incompleteTimeoutMs: number;
  /** Stop waiting (service shutdown). */
  signal?: AbortSignal;
  /** Replaces `lookAt` in tests. */
  look?: (path: string) => Promise<Look>;
  /** Cuts the wait for the next look short (a UDP trigger: the file is probably complete now). */
  lookAgain?: LookAgain;
  /**
   * Return at the first complete look, before the settle interval, with `settled: false`: the
   * caller starts a settle timer, processes meanwhile and must call `confirmSettled` before
   * delivering.
   */
  early?: boolean;
  /** Told of every look (the intake notes when a file's first look is done). */
  onLook?: (look: Look) => void;
}

export type Readiness =
  | { status: 'ready'; size: number; mtimeMs: number; identity?: FileIdentity; conpars: boolean; warnings: string[]; settled: boolean }
  | { status: 'failed'; code: string; reason: string }
  | { status: 'gone' }
  | { status: 'aborted' };

/**
 * Waits until `path` is ready, has failed, or is gone. `firstSeenMs` starts the timeouts (a file
 * found again after a restart keeps its original clock).
 *
 * Time spent here is counted by the waits themselves, not read off the wall clock: a clock step
 * (NTP, a hand-set clock) neither fails a file that is still being written (forward) nor
 * stretches the grace period or the timeout by the size of the step (backward). Only the time
 * before this call (since `firstSeenMs`) comes from the wall clock.
 */
export async function waitUntilReady(path: string, options: ReadinessOptions, firstSeenMs = options.clock.now()): Promise<Readiness> {
  const look = options.look ?? lookAt;
  const { clock } = options;
  let previous: Look | undefined;
  /** Whether the wait before the current look ran its whole length (at least the settle interval). */
  let waitedInFull = false;
  let cutLast = false;
  let wholeSinceMs: number | undefined;
  let elapsedMs = Math.max(0, clock.now() - firstSeenMs);
  for (;;) {
    if (options.signal?.aborted) return { status: 'aborted' };
    const current = await look(path);
    options.onLook?.(current);
    if (current.state === 'gone') return { status: 'gone' };
    const unchanged = previous !== undefined && previous.state !== 'gone' && previous.size === current.size && previous.mtimeMs === current.mtimeMs;
    // Unchanged over a wait cut short by a trigger proves nothing: "still" needs a whole one.
    const still = waitedInFull && unchanged;

    if (current.state === 'complete' && (still || options.early === true)) {
      return { status: 'ready', size: current.size, mtimeMs: current.mtimeMs, ...identityField(current), conpars: true, warnings: [], settled: still };
    }
    if (current.state === 'no-conpars') {
      wholeSinceMs = unchanged ? (wholeSinceMs ?? elapsedMs) : elapsedMs;
      if (still && elapsedMs - wholeSinceMs >= options.noConparsGraceMs) {
        return {
          status: 'ready', size: current.size, mtimeMs: current.mtimeMs, ...identityField(current), conpars: false, settled: true,
          warnings: [`no CONPARS table after ${Math.round(options.noConparsGraceMs / 1000)} s; processed without it (temperatures -999.9)`],
        };
      }
    } else {
      wholeSinceMs = undefined;
    }
    if (current.state === 'broken' && still) {
      // A file being written changes; one that holds still and cannot be read is broken.
      return { status: 'failed', code: current.error.code, reason: current.error.message };
    }
    if (elapsedMs >= options.incompleteTimeoutMs && current.state !== 'complete') {
      const why = current.state === 'incomplete' ? current.reason : current.state === 'broken' ? current.error.message : 'no CONPARS';
      return { status: 'failed', code: 'incomplete-timeout', reason: `still incomplete after ${Math.round(options.incompleteTimeoutMs / 1000)} s: ${why}` };
    }
    previous = current;
    // Complete files need only the settle interval; others are looked at each poll.
    const waitMs = current.state === 'complete' ? options.settleMs : Math.max(options.pollMs, options.settleMs);
    // A wait cut short counts as none (its length is not known without the wall clock), and
    // the wait after it runs in full: triggers as frequent as they come can only halve the
    // pace of the timeouts, never stop them.
    const lookAgain: LookAgain | undefined = cutLast ? undefined : options.lookAgain;
    waitedInFull = lookAgain === undefined ? (await sleep(clock, waitMs), true) : await lookAgain.wait(clock, waitMs);
    cutLast = !waitedInFull;
    if (waitedInFull) elapsedMs += waitMs;
  }
}

/**
 * A wake-up call for a file waiting to be complete: `now()` ends the current wait (or the next
 * one, when it comes between two waits), so that the file is looked at again at once.
 */
export class LookAgain {
  private wake: (() => void) | undefined;
  private pending = false;

  now(): void {
    if (this.wake !== undefined) this.wake();
    else this.pending = true;
  }

  /** Resolves true after `ms`, or false as soon as `now()` is called. */
  wait(clock: Timers, ms: number): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => {
        this.wake = undefined;
        resolve(true);
      }, ms);
      this.wake = () => {
        this.wake = undefined;
        clock.clearTimeout(timer);
        resolve(false);
      };
    });
  }
}

const identityOf = (info: { dev: number; ino: number; ctimeMs: number }): FileIdentity => ({ dev: info.dev, ino: info.ino, ctimeMs: info.ctimeMs });
const sameIdentity = (a: FileIdentity, b: FileIdentity) => a.dev === b.dev && a.ino === b.ino && a.ctimeMs === b.ctimeMs;
const identityField = (look: { identity?: FileIdentity }) => (look.identity === undefined ? {} : { identity: look.identity });

/**
 * The settle interval of a file taken at its first whole look, on the service's timers (so that
 * a step of the wall clock neither shortens nor stretches it). `end()` ends it at once: a UDP
 * trigger, azcam's word that the file is closed, makes waiting any longer pointless.
 */
export class SettleWait {
  readonly heldStill: Promise<void>;
  private release!: () => void;

  constructor(clock: Timers, ms: number) {
    this.heldStill = new Promise<void>((resolve) => {
      this.release = resolve;
      if (ms <= 0) resolve();
      else {
        const timer = clock.setTimeout(resolve, ms);
        this.release = () => {
          clock.clearTimeout(timer);
          resolve();
        };
      }
    });
  }

  end(): void {
    this.release();
  }
}

/**
 * The second half of an early readiness, called immediately before the first final name
 * appears: waits for `heldStill` (the settle interval, or nothing for a triggered file), then
 * checks that the raw file is still the one that was read: size, mtime and, when the look
 * recorded them, dev/ino and ctime. False means the file changed (or went): whatever was made
 * from it must be thrown away and the file waited for again.
 */
export async function confirmSettled(path: string, seen: { size: number; mtimeMs: number; identity?: FileIdentity | undefined; heldStill: Promise<void> }): Promise<boolean> {
  await seen.heldStill;
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (info === undefined || info.size !== seen.size || info.mtimeMs !== seen.mtimeMs) return false;
  return seen.identity === undefined || sameIdentity(identityOf(info), seen.identity);
}
