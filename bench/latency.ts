/**
 * Service latency, full frames: from "raw file complete" (the writer closed it) to
 * "`<CHAN>.new` updated" (the `delivery:done` event, emitted after the pointer's rename), with
 * the UDP trigger and with the watcher alone, beside the floor measured in the same run: writing
 * and flushing the processed bytes once to the same disk.
 */
import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseConfig } from '../src/ops/config.js';
import { memoryLogger } from '../src/ops/logger.js';
import { DatamanService } from '../src/service/service.js';
import { generateRaw } from '../src/simulate/index.js';

export interface LatencyResult {
  files: number;
  settleMs: number;
  intervalMs: number;
  udp: { p50Ms: number; p95Ms: number; samplesMs: number[] };
  watcher: { p50Ms: number; p95Ms: number; samplesMs: number[] };
  floor: { p50Ms: number; samplesMs: number[]; bytes: number };
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

export async function measureLatency(files = 5): Promise<LatencyResult> {
  const root = await mkdtemp(join(tmpdir(), 'dataman-latency-'));
  try {
    for (const d of ['raw/mods1b', 'proc', 'newdata', 'log', 'state']) await mkdir(join(root, d), { recursive: true });
    const config = parseConfig(`
server: {ipAddr: 127.0.0.1, ipPort: 0}
paths: {dataDir: ${root}/raw, procDir: ${root}/proc, repoDir: ${root}/newdata, logDir: ${root}/log, stateDir: ${root}/state}
channels: [mods1b]
http: {enabled: false}
`, join(root, 'dataman.yaml'));
    const service = await DatamanService.start({ config, logger: memoryLogger().logger, hostName: 'bench' });
    const socket = createSocket('udp4');
    const sample = async (seq: number, trigger: boolean): Promise<number> => {
      const raw = generateRaw({ instrument: 'mods1b', roi: 'full', seq, seed: seq });
      const path = join(config.paths.dataDir, 'mods1b', raw.name);
      const delivered = once(service, 'delivery:done');
      const handle = await open(path, 'wx');
      await handle.write(raw.bytes, 0, raw.bytes.length, 0);
      await handle.close();
      const complete = performance.now();
      if (trigger) socket.send(`proc /home/data/${raw.name}`, service.udp!.port, '127.0.0.1');
      await delivered;
      return performance.now() - complete;
    };
    const udp: number[] = [];
    const watcher: number[] = [];
    let seq = 1;
    for (let i = 0; i < files; i++) {
      udp.push(await sample(seq++, true));
      watcher.push(await sample(seq++, false));
    }
    socket.close();
    await service.stop('benchmark done');
    const bytes = 154_120_320;
    const floor: number[] = [];
    const block = Buffer.alloc(8 * 1024 * 1024, 7);
    for (let i = 0; i < files; i++) {
      const path = join(root, 'newdata', `floor-${i}.bin`);
      const start = performance.now();
      const h = await open(path, 'wx');
      for (let at = 0; at < bytes; at += block.length) await h.write(block, 0, Math.min(block.length, bytes - at), at);
      await h.sync();
      await h.close();
      floor.push(performance.now() - start);
      await rm(path);
    }
    return {
      files, settleMs: config.watch.settleMs, intervalMs: config.watch.intervalMs,
      udp: { p50Ms: percentile(udp, 50), p95Ms: percentile(udp, 95), samplesMs: udp },
      watcher: { p50Ms: percentile(watcher, 50), p95Ms: percentile(watcher, 95), samplesMs: watcher },
      floor: { p50Ms: percentile(floor, 50), samplesMs: floor, bytes },
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
