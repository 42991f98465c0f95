/**
 * The main thread's health (docs/behaviour.md §7.1): everything the service does between two
 * files — the UDP trigger, the intake, the delivery scheduling, the status page, every ledger
 * call (better-sqlite3 is synchronous) — runs on one event loop, so a slow synchronous call
 * stops all of it. Node's `monitorEventLoopDelay` measures how late its timer fires; this keeps
 * two histograms of it: one read (and reset) by each `/metrics` scrape, one rolled every
 * `windowMs` for the status page and for health, where a single block of `stallMs` or more is
 * the `event-loop-stalled` problem for `holdMs` afterwards.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Clock } from '../../base/clock.js';
import type { Finding } from './health.js';

export interface EventLoopThresholds {
  /** The page shows the delay when the longest block of the last window reaches this, ms. @default 100 */
  highMs: number;
  /** A single block this long is a stall (a health problem), ms: a trigger waits that long unanswered. @default 1000 */
  stallMs: number;
  /** A stall stays a problem this long after it, so a check or an alert every minute sees it, ms. @default 60000 */
  holdMs: number;
  /** The page's figures cover at least this long, ms. @default 10000 */
  windowMs: number;
}

export const EVENT_LOOP_THRESHOLDS: EventLoopThresholds = Object.freeze({ highMs: 100, stallMs: 1000, holdMs: 60_000, windowMs: 10_000 });

/** Sampling resolution of the monitor, ms: delays shorter than this are not seen. */
const RESOLUTION_MS = 10;

/** Delay percentiles of one period, ms; null figures when no sample was taken. */
export interface EventLoopDelay {
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

function delayOf(h: IntervalHistogram): EventLoopDelay {
  if (h.count === 0) return { p50Ms: null, p99Ms: null, maxMs: null };
  return { p50Ms: h.percentile(50) / 1e6, p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6 };
}

export class EventLoopWatch {
  readonly thresholds: EventLoopThresholds;
  private readonly scrape = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly window = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private windowStart: number;
  private previous: EventLoopDelay = { p50Ms: null, p99Ms: null, maxMs: null };
  /** The latest stall noted (`atMs`), since when stalls have followed each other within `holdMs`, and the longest. */
  private lastStall: { atMs: number; sinceMs: number; ms: number } | undefined;
  private stallNoted = false;
  private running = false;
  /** Rolls the window even when nobody reads it, so that a stall is dated within one window. */
  private roller: NodeJS.Timeout | undefined;

  constructor(private readonly clock: Clock, thresholds: Partial<EventLoopThresholds> = {}) {
    this.thresholds = { ...EVENT_LOOP_THRESHOLDS, ...thresholds };
    this.windowStart = clock.now();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.scrape.enable();
    this.window.enable();
    this.windowStart = this.clock.now();
    this.roller = setInterval(() => this.roll(), this.thresholds.windowMs);
    this.roller.unref();
  }

  stop(): void {
    this.running = false;
    clearInterval(this.roller);
    this.scrape.disable();
    this.window.disable();
  }

  /** The delay since the last call (the last scrape), then starts a new period. */
  sinceLastScrape(): EventLoopDelay {
    const d = delayOf(this.scrape);
    this.scrape.reset();
    return d;
  }

  /**
   * The delay over the last window and what has passed of the current one (the larger of each
   * figure), for the page: `high` when the longest block reached `highMs`.
   */
  recent(): EventLoopDelay & { high: boolean } {
    this.roll();
    const now = delayOf(this.window);
    const larger = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
    const d = { p50Ms: larger(now.p50Ms, this.previous.p50Ms), p99Ms: larger(now.p99Ms, this.previous.p99Ms), maxMs: larger(now.maxMs, this.previous.maxMs) };
    return { ...d, high: d.maxMs !== null && d.maxMs >= this.thresholds.highMs };
  }

  /** `event-loop-stalled` while a block of `stallMs` or more is less than `holdMs` old. */
  findings(): Finding[] {
    this.noteStall();
    this.roll();
    const stall = this.lastStall;
    if (stall === undefined || this.clock.now() - stall.atMs > this.thresholds.holdMs) return [];
    return [{
      code: 'event-loop-stalled', sinceMs: stall.sinceMs,
      message: `the main thread was blocked for ${(stall.ms / 1000).toFixed(2)} s (limit ${(this.thresholds.stallMs / 1000).toFixed(2)} s): UDP triggers, intake and the page waited`,
    }];
  }

  /** Starts a new window once the current one is `windowMs` old, keeping its figures. */
  private roll(): void {
    const now = this.clock.now();
    if (now - this.windowStart < this.thresholds.windowMs) return;
    this.noteStall();
    this.previous = delayOf(this.window);
    this.window.reset();
    this.stallNoted = false;
    this.windowStart = now;
  }

  /** A stall in the current window, noted once. The histogram does not say when: now is close enough (at most one window late). */
  private noteStall(): void {
    const maxMs = delayOf(this.window).maxMs;
    if (this.stallNoted || maxMs === null || maxMs < this.thresholds.stallMs) return;
    this.stallNoted = true;
    const now = this.clock.now();
    const ongoing = this.lastStall !== undefined && now - this.lastStall.atMs <= this.thresholds.holdMs;
    this.lastStall = {
      atMs: now, sinceMs: ongoing ? this.lastStall!.sinceMs : now, ms: ongoing ? Math.max(maxMs, this.lastStall!.ms) : maxMs,
    };
  }
}
