/**
 * The night after an outage (issue #19), as an observer sees it: `dataman serve` (the compiled
 * program, its own process) starts with `backlog` full frames of a night waiting in its channel
 * folder; about a second later azcam writes a fresh 1k frame and sends `proc`. The clock starts
 * when that frame is written and flushed and stops when its delivered copy appears in repoDir
 * (the pointer rule may keep `<CHAN>.new` elsewhere, so the pointer is not the stop here). Beside
 * it, in the same run and the same service once the catch-up is over, the idle latency of 1k
 * frames: the ratio is the figure (target ≤ 2.5×, moonshot ≤ 1.2×).
 */
import { createSocket } from 'node:dgram';
import { watch } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRaw } from '../src/simulate/index.js';
import { openLedger } from '../src/service/ledger/ledger.js';
import { systemClock } from '../src/base/clock.js';
import { freeUdpPort, percentile, startServe, writeRawAsAzcam } from './latency.js';

export interface OutageRun {
  /** Fresh 1k frame during the catch-up: written and flushed → delivered copy in repoDir, ms. */
  freshMs: number;
  /** Where the fresh frame's time went (its job's debug line: recover, process, copy, confirm, commit, record). */
  freshStages: string;
  /** The fresh frame's way from its trigger, from the ledger's times: trigger → first seen → complete → started → delivered, ms. */
  freshPath: { seen: number; complete: number; started: number; delivered: number } | undefined;
  /** Full frames delivered before the fresh one. */
  deliveredBefore: number;
  /** From the service's start line to its "Catch-up done" line, ms. */
  catchUpMs: number;
  /** 1k frames on the idle service (after the catch-up), ms. */
  idleMs: number[];
}

export interface OutageResult {
  backlog: number;
  runs: OutageRun[];
  freshP50Ms: number;
  idleP50Ms: number;
  ratio: number;
}

export async function measureOutage(runs = 1, backlog = 20, idleFiles = 5): Promise<OutageResult> {
  const all: OutageRun[] = [];
  for (let i = 0; i < runs; i++) all.push(await oneNight(backlog, idleFiles));
  const freshP50Ms = percentile(all.map((r) => r.freshMs), 50);
  const idleP50Ms = percentile(all.flatMap((r) => r.idleMs), 50);
  return { backlog, runs: all, freshP50Ms, idleP50Ms, ratio: freshP50Ms / idleP50Ms };
}

