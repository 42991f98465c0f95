/**
 * The catch-up at start (behaviour.md §2.4): the order its files are worked off in, and its
 * progress as the operator sees it (status page, status.json, /metrics, the log).
 */
import { basename } from 'node:path';
import type { Logger } from '../../ops/logger.js';
import type { CatchUpStatus, ServiceEventSource } from '../events.js';

/** The exposure number of a raw file name (`<chan>.<YYYYMMDD>.<NNNN>.fits`), or -1. */
function exposureNumber(path: string): number {
  const m = /\.(\d{8})\.(\d+)\.fits$/i.exec(basename(path));
  return m ? Number(`${m[1]}${m[2]!.padStart(6, '0')}`) : -1;
}

/**
 * Newest exposure first: what was just taken is what someone may be waiting for, and the pointer
 * (which names the newest exposure) then moves once. Newest is the latest modification time
 * (azcam writes a file once, at the end of its exposure); equal times go by the observing date
 * and exposure number in the name, higher first; then by path, so that the order is total.
 */
export function catchUpOrder<T extends { path: string; mtimeMs: number }>(files: readonly T[]): T[] {
  return [...files].sort((a, b) => b.mtimeMs - a.mtimeMs || exposureNumber(b.path) - exposureNumber(a.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** About how long the rest takes, at the pace so far; undefined before the first file is done. */
export function remainingMs(total: number, done: number, elapsedMs: number): number | undefined {
  if (done === 0 || done >= total) return done >= total ? 0 : undefined;
  return Math.round((elapsedMs / done) * (total - done));
}

/**
 * Follows the files of one catch-up to their end (delivered, failed or skipped) through the
 * service's events, and says in the log when it starts and when it ends.
 */
export class CatchUpProgress {
  private readonly left = new Set<string>();
  private total = 0;
  private delivered = 0;
  private failed = 0;
  private skipped = 0;
  private begun = false;
  private endedAt: number | undefined;
  private readonly detach: () => void;
  readonly startedAt: number;

  constructor(private readonly events: ServiceEventSource, private readonly now: () => number, private readonly logger: Logger) {
    this.startedAt = now();
    const onDelivered = (row: { path: string }) => this.finish(row.path, 'delivered');
    const onFailed = (row: { path: string }) => this.finish(row.path, 'failed');
    const onSkipped = (_row: unknown, path: string) => this.finish(path, 'skipped');
    events.on('delivery:done', onDelivered);
    events.on('job:failed', onFailed);
    events.on('file:skipped', onSkipped);
    this.detach = () => {
      events.off('delivery:done', onDelivered);
      events.off('job:failed', onFailed);
      events.off('file:skipped', onSkipped);
    };
  }

  /** A file of the catch-up (absolute path, as the service's events name it). */
  add(path: string): void {
    if (this.begun || this.left.has(path)) return;
    this.left.add(path);
    this.total += 1;
  }

  /** Every file is added: says so in the log (or ends at once when there is nothing to do). */
  begin(): void {
    this.begun = true;
    if (this.total > 0) this.logger.info(`Catching up: ${this.total} file(s) not delivered before this start, newest first`);
    if (this.left.size === 0) this.end();
  }

  /** Where the catch-up stands; `backlog` is filled in by the caller. */
  status(backlog: number): CatchUpStatus {
    const done = this.total - this.left.size;
    const elapsedMs = (this.endedAt ?? this.now()) - this.startedAt;
    return {
      active: this.endedAt === undefined, total: this.total, done, delivered: this.delivered, failed: this.failed, skipped: this.skipped,
      startedAt: this.startedAt, etaMs: this.endedAt === undefined ? remainingMs(this.total, done, elapsedMs) ?? null : 0, backlog,
    };
  }

  /** Stops following (the service stops); what was not done stays in the ledger for the next start. */
  close(): void {
    if (this.endedAt !== undefined) return;
    this.detach();
    this.endedAt = this.now();
    if (this.total > 0) this.logger.info(`Catch-up stopped with ${this.left.size} of ${this.total} file(s) left for the next start`);
  }

  private finish(path: string, how: 'delivered' | 'failed' | 'skipped'): void {
    if (!this.left.delete(path)) return;
    this[how] += 1;
    if (this.begun && this.left.size === 0) this.end();
  }

  private end(): void {
    this.detach();
    this.endedAt = this.now();
    if (this.total === 0) return;
    const seconds = ((this.endedAt - this.startedAt) / 1000).toFixed(1);
    this.logger.info(`Catch-up done: ${this.total} file(s) in ${seconds} s: ${this.delivered} delivered, ${this.failed} failed, ${this.skipped} skipped`);
  }
}
