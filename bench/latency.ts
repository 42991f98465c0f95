/**
 * Service latency, full frames: from "raw file complete" (the writer closed it) to
 * "`<CHAN>.new` updated" (the `delivery:done` event, emitted after the pointer's rename), with
 * the UDP trigger and with the watcher alone, beside the floors measured in the same run: writing
 * and flushing the processed bytes once, and twice (the two copies delivery must make). Also with
 * the settle interval at 0, to show what the contract's settle interval costs, and where the time
 * goes (processing and delivery, from the service's own debug log).
 */
import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseConfig } from '../src/ops/config.js';
import { memoryLogger } from '../src/ops/logger.js';
import { DatamanService } from '../src/service/service.js';
import { generateRaw } from '../src/simulate/index.js';

interface Samples {
  p50Ms: number;
  p95Ms: number;
  samplesMs: number[];
}

export interface LatencyResult {
  files: number;
  settleMs: number;
  intervalMs: number;
  udp: Samples;
  watcher: Samples;
  /** UDP trigger with `watch.settleMs: 0`. */
  udpNoSettle: Samples;
  /**
   * Per file (UDP runs), from the service's debug log: processing on the worker; delivery, and
   * its parts: the repository copy made and verified, the wait for the rest of the settle
   * interval, the names and the pointer.
   */
  stages: Record<StageName, Samples>;
  floor: { p50Ms: number; samplesMs: number[]; bytes: number };
  /** Two files of that size written and flushed one after the other: what delivery's two copies cost at least. */
  twoCopiesFloor: { p50Ms: number; samplesMs: number[] };
}

type StageName = 'processingMs' | 'deliveryMs' | 'copyMs' | 'settleWaitMs' | 'commitMs';
const STAGE_NAMES: StageName[] = ['processingMs', 'deliveryMs', 'copyMs', 'settleWaitMs', 'commitMs'];
const noStages = (): Record<StageName, number[]> => ({ processingMs: [], deliveryMs: [], copyMs: [], settleWaitMs: [], commitMs: [] });

const samples = (xs: number[]): Samples => ({ p50Ms: percentile(xs, 50), p95Ms: percentile(xs, 95), samplesMs: xs });

/** The p-th percentile (nearest rank) of `xs`. */
export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