async function oneNight(backlog: number, idleFiles: number): Promise<OutageRun> {
  const root = await mkdtemp(join(tmpdir(), 'dataman-outage-'));
  const raw = join(root, 'raw', 'mods1b');
  const repoDir = join(root, 'newdata');
  try {
    for (const d of [raw, join(root, 'proc'), repoDir, join(root, 'log'), join(root, 'state')]) await mkdir(d, { recursive: true });
    // The night's sequence, exposures 03:01 … (one a minute), written before the start.
    const exposureAt = Date.now() / 1000 - 3 * 3600;
    for (let seq = 1; seq <= backlog; seq++) {
      const frame = generateRaw({ instrument: 'mods1b', roi: 'full', obsDate: '20260210', seq, seed: seq });
      const path = join(raw, frame.name);
      await writeFile(path, frame.bytes);
      await utimes(path, exposureAt + seq * 60, exposureAt + seq * 60);
    }
    const port = await freeUdpPort();
    const configPath = join(root, 'dataman.yaml');
    await writeFile(configPath, `
server: {ipAddr: 127.0.0.1, ipPort: ${port}}
paths: {dataDir: ${root}/raw, procDir: ${root}/proc, repoDir: ${repoDir}, logDir: ${root}/log, stateDir: ${root}/state}
channels: [mods1b]
debug: Y
http: {enabled: false}
`);
    const service = await startServe(configPath);
    const startedAt = performance.now();
    const socket = createSocket('udp4');
    let seq = 0;
    let lastName = '';
    let sentAt = 0;
    /** A fresh 1k frame of tonight, written, flushed and triggered; resolves with its latency. */
    const fresh = async (): Promise<number> => {
      const frame = generateRaw({ instrument: 'mods1b', roi: '1k', obsDate: '20260211', seq: ++seq, seed: 1000 + seq });
      const path = join(raw, frame.name);
      lastName = frame.name;
      const delivered = appears(join(repoDir, frame.name));
      await writeRawAsAzcam(path, frame.bytes);
      const complete = performance.now();
      sentAt = Date.now();
      socket.send(`proc /home/data/${frame.name}`, port, '127.0.0.1');
      await delivered;
      return performance.now() - complete;
    };
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const freshMs = await fresh();
      const freshName = lastName;
      const freshSentAt = sentAt;
      await service.until('the fresh job\'s times', () => service.lines.some((l) => l.includes(`${freshName}: job took`)));
      const freshStages = service.lines.find((l) => l.includes(`${freshName}: job took`))!.replace(/^.*job took/, 'job took');
      const deliveredBefore = service.lines.filter((l) => /Done: mods1b\.20260210\.\d+\.fits processed/.test(l)).length;
      await service.until('the end of the catch-up', () => service.lines.some((l) => l.includes('Catch-up done:')), 300_000);
      const catchUpMs = performance.now() - startedAt;
      const idleMs: number[] = [];
      // The last job's record and checksum, and the kernel's write-back of the catch-up's GBs: idle means idle.
      await new Promise((r) => setTimeout(r, 3000));
      for (let i = 0; i < idleFiles; i++) {
        await new Promise((r) => setTimeout(r, 300));
        idleMs.push(await fresh());
      }
      await service.stop();
      const ledger = openLedger(join(root, 'state'), { clock: systemClock });
      const row = ledger.latestByPath(join(raw, freshName));
      ledger.close();
      const freshPath = row?.completeAt != null && row.startedAt !== null && row.deliveredAt !== null ? {
        seen: row.firstSeenAt - freshSentAt, complete: row.completeAt - row.firstSeenAt, started: row.startedAt - row.completeAt, delivered: row.deliveredAt - row.startedAt,
      } : undefined;
      return { freshMs, freshStages, freshPath, deliveredBefore, catchUpMs, idleMs };
    } finally {
      socket.close();
      await service.stop();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Resolves when `path` exists (the delivered copy appears under its final name at once, by rename). */
function appears(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      stat(path).then(() => finish(), () => undefined);
    };
    const folder = watch(join(path, '..'), check);
    const fallback = setInterval(check, 10);
    const timeout = setTimeout(() => finish(new Error(`${path} not delivered in 300 s`)), 300_000);
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      folder.close();
      clearInterval(fallback);
      clearTimeout(timeout);
      if (err) reject(err);
      else resolve();
    };
  });
}

export function printOutage(r: OutageResult): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
  console.log(`\nAfter an outage (dataman serve as a child process): ${r.backlog} full frames waiting at start, a fresh 1k frame triggered ~1 s later;`);
  console.log('clock: raw file written and flushed -> its delivered copy in repoDir');
  for (const [i, run] of r.runs.entries()) {
    console.log(`  run ${i + 1}: fresh ${s(run.freshMs)} (${run.deliveredBefore} backlog frame(s) delivered before it); idle ${run.idleMs.map(s).join(', ')}; catch-up of ${r.backlog} took ${s(run.catchUpMs)}`);
    console.log(`         fresh ${run.freshStages}`);
    const p = run.freshPath;
    if (p) console.log(`         fresh, from the ledger: trigger -> seen ${p.seen} ms -> complete ${p.complete} ms -> started ${p.started} ms -> delivered ${p.delivered} ms`);
  }
  console.log(`  fresh p50 ${s(r.freshP50Ms)} vs idle p50 ${s(r.idleP50Ms)}: ${r.ratio.toFixed(2)}x (target <= 2.5x, moonshot <= 1.2x)`);
}
