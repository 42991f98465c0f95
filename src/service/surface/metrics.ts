/**
 * Prometheus metrics of a running service (`/metrics`), fed by the service's events and read
 * from the ledger at scrape time. Each service gets its own registry (no prom-client global
 * state), so tests and a restarted service start from zero.
 *
 * Counts of files by state come from the ledger, not from counters kept in memory, so they
 * survive a restart and agree with `dataman status`. Latencies are taken from the ledger row's
 * own times (the service clock), not measured here.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServiceView } from '../events.js';
import type { LedgerRow } from '../ledger/ledger.js';
import { LEDGER_STATES } from '../ledger/ledger.js';
import type { DeliveryResult } from '../jobs/deliver.js';
import { VERSION } from '../../version.js';
import { HEALTH_CODES, type HealthReport } from './health.js';
import type { EventLoopWatch } from './event-loop.js';

/**
 * Histogram buckets, s: a 1k-ROI file takes a fraction of a second, a full frame a few seconds,
 * an observer waits for anything beyond ~10 s; the tail catches NFS stalls and retries.
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 120]);

/** What the metrics read from the service: its events, queue and ledger. */
export type MetricsSubject = ServiceView;

export interface MetricsOptions {
  /** Also export Node's process metrics (memory, CPU, event-loop lag) as `dataman_process_*` etc. @default true */
  processMetrics?: boolean;
  /** Ledger rows read at attach time to seed the last-delivery times after a restart. @default 500 */
  seedRows?: number;
  /** The health check (`checkHealth` of the service's status source): `dataman_health_problem` per code. */
  health?: () => Promise<HealthReport>;
  /** The main thread's delay (event-loop.ts): `dataman_event_loop_delay_seconds`, each scrape covering the time since the last. */
  eventLoop?: Pick<EventLoopWatch, 'sinceLastScrape'>;
}

export interface AttachedMetrics {
  registry: Registry;
  /** Stops listening to the service's events (the registry keeps its last values). */
  detach(): void;
}

