/**
 * `npm run bench -- --only raw-folder`: what a raw channel folder full of old files costs the
 * service (issue #20). For 0, 10,000 and 50,000 old files in `mods1b/` (a year of past nights'
 * names, modified 10 days ago: outside the catch-up window), one `dataman serve` child per size:
 *   - start: from spawning the process until it logs that the UDP trigger listens;
 *   - idle CPU: the child's user + system time over ~10 s with nothing to do, % of one core;
 *   - a 1k frame found by the watcher alone, and one named by a UDP trigger: from the raw file
 *     closed and flushed until `<CHAN>.new` names it (bench/latency.ts measures it the same way).
 * Each figure is printed beside the empty folder's, measured in the same run, with the ratio.
 */
import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { closeSync, openSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort, percentile, pointerNames, startServe, writeRawAsAzcam } from './latency.js';
import { generateRaw } from '../src/simulate/index.js';

export const RAW_FOLDER_SIZES = [0, 10_000, 50_000] as const;

export interface RawFolderCase {
  oldFiles: number;
  buildMs: number;
  startMs: number;
  idleCpuPercent: number;
  watcherMs: { p50Ms: number; samplesMs: number[] };
  triggeredMs: { p50Ms: number; samplesMs: number[] };
}

const yyyymmdd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');

/**
 * `count` small raw-named files of past nights (300 a night, the newest night 10 days ago), all
 * modified 10 days ago. Synchronous calls: quicker than 50,000 promises for empty-ish files.
 */
function buildOldFiles(folder: string, count: number): number {
  const started = performance.now();
  const tenDaysAgo = Date.now() - 10 * 86_400_000;
  const seconds = tenDaysAgo / 1000;
  for (let i = 0; i < count; i++) {
    const night = yyyymmdd(tenDaysAgo - Math.floor(i / 300) * 86_400_000);
    const path = join(folder, `mods1b.${night}.${String((i % 300) + 1).padStart(4, '0')}.fits`);
    closeSync(openSync(path, 'w'));
    utimesSync(path, seconds, seconds);
  }
  return performance.now() - started;
}

/** User + system CPU of a process so far, ms (Linux /proc; clock ticks of 10 ms). */
async function processCpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function measureCase(parent: string, oldFiles: number, frames: number): Promise<RawFolderCase> {
  const root = join(parent, String(oldFiles));
  for (const d of ['raw/mods1b', 'proc', 'newdata', 'log', 'state']) await mkdir(join(root, d), { recursive: true });
  const folder = join(root, 'raw', 'mods1b');
  const buildMs = buildOldFiles(folder, oldFiles);
  const port = await freeUdpPort();
  const configPath = join(root, 'dataman.yaml');
  // The production watch settings (polling every second): only the folders are the bench's.
  await writeFile(configPath, `
server: {ipAddr: 127.0.0.1, ipPort: ${port}}
paths: {dataDir: ${root}/raw, procDir: ${root}/proc, repoDir: ${root}/newdata, logDir: ${root}/log, stateDir: ${root}/state}
channels: [mods1b]
debug: Y
http: {enabled: false}
`);
  const spawned = performance.now();
  const service = await startServe(configPath);
  const startMs = performance.now() - spawned;
  const socket = createSocket('udp4');
  try {
    // Idle: let the start's background work (the first listing) pass, then ~10 s of nothing.
    await new Promise((r) => setTimeout(r, 3000));
    const pid = service.child.pid!;
    const cpu0 = await processCpuMs(pid);
    const idle0 = performance.now();
    await new Promise((r) => setTimeout(r, 10_000));
    const idleCpuPercent = (100 * ((await processCpuMs(pid)) - cpu0)) / (performance.now() - idle0);
    const tonight = yyyymmdd(Date.now());
    const watcher: number[] = [];
    const triggered: number[] = [];
    for (let seq = 1; seq <= 2 * frames; seq++) {
      const trigger = seq % 2 === 0;
      const raw = generateRaw({ instrument: 'mods1b', roi: '1k', seq, seed: seq, obsDate: tonight });
      const delivered = pointerNames(join(root, 'newdata', 'MODS1B.new'), raw.name);
      await writeRawAsAzcam(join(folder, raw.name), raw.bytes);
      const complete = performance.now();
      if (trigger) socket.send(`proc /home/data/${raw.name}`, port, '127.0.0.1');
      await delivered;
      (trigger ? triggered : watcher).push(performance.now() - complete);
      await service.until(`record of ${raw.name}`, () => service.lines.some((l) => l.includes(`Done: ${raw.name} processed`)));
    }
    const p50 = (xs: number[]) => ({ p50Ms: percentile(xs, 50), samplesMs: xs });
    return { oldFiles, buildMs, startMs, idleCpuPercent, watcherMs: p50(watcher), triggeredMs: p50(triggered) };
  } finally {
    socket.close();
    await service.stop();
    await rm(root, { recursive: true, force: true });
  }
}

/** Every size, the empty folder first; `frames` watcher-only and `frames` triggered frames each. */
export async function measureRawFolder(frames = 3): Promise<RawFolderCase[]> {
  const parent = await mkdtemp(join(tmpdir(), 'dataman-raw-folder-'));
  try {
    const cases: RawFolderCase[] = [];
    for (const n of RAW_FOLDER_SIZES) cases.push(await measureCase(parent, n, frames));
    return cases;
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

export function printRawFolder(cases: readonly RawFolderCase[]): void {
  const empty = cases[0]!;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const vs = (x: number, e: number, unit: (v: number) => string) => `${unit(x).padStart(8)} (${(x / e).toFixed(2)}x, ${x - e >= 0 ? '+' : ''}${unit(x - e).trim()})`;
  console.log('\nRaw folder with old files (mtime 10 days ago), one `dataman serve` child per size; ratios against the empty folder of this run:');
  console.log('old files   start (UDP listens)          idle CPU     watcher-only 1k (p50)       triggered 1k (p50)');
  for (const c of cases) {
    console.log(`${String(c.oldFiles).padStart(9)}   ${vs(c.startMs, empty.startMs, s).padEnd(28)} ${`${c.idleCpuPercent.toFixed(1)} %`.padStart(7)}      ${vs(c.watcherMs.p50Ms, empty.watcherMs.p50Ms, s).padEnd(27)} ${vs(c.triggeredMs.p50Ms, empty.triggeredMs.p50Ms, s)}`);
  }
  console.log('Targets (#20): start within +0.5 s, idle CPU < 5 %, watcher-only and triggered within 1.5x (or +0.1 s) of the empty folder.');
}