export async function measureLatency(files = 5): Promise<LatencyResult> {
  const root = await mkdtemp(join(tmpdir(), 'dataman-latency-'));
  try {
    const stages = noStages();
    const withSettle = await runService(root, 'settle', files, 500, stages);
    const noSettle = await runService(root, 'nosettle', files, 0, noStages());
    const bytes = 154_120_320;
    const floor: number[] = [];
    const twoCopies: number[] = [];
    for (let i = 0; i < files; i++) {
      floor.push(await writeAndFlush(join(root, `floor-${i}.bin`), bytes));
      const start = performance.now();
      await writeAndFlush(join(root, `floor-${i}-a.bin`), bytes);
      await writeAndFlush(join(root, `floor-${i}-b.bin`), bytes);
      twoCopies.push(performance.now() - start);
    }
    return {
      files, settleMs: withSettle.settleMs, intervalMs: withSettle.intervalMs,
      udp: samples(withSettle.udp), watcher: samples(withSettle.watcher), udpNoSettle: samples(noSettle.udp),
      stages: Object.fromEntries(STAGE_NAMES.map((k) => [k, samples(stages[k])])) as Record<StageName, Samples>,
      floor: { p50Ms: percentile(floor, 50), samplesMs: floor, bytes },
      twoCopiesFloor: { p50Ms: percentile(twoCopies, 50), samplesMs: twoCopies },
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Writes and flushes `bytes` bytes to a new file, then removes it; returns the time taken. */
async function writeAndFlush(path: string, bytes: number): Promise<number> {
  const block = Buffer.alloc(8 * 1024 * 1024, 7);
  const start = performance.now();
  const h = await open(path, 'wx');
  for (let at = 0; at < bytes; at += block.length) await h.write(block, 0, Math.min(block.length, bytes - at), at);
  await h.sync();
  await h.close();
  const ms = performance.now() - start;
  await rm(path);
  return ms;
}

/** One service on its own folders: `files` UDP-triggered and `files` watcher-only full frames. */
async function runService(
  parent: string, name: string, files: number, settleMs: number, stages: Record<StageName, number[]>,
): Promise<{ udp: number[]; watcher: number[]; settleMs: number; intervalMs: number }> {
  const root = join(parent, name);
  for (const d of ['raw/mods1b', 'proc', 'newdata', 'log', 'state']) await mkdir(join(root, d), { recursive: true });
  const config = parseConfig(`
server: {ipAddr: 127.0.0.1, ipPort: 0}
paths: {dataDir: ${root}/raw, procDir: ${root}/proc, repoDir: ${root}/newdata, logDir: ${root}/log, stateDir: ${root}/state}
channels: [mods1b]
http: {enabled: false}
watch: {settleMs: ${settleMs}}
`, join(root, 'dataman.yaml'));
  const log = memoryLogger({ debug: true });
  const service = await DatamanService.start({ config, logger: log.logger, hostName: 'bench' });
  const socket = createSocket('udp4');
  const stage = (pattern: RegExp) => log.messages('debug').map((m) => pattern.exec(m)).filter((m) => m !== null).at(-1);
  const sample = async (seq: number, trigger: boolean): Promise<number> => {
    const raw = generateRaw({ instrument: 'mods1b', roi: 'full', seq, seed: seq });
    const path = join(config.paths.dataDir, 'mods1b', raw.name);
    const delivered = once(service, 'delivery:done');
    const handle = await open(path, 'wx');
    await handle.write(raw.bytes, 0, raw.bytes.length, 0);
    // On the mountain azcam writes on its own server (NFS): none of the raw file's dirty pages
    // wait in this machine's cache for dataman's flushes to push out. Flushed before "complete".
    await handle.sync();
    await handle.close();
    const complete = performance.now();
    if (trigger) socket.send(`proc /home/data/${raw.name}`, service.udp!.port, '127.0.0.1');
    const [, result] = (await delivered) as [unknown, { procPath: string; repoPath: string }];
    const ms = performance.now() - complete;
    // Each file starts from the same state of the machine: on this VM, page cache that grows by
    // GBs over a run makes later writes into it up to 10x slower (host memory handed back and
    // faulted in again), whatever the software does. The archive moves files out of /newdata too.
    await service.idle(); // the raw file's checksum for the ledger is taken after delivery
    await Promise.all([path, result.procPath, result.repoPath].map((p) => rm(p)));
    if (trigger) {
      const processed = stage(new RegExp(`^${raw.name}: processed in (\\d+) ms`));
      const delivery = stage(new RegExp(`^${raw.name}: delivered in (\\d+) ms \\(copy made and verified (\\d+) ms, waiting for the settle interval (\\d+) ms, names and pointer (\\d+) ms\\)`));
      if (processed) stages.processingMs.push(Number(processed[1]));
      if (delivery) {
        stages.deliveryMs.push(Number(delivery[1]));
        stages.copyMs.push(Number(delivery[2]));
        stages.settleWaitMs.push(Number(delivery[3]));
        stages.commitMs.push(Number(delivery[4]));
      }
    }
    return ms;
  };
  const udp: number[] = [];
  const watcher: number[] = [];
  try {
    let seq = 1;
    for (let i = 0; i < files; i++) {
      udp.push(await sample(seq++, true));
      watcher.push(await sample(seq++, false));
    }
  } finally {
    socket.close();
    await service.stop('benchmark done');
  }
  return { udp, watcher, settleMs: config.watch.settleMs, intervalMs: config.watch.intervalMs };
}
