/**
 * Service latency as an observer sees it: `dataman serve` runs as a child process (the compiled
 * program, as systemd runs it); the clock starts when the raw file is closed and flushed and
 * stops when `<CHAN>.new` names the file (watched with inotify, and polled), for 1k and full
 * frames, with the UDP trigger (no settle interval, behaviour.md §3) and with the watcher alone
 * (poll + settle interval), beside the floors measured in the same run: writing and flushing the
 * processed bytes once, and twice (the two copies delivery must make). Where the time goes comes
 * from the job's own debug line (its stages: recover, process, copy, confirm, commit, record).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { watch } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/ops/config.js';
import { JOB_STAGES, type JobStage } from '../src/service/jobs/job.js';
import { generateRaw } from '../src/simulate/index.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

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
  /** The service's peak resident memory over the run (VmHWM of the child: threads and arenas included), MB. */
  servicePeakRssMb: number;
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
        floor: samples(floor), twoCopiesFloor: samples(twoCopies), servicePeakRssMb: run.peakRssMb,
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

/** A port nobody listens on now (the child binds it a moment later). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** `dataman serve` as systemd runs it (the compiled program, its own process), with its output lines. */
export async function startServe(configPath: string) {
  const child: ChildProcess = spawn(process.execPath, ['--max-semi-space-size=2', join(REPO, 'bin', 'dataman.js'), 'serve', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    const parts = (partial + text).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const until = async (what: string, test: () => boolean, timeoutMs = 120_000) => {
    const started = performance.now();
    while (!test()) {
      if (child.exitCode !== null) throw new Error(`dataman serve exited: ${stderr}`);
      if (performance.now() - started > timeoutMs) throw new Error(`no ${what} in ${timeoutMs / 1000} s:\n${lines.slice(-20).join('\n')}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await until('start', () => lines.some((l) => l.includes('dataMan server started on')));
  return {
    child, lines, until,
    /** VmHWM of the child (Linux), MB; NaN where /proc is not there. */
    peakRssMb: async () => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
      return kb === undefined ? Number.NaN : Number(kb) / 1024;
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Resolves when `pointer` names `name`: the moment an observer's display tool sees the file. */
/**
 * A raw file written as azcam writes it: in one go, then flushed. On the mountain azcam writes on
 * its own server (NFS): none of the raw file's dirty pages wait in this machine's cache for
 * dataman's flushes to push out. Resolves when it is complete (where the latency clocks start).
 */
export async function writeRawAsAzcam(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.write(bytes, 0, bytes.length, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function pointerNames(pointer: string, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err?: Error) => {
      done = true;
      watcher.close();
      clearInterval(fallback);
      clearTimeout(timeout);
      if (err) reject(err);
      else resolve();
    };
    const check = () => {
      readFile(pointer, 'utf8').then((text) => {
        if (!done && text.trim() === name) finish();
      }, () => undefined);
    };
    const watcher = watch(dirname(pointer), check);
    // inotify events can be coalesced: look now and then as well.
    const fallback = setInterval(check, 20);
    const timeout = setTimeout(() => finish(new Error(`${name} not delivered in 120 s`)), 120_000);
  });
}

/** One service (a child process) on its own folders: `files` UDP-triggered and `files` watcher-only frames of one size. */
async function runService(
  parent: string, roi: '1k' | 'full', files: number, stages: Record<JobStage, number[]>,
): Promise<{ udp: number[]; watcher: number[]; settleMs: number; intervalMs: number; rawBytes: number; processedBytes: number; peakRssMb: number }> {
  const root = join(parent, roi);
  for (const d of ['raw/mods1b', 'proc', 'newdata', 'log', 'state']) await mkdir(join(root, d), { recursive: true });
  const port = await freeUdpPort();
  const configPath = join(root, 'dataman.yaml');
  const text = `
server: {ipAddr: 127.0.0.1, ipPort: ${port}}
paths: {dataDir: ${root}/raw, procDir: ${root}/proc, repoDir: ${root}/newdata, logDir: ${root}/log, stateDir: ${root}/state}
channels: [mods1b]
debug: Y
http: {enabled: false}
`;
  await writeFile(configPath, text);
  const config = parseConfig(text, configPath);
  const service = await startServe(configPath);
  const socket = createSocket('udp4');
  const pointer = join(config.paths.repoDir, 'MODS1B.new');
  let rawBytes = 0;
  let processedBytes = 0;
  const sample = async (seq: number, trigger: boolean): Promise<number> => {
    const raw = generateRaw({ instrument: 'mods1b', roi, seq, seed: seq });
    rawBytes = raw.bytes.length;
    const path = join(config.paths.dataDir, 'mods1b', raw.name);
    const delivered = pointerNames(pointer, raw.name);
    await writeRawAsAzcam(path, raw.bytes);
    const complete = performance.now();
    if (trigger) socket.send(`proc /home/data/${raw.name}`, port, '127.0.0.1');
    await delivered;
    const ms = performance.now() - complete;
    const escaped = raw.name.replace(/\./g, '\\.');
    // The job's record, then the raw file's checksum for the ledger, come after the pointer.
    await service.until(`record of ${raw.name}`, () => service.lines.some((l) => l.includes(`Done: ${raw.name} processed`)));
    await new Promise((r) => setTimeout(r, roi === 'full' ? 400 : 100));
    const repoPath = join(config.paths.repoDir, raw.name);
    processedBytes = (await stat(repoPath)).size;
    // Each file starts from the same state of the machine: on this VM, page cache that grows by
    // GBs over a run makes later writes into it up to 10x slower (host memory handed back and
    // faulted in again), whatever the software does. The archive moves files out of /newdata too.
    await Promise.all([path, repoPath, join(config.paths.procDir, raw.name.split('.')[1]!, raw.name)].map((p) => rm(p, { force: true })));
    if (trigger) {
      const line = service.lines.map((l) => new RegExp(`${escaped}: job took \\d+ ms: (.*)$`).exec(l)).filter((m) => m !== null).at(-1);
      for (const part of line?.[1]?.split(', ') ?? []) {
        const [key, value] = part.split(' ');
        if ((JOB_STAGES as readonly string[]).includes(key!)) stages[key as JobStage].push(Number(value));
      }
    }
    return ms;
  };
  const udp: number[] = [];
  const watcher: number[] = [];
  let peakRssMb = Number.NaN;
  try {
    let seq = 1;
    for (let i = 0; i < files; i++) {
      udp.push(await sample(seq++, true));
      watcher.push(await sample(seq++, false));
    }
    peakRssMb = await service.peakRssMb();
  } finally {
    socket.close();
    await service.stop();
  }
  return { udp, watcher, settleMs: config.watch.settleMs, intervalMs: config.watch.intervalMs, rawBytes, processedBytes, peakRssMb };
}
