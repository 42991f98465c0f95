/**
 * Service latency: from "raw file complete" (the writer closed and flushed it) to "`<CHAN>.new`
 * updated" (the `delivery:done` event, emitted after the pointer's rename), for 1k and full
 * frames, with the UDP trigger (no settle interval, behaviour.md §3) and with the watcher alone
 * (poll + settle interval), beside the floors measured in the same run: writing and flushing the
 * processed bytes once, and twice (the two copies delivery must make). Where the time goes comes
 * from the job's own debug line (its stages: recover, process, copy, confirm, commit, record).
 */
import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseConfig } from '../src/ops/config.js';
import { memoryLogger } from '../src/ops/logger.js';
import { JOB_STAGES, type JobStage } from '../src/service/jobs/job.js';
import { DatamanService } from '../src/service/service.js';
import { generateRaw } from '../src/simulate/index.js';

interface Samples {
  p50Ms: number;
  p95Ms: number;
  samplesMs: number[];
}

export interface FrameLatency {
  roi: '1k' | 'full';
  rawBytes: number;
  processedBytes: number;
  udp: Samples;
  watcher: Samples;
  /** Per UDP-triggered file, from the job's debug line: the time in each of its stages. */
  stages: Record<JobStage, Samples>;
  /** One file of the processed size written and flushed. */
  floor: Samples;
  /** Two such files written and flushed one after the other: what delivery's two copies cost at least. */
  twoCopiesFloor: Samples;
}

export interface LatencyResult {
  files: number;
  settleMs: number;
  intervalMs: number;
  frames: FrameLatency[];
}

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
    const frames: FrameLatency[] = [];
    let settings = { settleMs: 0, intervalMs: 0 };
    for (const roi of ['1k', 'full'] as const) {
      const stages = Object.fromEntries(JOB_STAGES.map((k) => [k, [] as number[]])) as Record<JobStage, number[]>;
      const run = await runService(root, roi, files, stages);
      settings = run;
      const floor: number[] = [];
      const twoCopies: number[] = [];
      for (let i = 0; i < files; i++) {
        floor.push(await writeAndFlush(join(root, `floor-${i}.bin`), run.processedBytes));
        const start = performance.now();
        await writeAndFlush(join(root, `floor-${i}-a.bin`), run.processedBytes);
        await writeAndFlush(join(root, `floor-${i}-b.bin`), run.processedBytes);
        twoCopies.push(performance.now() - start);
      }
      frames.push({
        roi, rawBytes: run.rawBytes, processedBytes: run.processedBytes,
        udp: samples(run.udp), watcher: samples(run.watcher),
        stages: Object.fromEntries(JOB_STAGES.map((k) => [k, samples(stages[k])])) as Record<JobStage, Samples>,
        floor: samples(floor), twoCopiesFloor: samples(twoCopies),
      });
    }
    return { files, settleMs: settings.settleMs, intervalMs: settings.intervalMs, frames };
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

/** One service on its own folders: `files` UDP-triggered and `files` watcher-only frames of one size. */
async function runService(
  parent: string, roi: '1k' | 'full', files: number, stages: Record<JobStage, number[]>,
): Promise<{ udp: number[]; watcher: number[]; settleMs: number; intervalMs: number; rawBytes: number; processedBytes: number }> {
  const name = roi;
  const root = join(parent, name);
  for (const d of ['raw/mods1b', 'proc', 'newdata', 'log', 'state']) await mkdir(join(root, d), { recursive: true });
  const config = parseConfig(`
server: {ipAddr: 127.0.0.1, ipPort: 0}
paths: {dataDir: ${root}/raw, procDir: ${root}/proc, repoDir: ${root}/newdata, logDir: ${root}/log, stateDir: ${root}/state}
channels: [mods1b]
http: {enabled: false}
`, join(root, 'dataman.yaml'));
  const log = memoryLogger({ debug: true });
  const service = await DatamanService.start({ config, logger: log.logger, hostName: 'bench' });
  const socket = createSocket('udp4');
  const stage = (pattern: RegExp) => log.messages('debug').map((m) => pattern.exec(m)).filter((m) => m !== null).at(-1);
  let rawBytes = 0;
  let processedBytes = 0;
  const sample = async (seq: number, trigger: boolean): Promise<number> => {
    const raw = generateRaw({ instrument: 'mods1b', roi, seq, seed: seq });
    rawBytes = raw.bytes.length;
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
    processedBytes = (await stat(result.repoPath)).size;
    await Promise.all([path, result.procPath, result.repoPath].map((p) => rm(p)));
    if (trigger) {
      const line = stage(new RegExp(`^${raw.name.replace(/\./g, '\\.')}: job took \\d+ ms: (.*)$`));
      for (const part of line?.[1]?.split(', ') ?? []) {
        const [key, value] = part.split(' ');
        if ((JOB_STAGES as readonly string[]).includes(key!)) stages[key as JobStage].push(Number(value));
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
  return { udp, watcher, settleMs: config.watch.settleMs, intervalMs: config.watch.intervalMs, rawBytes, processedBytes };
}
