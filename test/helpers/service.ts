/** A dataman service on temporary folders, loopback UDP and a real ledger, for service tests. */
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig, type DatamanConfig } from '../../src/ops/config.js';
import { memoryLogger, type MemoryLogger } from '../../src/ops/logger.js';
import { DatamanService, type ServiceOptions } from '../../src/service/service.js';
import { bufferSource, verifyFile } from '../../src/fits/index.js';
import { readFile } from 'node:fs/promises';
import { stopBeforeRemoval } from './temp.js';

export function serviceConfigText(root: string, extra = ''): string {
  return `
server: {ipAddr: 127.0.0.1, ipPort: 0}
paths:
  dataDir: ${root}/raw
  procDir: ${root}/proc
  repoDir: ${root}/newdata
  logDir: ${root}/log
  dropDir: ${root}/drop
  stateDir: ${root}/state
channels: [mods1b, mods1r]
watch: {usePolling: true, intervalMs: 50, settleMs: 100, noConparsGraceMs: 1500, incompleteTimeoutMs: 20000, catchUpHours: 36}
queue: {concurrency: 2}
timeZone: America/Phoenix
http: {enabled: false}
${extra}`;
}

export async function makeFolders(root: string): Promise<void> {
  for (const d of ['raw/mods1b', 'raw/mods1r', 'proc', 'newdata', 'log', 'drop', 'state']) await mkdir(join(root, d), { recursive: true });
}

export interface RunningService {
  service: DatamanService;
  config: DatamanConfig;
  log: MemoryLogger;
  /** Sends a datagram to the service's UDP port. */
  send(text: string | Buffer): Promise<void>;
  stop(): Promise<void>;
}

export async function startService(root: string, extra = '', options: Partial<ServiceOptions> = {}): Promise<RunningService> {
  await makeFolders(root);
  const config = parseConfig(serviceConfigText(root, extra), join(root, 'dataman.yaml'));
  const log = memoryLogger({ timeZone: 'America/Phoenix' });
  // In-process, the service shares its event loop with the test's own synchronous work (making
  // frames, hashing): a stall there is the test's, so only a very long one counts (event-loop.test.ts sets its own).
  const service = await DatamanService.start({
    config, logger: log.logger, hostName: 'mods1', stopTimeoutMs: 20_000, eventLoop: { stallMs: 30_000 }, ...options,
  });
  const send = async (text: string | Buffer) => {
    const socket = createSocket('udp4');
    const port = service.udp!.port;
    await new Promise<void>((resolve, reject) => socket.send(typeof text === 'string' ? Buffer.from(text) : text, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    socket.close();
  };
  stopBeforeRemoval(root, () => service.stop('test done'));
  return { service, config, log, send, stop: () => service.stop('test done') };
}

/** Resolves after `count` deliveries (collecting them), or rejects on a `job:failed`. */
export function deliveries(service: DatamanService, count: number): Promise<Array<{ name: string; delivered: string }>> {
  const done: Array<{ name: string; delivered: string }> = [];
  return new Promise((resolve, reject) => {
    service.on('delivery:done', (row, result) => {
      done.push({ name: row.name, delivered: result.deliveredName });
      if (done.length === count) resolve(done);
    });
    service.on('job:failed', (row, error) => reject(new Error(`${row.name} failed: ${error.message}`)));
  });
}

/** The next event of that name; a `job:failed` meanwhile rejects (unless that is the event awaited). */
export async function nextEvent<K extends 'delivery:done' | 'job:start' | 'job:retry' | 'file:skipped' | 'job:failed' | 'service:stopped'>(service: DatamanService, event: K) {
  if (event === 'job:failed') return once(service as never, event);
  const controller = new AbortController();
  const failed = once(service as never, 'job:failed', { signal: controller.signal }).then(([row, error]) => {
    throw new Error(`${(row as { name: string }).name} failed while waiting for ${event}: ${(error as { message: string }).message}`);
  });
  try {
    return await Promise.race([once(service as never, event), failed]);
  } finally {
    controller.abort();
    failed.catch(() => undefined);
  }
}

/**
 * Watches a folder the way the archive ingester would: every visible `.fits` must be a whole,
 * verified FITS file. Returns a stop function that reports what was seen.
 */
export function observeRepo(repoDir: string, intervalMs = 15): () => Promise<{ checks: number; bad: string[] }> {
  let running = true;
  let checks = 0;
  const bad: string[] = [];
  const verified = new Set<string>();
  const pass = async () => {
    const names = await readdir(repoDir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith('.fits') && !n.startsWith('.'))) {
      if (verified.has(name)) continue;
      const bytes = await readFile(join(repoDir, name)).catch(() => undefined);
      if (bytes === undefined) continue;
      checks++;
      const report = await verifyFile(bufferSource(bytes, name)).catch((e: Error) => ({ ok: false, problems: [e] }));
      if (report.ok && bytes.length > 0) verified.add(name);
      else bad.push(`${name}: ${report.problems.map((p) => p.message).join('; ')}`);
    }
  };
  const loop = (async () => {
    while (running) {
      await pass();
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return async () => {
    running = false;
    await loop;
    await pass(); // whatever arrived after the last poll
    return { checks, bad };
  };
}