/** Creates the registry and listens to the service's events. */
export function attachMetrics(service: MetricsSubject, options: MetricsOptions = {}): AttachedMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'dataman_' });

  new Gauge({
    name: 'dataman_info', help: 'Always 1; the version label says which dataman is running.', labelNames: ['version'],
    registers: [registry],
    collect() { this.set({ version: VERSION }, 1); },
  });
  new Gauge({
    name: 'dataman_ledger_up', help: '1 when the ledger answers a query, 0 when it throws (closed, damaged, locked).', registers: [registry],
    collect() {
      try {
        service.ledgerHandle.recent(1);
        this.set(1);
      } catch {
        this.set(0);
      }
    },
  });
  new Gauge({
    name: 'dataman_files', help: 'Jobs in the ledger by state and channel (a raw file is one job; each drop is one more).',
    labelNames: ['state', 'channel'], registers: [registry],
    collect() {
      this.reset();
      try {
        const counts = service.ledgerHandle.countsByState();
        for (const [channel, byState] of Object.entries(counts.byChannel)) {
          for (const state of LEDGER_STATES) this.set({ state, channel }, byState[state]);
        }
      } catch {
        // No counts this scrape; dataman_ledger_up says why.
      }
    },
  });
  new Gauge({
    name: 'dataman_queue_depth', help: 'Files by stage: waiting to be complete, queued for a worker, running.',
    labelNames: ['stage'], registers: [registry],
    collect() {
      const depth = service.queueDepth;
      this.set({ stage: 'waiting' }, depth.waiting);
      this.set({ stage: 'queued' }, depth.queued);
      this.set({ stage: 'running' }, depth.running);
    },
  });
  new Gauge({
    name: 'dataman_backlog_files', help: 'Background files (the catch-up at start, resumed ones, the drop folder) waiting, queued or running.',
    registers: [registry],
    collect() {
      this.set(service.catchUp?.backlog ?? 0);
    },
  });
  new Gauge({
    name: 'dataman_catchup_files', help: 'Files of the catch-up at start: total, and done (delivered, failed or skipped) so far.',
    labelNames: ['stage'], registers: [registry],
    collect() {
      const c = service.catchUp;
      this.set({ stage: 'total' }, c?.total ?? 0);
      this.set({ stage: 'done' }, c?.done ?? 0);
    },
  });
  const health = options.health;
  if (health !== undefined) {
    new Gauge({
      name: 'dataman_health_problem', help: 'Whether a problem of this kind is present now (1) or not (0); see /healthz for what and since when.',
      labelNames: ['code'], registers: [registry],
      async collect() {
        const present = new Set((await health()).problems.map((p) => p.code));
        for (const code of HEALTH_CODES) this.set({ code }, present.has(code) ? 1 : 0);
      },
    });
  }
  const eventLoop = options.eventLoop;
  if (eventLoop !== undefined) {
    new Gauge({
      name: 'dataman_event_loop_delay_seconds',
      help: 'How late the main thread ran a timer since the last scrape (p50, p99, max), s: a stall here stops triggers, intake and the page.',
      labelNames: ['quantile'], registers: [registry],
      collect() {
        this.reset();
        const d = eventLoop.sinceLastScrape();
        if (d.p50Ms !== null) this.set({ quantile: '0.5' }, d.p50Ms / 1000);
        if (d.p99Ms !== null) this.set({ quantile: '0.99' }, d.p99Ms / 1000);
        if (d.maxMs !== null) this.set({ quantile: '1' }, d.maxMs / 1000);
      },
    });
  }
  const processing = new Histogram({
    name: 'dataman_processing_seconds', help: 'Time from the start of the successful processing attempt to delivery, s.',
    labelNames: ['channel'], buckets: [...LATENCY_BUCKETS_SECONDS], registers: [registry],
  });
  const latency = new Histogram({
    name: 'dataman_delivery_latency_seconds', help: 'Time from the raw file found complete to delivered into repoDir, s.',
    labelNames: ['channel'], buckets: [...LATENCY_BUCKETS_SECONDS], registers: [registry],
  });
  const errors = new Counter({
    name: 'dataman_errors_total', help: 'Files that failed permanently, by error code.', labelNames: ['code'], registers: [registry],
  });
  const retries = new Counter({
    name: 'dataman_retries_total', help: 'Transient failures that were retried, by error code.', labelNames: ['code'], registers: [registry],
  });
  const delivered = new Counter({
    name: 'dataman_deliveries_total', help: 'Files delivered by this process since it started.', labelNames: ['channel'], registers: [registry],
  });
  const lastDelivery = new Gauge({
    name: 'dataman_last_delivery_timestamp_seconds', help: 'When the latest file of a channel was delivered, s since the epoch.',
    labelNames: ['channel'], registers: [registry],
  });

  // Seed the last-delivery times from the ledger, so that a restart does not look like silence.
  try {
    for (const row of [...service.ledgerHandle.recent(options.seedRows ?? 500)].reverse()) {
      if (row.state === 'delivered' && row.deliveredAt !== null) lastDelivery.set({ channel: channelOf(row) }, row.deliveredAt / 1000);
    }
  } catch {
    // An unusable ledger shows as dataman_ledger_up 0 at the first scrape and in /healthz.
  }

  const onDelivered = (row: LedgerRow, _result: DeliveryResult): void => {
    const channel = channelOf(row);
    delivered.inc({ channel });
    if (row.deliveredAt !== null) {
      lastDelivery.set({ channel }, row.deliveredAt / 1000);
      if (row.startedAt !== null) processing.observe({ channel }, Math.max(0, row.deliveredAt - row.startedAt) / 1000);
      if (row.completeAt !== null) latency.observe({ channel }, Math.max(0, row.deliveredAt - row.completeAt) / 1000);
    }
  };
  const onFailed = (_row: LedgerRow, error: { code: string }): void => {
    errors.inc({ code: error.code || 'unknown' });
  };
  const onRetry = (_row: LedgerRow, error: Error): void => {
    const code = (error as { code?: unknown }).code;
    retries.inc({ code: typeof code === 'string' && code !== '' ? code : 'unknown' });
  };
  service.on('delivery:done', onDelivered);
  service.on('job:failed', onFailed);
  service.on('job:retry', onRetry);

  return {
    registry,
    detach() {
      service.off('delivery:done', onDelivered);
      service.off('job:failed', onFailed);
      service.off('job:retry', onRetry);
    },
  };
}

function channelOf(row: LedgerRow): string {
  return row.channel ?? 'unknown';
}
