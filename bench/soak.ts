/**
 * `npm run soak`: the running service under a long stream of files, with restarts in the middle
 * (issue 6, item 3). Not part of `npm test`.
 *
 *   npm run soak -- [--files 4500] [--full 54] [--restarts 2] [--rate max|N] [--backlog 20] …
 *
 * The service runs as `dataman serve` in a child process (the CLI from the TypeScript sources,
 * bench/soak-cli.ts) on temporary folders, polling watcher, status page on a loopback port.
 * Two writers play the azcam servers of MODS1B and MODS1R: each writes its channel's files one
 * after the other into the channel folder (images, then CONPARS appended a moment later, as
 * azcam does) and sends `proc <name>` by UDP for every other pair of files; the rest only the
 * watcher finds. Small files (1k and 3k ROIs, binned) with full frames spread evenly among them.
 *
 * Rate: `--rate max` writes as fast as the service delivers, keeping at most `--backlog` files
 * written but not yet delivered (the highest rate the machine sustains, without an unbounded
 * queue); `--rate N` writes N files/s whatever happens. While the service is down, up to
 * `--outage-files` more files arrive regardless (their triggers go nowhere).
 *
 * Restarts at equal shares of the files: the first by SIGTERM (graceful), the next by SIGKILL,
 * alternating. At the end it waits until everything is delivered (or nothing has moved for
 * `--stall-s` seconds, or `--timeout-min` passed), stops the service, and accounts for every
 * written file by the FILENAME card of every file in repoDir and the day folder, and in the
 * ledger. Prints a table, writes bench/results/soak-<time>.json, exits 1 if a file was lost or
 * duplicated. The temporary folders are removed unless something went wrong or `--keep`.
 *
 * Memory: the service's VmRSS/VmHWM (from /proc) and main-thread V8 heap (from /metrics) each
 * second; per process between restarts, least-squares slopes in MB per 1000 delivered files
 * after `--warmup-files`. "Flat" is judged only on segments with `--min-span-files` beyond the
 * warm-up (RSS floor slope <= `--flat-mb`); docs/soak.md says why the default run is too short.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import { procMessage, sendDatagram, writeRaw } from '../src/simulate/index.js';
import { makeFolders, serviceConfigText } from '../test/helpers/service.js';
import {
  account, countLogEvents, latencies, linesAbout, metricMb, procMemory, readLedger, scanDelivered, segmentMemory,
  type Outage, type Sample, type SegmentMemory, type WrittenFile,
} from './soak-analysis.js';

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '4500' },
    full: { type: 'string', default: '54' },
    restarts: { type: 'string', default: '2' },
    rate: { type: 'string', default: 'max' },
    backlog: { type: 'string', default: '20' },
    'outage-files': { type: 'string', default: '40' },
    'downtime-ms': { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '2' },
    'interval-ms': { type: 'string', default: '250' },
    'settle-ms': { type: 'string', default: '250' },
    'conpars-delay-ms': { type: 'string', default: '50' },
    'warmup-files': { type: 'string', default: '300' },
    'min-span-files': { type: 'string', default: '1000' },
    'stall-s': { type: 'string', default: '180' },
    'timeout-min': { type: 'string', default: '60' },
    'flat-mb': { type: 'string', default: '5' },
    'no-verify': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
  strict: true,
});
const int = (key: keyof typeof args, min = 0) => {
  const v = Number(args[key]);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${key} must be an integer >= ${min}, got ${String(args[key])}`);
  return v;
};
const opts = {
  files: int('files', 1), full: int('full'), restarts: int('restarts'),
  rate: args.rate === 'max' ? ('max' as const) : Number(args.rate),
  backlog: int('backlog'), outageFiles: int('outage-files'), downtimeMs: int('downtime-ms'), concurrency: int('concurrency', 1),
  intervalMs: int('interval-ms', 10), settleMs: int('settle-ms'), conparsDelayMs: int('conpars-delay-ms'),
  warmupFiles: int('warmup-files'), minSpanFiles: int('min-span-files', 100), stallMs: int('stall-s', 10) * 1000, timeoutMs: int('timeout-min', 1) * 60_000,
  flatMbPer1000: Number(args['flat-mb']), verify: !args['no-verify'], keep: args.keep,
};
if (opts.rate !== 'max' && !(opts.rate > 0)) throw new Error(`--rate must be max or files per second, got ${String(args.rate)}`);

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = join(here, '..');
const CHANNELS = ['mods1b', 'mods1r'] as const;
const OBS_DATE = '20260115';
/** Small files, in turn: cheap to write and process, different geometries. */
const SMALL = [
  { roi: '1k', bin: '2x2' }, { roi: '1k', bin: '4x4' }, { roi: '1k', bin: '8x8' }, { roi: '3k', bin: '8x8' },
] as const;
const IMAGE_TYPES = ['object', 'bias', 'flat', 'comp'] as const;

// ---------------------------------------------------------------------------------------------
// Set-up: folders, free ports, the configuration file

const t0 = Date.now();
const root = await mkdtemp(join(tmpdir(), 'dataman-soak-'));
await makeFolders(root);
const udpPort = await freeUdpPort();
const httpPort = await freeTcpPort();
const config = YAML.parse(serviceConfigText(root)) as Record<string, Record<string, unknown>>;
config.server!.ipPort = udpPort;
config.watch = { ...config.watch, intervalMs: opts.intervalMs, settleMs: opts.settleMs };
config.queue = { concurrency: opts.concurrency };
config.http = { enabled: true, host: '127.0.0.1', port: httpPort };
const configPath = join(root, 'dataman.yaml');
await writeFile(configPath, YAML.stringify(config));
const repoDir = join(root, 'newdata');
const dayDir = join(root, 'proc', OBS_DATE);
const logDir = join(root, 'log');

// The plan: files alternate between the channels; full frames evenly among the small ones.
const total = opts.files + opts.full;
const fullAt = new Set(Array.from({ length: opts.full }, (_, k) => Math.floor(((k + 0.5) * total) / opts.full)));
const plan: Array<Omit<WrittenFile, 'bytes' | 'writtenAt' | 'duringOutage' | 'name'>> = [];
const nextSeq: Record<string, number> = { mods1b: 1, mods1r: 1 };
for (let i = 0; i < total; i++) {
  const channel = CHANNELS[i % CHANNELS.length]!;
  const seq = nextSeq[channel]!++;
  if (seq > 9999) throw new Error('more than 9999 files per channel: the raw names would run out');
  const full = fullAt.has(i);
  const small = SMALL[seq % SMALL.length]!;
  plan.push({ channel, seq, kind: full ? 'full' : 'small', roi: full ? 'full' : small.roi, bin: full ? '1x1' : small.bin, trigger: Math.floor(seq / 2) % 2 === 0 });
}

// ---------------------------------------------------------------------------------------------
// State shared by the writers, the restarts and the sampler

const written: WrittenFile[] = [];
let started = 0;
let delivered = 0;
let up = false;
let outage: Outage | undefined;
let writtenThisOutage = 0;
const outages: Outage[] = [];
let nextSlotAt = Date.now();
let aborted = false;
let finished = false;

interface Segment {
  index: number;
  child: ChildProcess;
  pid: number;
  logFile: string;
  startedAt: number;
  readyAt?: number;
  stop?: { signal: 'SIGTERM' | 'SIGKILL'; at: number; exitedAt?: number; code?: number | null; exitSignal?: string | null; final?: boolean };
  exited: Promise<{ code: number | null; signal: string | null }>;
}
const segments: Segment[] = [];
const current = () => segments[segments.length - 1];
const samples: Sample[] = [];

function log(message: string): void {
  process.stdout.write(`[soak ${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// The service process

async function startService(): Promise<Segment> {
  const index = segments.length + 1;
  const logFile = join(logDir, `serve-${index}.out`);
  const fd = openSync(logFile, 'a');
  // The V8 flags of deploy/dataMan.service's ExecStart.
  const child = spawn(process.execPath, ['--max-semi-space-size=2', '--import', 'tsx', join(here, 'soak-cli.ts'), 'serve', '--config', configPath], {
    cwd: repoRoot, stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: 'spawn-error' }));
  });
  const segment: Segment = { index, child, pid: child.pid!, logFile, startedAt: Date.now(), exited };
  segments.push(segment);
  let gone = false;
  void exited.then(() => { gone = true; });
  for (;;) {
    if (gone) {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      throw new Error(`the service exited before it was ready:\n${text.split('\n').slice(-20).join('\n')}`);
    }
    const ok = await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(1000) }).then(() => true, () => false);
    if (ok) break;
    if (Date.now() - segment.startedAt > 60_000) throw new Error('the service did not answer on its status port within 60 s');
    await sleep(100);
  }
  segment.readyAt = Date.now();
  up = true;
  log(`service ${index} ready (pid ${segment.pid}) after ${segment.readyAt - segment.startedAt} ms`);
  return segment;
}

async function stopService(signal: 'SIGTERM' | 'SIGKILL', final = false): Promise<void> {
  const segment = current()!;
  up = false;
  segment.stop = { signal, at: Date.now(), final };
  log(`${signal} to service ${segment.index} (${written.length} written, ${delivered} delivered)`);
  segment.child.kill(signal);
  const timer = setTimeout(() => {
    log(`service ${segment.index} still running 120 s after SIGTERM: SIGKILL`);
    segment.child.kill('SIGKILL');
  }, 120_000);
  const { code, signal: exitSignal } = await segment.exited;
  clearTimeout(timer);
  Object.assign(segment.stop, { exitedAt: Date.now(), code, exitSignal });
  log(`service ${segment.index} exited (code ${code}, signal ${exitSignal}) after ${segment.stop.exitedAt! - segment.stop.at} ms`);
}

async function restarts(): Promise<void> {
  for (let k = 1; k <= opts.restarts; k++) {
    const at = Math.round((k * total) / (opts.restarts + 1));
    while (started < at && !aborted) await sleep(50);
    if (aborted) return;
    const signal = k % 2 === 1 ? 'SIGTERM' : 'SIGKILL';
    outage = { signal, startAt: Date.now() };
    writtenThisOutage = 0;
    outages.push(outage);
    await stopService(signal);
    outage.exitedAt = Date.now();
    await sleep(opts.downtimeMs);
    await startService();
    outage.endAt = Date.now();
    outage = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The writers (one per channel, like the two azcam servers)

async function gate(): Promise<void> {
  for (;;) {
    if (aborted) throw new Error('aborted');
    if (opts.rate !== 'max') {
      const now = Date.now();
      const slot = Math.max(nextSlotAt, now);
      nextSlotAt = slot + 1000 / opts.rate;
      if (slot > now) await sleep(slot - now);
      return;
    }
    if (outage !== undefined) {
      if (writtenThisOutage < opts.outageFiles) {
        writtenThisOutage++;
        return;
      }
    } else if (opts.backlog === 0 || started - delivered < opts.backlog) {
      return;
    }
    await sleep(20);
  }
}

async function writer(channel: string): Promise<void> {
  const folder = join(root, 'raw', channel);
  for (const p of plan.filter((x) => x.channel === channel)) {
    await gate();
    started++;
    const duringOutage = !up;
    const raw = await writeRaw(folder, {
      instrument: channel, obsDate: OBS_DATE, seq: p.seq, seed: p.seq, roi: p.roi, bin: p.bin,
      imageType: IMAGE_TYPES[p.seq % IMAGE_TYPES.length], write: 'azcam', conparsDelayMs: opts.conparsDelayMs,
    });
    const file: WrittenFile = { ...p, name: raw.name, bytes: raw.bytes.length, writtenAt: Date.now(), duringOutage: duringOutage || !up };
    written.push(file);
    if (p.trigger) {
      file.triggerWhileDown = !up;
      // Fire and forget, as azcam does; while the service is down nobody listens.
      await sendDatagram('127.0.0.1', udpPort, procMessage(raw.name)).catch(() => undefined);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Watching: the repoDir count (4 Hz) and a memory sample of the service each second

async function countDelivered(): Promise<number> {
  const names = await readdir(repoDir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.fits') && !n.startsWith('.')).length;
}

let lastQueue: number | undefined;
async function sample(): Promise<void> {
  const segment = current();
  if (!up || segment === undefined || segment.stop !== undefined) return;
  const memory = await procMemory(segment.pid);
  if (memory === undefined) return;
  const s: Sample = { t: Date.now() - t0, segment: segment.index, delivered, written: written.length, ...memory };
  const base = `http://127.0.0.1:${httpPort}`;
  const metrics = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(900) }).then((r) => r.text(), () => undefined);
  if (metrics !== undefined) {
    s.heapMb = metricMb(metrics, 'dataman_nodejs_heap_size_used_bytes');
    s.externalMb = metricMb(metrics, 'dataman_nodejs_external_memory_bytes');
  }
  const status = await fetch(`${base}/status.json`, { signal: AbortSignal.timeout(900) }).then((r) => r.json() as Promise<{ queue?: { waiting: number; queued: number; running: number } }>, () => undefined);
  if (status?.queue) s.inService = lastQueue = status.queue.waiting + status.queue.queued + status.queue.running;
  if (finished) s.idle = true;
  samples.push(s);
}

function every(ms: number, fn: () => Promise<void>): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void fn().catch((err: Error) => log(`sampler: ${err.message}`)).finally(() => { busy = false; });
  }, ms);
  return () => clearInterval(timer);
}

// ---------------------------------------------------------------------------------------------
// The run

process.on('SIGINT', () => {
  aborted = true;
  current()?.child.kill('SIGKILL');
  log(`interrupted; folders left in ${root}`);
  process.exit(130);
});

log(`${total} files (${opts.files} small, ${opts.full} full frames) into ${root}; ${opts.restarts} restart(s); rate ${opts.rate}, backlog ${opts.backlog}; UDP ${udpPort}, status http://127.0.0.1:${httpPort}/`);
const stopCounting = every(250, async () => { delivered = await countDelivered(); });
const stopSampling = every(1000, sample);
const stopProgress = every(30_000, async () => log(`${written.length}/${total} written, ${delivered} delivered, service holds ${lastQueue ?? '?'}`));
await startService();
const writing = Promise.all([...CHANNELS.map(writer), restarts()]);
let runError: Error | undefined;
try {
  await writing;
  log(`all ${written.length} files written; waiting for the deliveries`);
  // Everything delivered, and the service holding nothing, three polls in a row; or a stall.
  let lastChange = Date.now();
  let lastCount = delivered;
  let quiet = 0;
  for (;;) {
    await sleep(1000);
    if (delivered !== lastCount) { lastCount = delivered; lastChange = Date.now(); }
    quiet = delivered >= total && lastQueue === 0 ? quiet + 1 : 0;
    if (quiet >= 3) break;
    if (Date.now() - lastChange > opts.stallMs) { log(`nothing delivered for ${opts.stallMs / 1000} s: giving up waiting`); break; }
    if (Date.now() - t0 > opts.timeoutMs) { log('overall timeout: giving up waiting'); break; }
  }
  finished = true;
  log(`${delivered} files in repoDir; 10 s idle for the final memory samples`);
  await sleep(10_000);
} catch (err) {
  runError = err as Error;
  aborted = true;
  log(`run failed: ${runError.message}`);
}
stopSampling();
stopProgress();
if (current() && current()!.stop === undefined) await stopService('SIGTERM', true);
stopCounting();
delivered = await countDelivered();
const endedAt = Date.now();

// ---------------------------------------------------------------------------------------------
// Accounting

log('accounting: reading every delivered file' + (opts.verify ? ' and verifying its checksums' : ''));
const repoScan = await scanDelivered(repoDir, opts.verify);
const procScan = await scanDelivered(dayDir, opts.verify);
const jobs = readLedger(join(root, 'state', 'ledger.sqlite'));
const acc = account(written, repoScan.copies, procScan.copies, jobs, repoDir, { repo: repoScan.temporaries, proc: procScan.temporaries });
const logs = (await Promise.all(segments.map((s) => readFile(s.logFile, 'utf8').catch(() => '')))).join('\n');
const logEvents = countLogEvents(logs);
const lat = latencies(written, jobs, outages);
const memory = segments.map((s) => segmentMemory(samples, s.index, opts.warmupFiles)).filter((m): m is SegmentMemory => m !== null);
const slopes = memory.flatMap((m) => (m.rssFloorSlopeMbPer1000 === null || m.slopeSpanFiles < opts.minSpanFiles ? [] : [m.rssFloorSlopeMbPer1000]));
const flat = slopes.length === 0 ? null : slopes.every((s) => s <= opts.flatMbPer1000);
const pointers = Object.fromEntries(await Promise.all(CHANNELS.map(async (c) => [c, (await readFile(join(repoDir, `${c.toUpperCase()}.new`), 'utf8').catch(() => '')).trim()])));
const logNotes = logs.split('\n').filter((l) => /\| (WARN|WARNING|ERROR|CRITICAL) \|/.test(l));
// Warnings the service logged are in the report; they alone do not keep tens of GB of folders.
const anomalies = acc.unsound.length + acc.strangers.length + acc.ledgerAnomalies.length + acc.temporaries.repo.length + acc.temporaries.proc.length;
const problems = [...acc.lost, ...acc.duplicated.map((d) => d.name), ...acc.ledgerAnomalies.map((a) => a.name)];
const investigation = [...new Set(problems)].slice(0, 20).map((name) => ({
  name,
  written: written.find((w) => w.name === name),
  ledger: jobs.filter((j) => j.name === name),
  log: linesAbout(logs, name),
}));

const machine = { host: hostname(), cpu: cpus()[0]?.model, cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version };
const ok = runError === undefined && acc.lost.length === 0 && acc.duplicated.length === 0;
const report = {
  date: new Date(t0).toISOString(),
  command: `npm run soak -- ${process.argv.slice(2).join(' ')}`.trim(),
  machine,
  options: opts,
  durationS: (endedAt - t0) / 1000,
  error: runError?.message,
  written: {
    total: written.length, small: written.filter((w) => w.kind === 'small').length, full: written.filter((w) => w.kind === 'full').length,
    udp: written.filter((w) => w.trigger).length, watcherOnly: written.filter((w) => !w.trigger).length,
    duringOutage: written.filter((w) => w.duringOutage).length, triggersWhileDown: written.filter((w) => w.triggerWhileDown).length,
    bytes: written.reduce((s, w) => s + w.bytes, 0),
  },
  delivered: acc.delivered,
  lost: acc.lost,
  duplicated: acc.duplicated,
  unsound: acc.unsound,
  strangers: acc.strangers,
  temporariesLeft: acc.temporaries,
  ledger: { byState: acc.ledgerByState, multiAttempt: acc.multiAttempt, anomalies: acc.ledgerAnomalies },
  pointers,
  logEvents,
  /** Every warning and error the service logged. */
  logNotes: logNotes.slice(0, 200),
  segments: segments.map((s) => ({
    index: s.index, pid: s.pid, readyMs: s.readyAt === undefined ? null : s.readyAt - s.startedAt,
    upS: ((s.stop?.at ?? endedAt) - (s.readyAt ?? s.startedAt)) / 1000, stop: s.stop,
  })),
  outages: outages.map((o) => ({ ...o, downMs: (o.endAt ?? endedAt) - o.startAt })),
  memory: { segments: memory, flat, criterion: `RSS floor slope <= ${opts.flatMbPer1000} MB per 1000 files after ${opts.warmupFiles} files of warm-up, in every segment that ran at least ${opts.minSpanFiles} files beyond it` },
  throughputFilesPerS: acc.delivered / ((endedAt - t0) / 1000),
  latency: lat,
  investigation,
  root: ok && anomalies === 0 && !opts.keep ? undefined : root,
  samples,
};
const outFile = args.out ?? join(here, 'results', `soak-${new Date(t0).toISOString().replace(/[:]/g, '').replace(/\..*/, '')}.json`);
await mkdir(join(outFile, '..'), { recursive: true });
await writeFile(outFile, `${JSON.stringify(report, null, 1)}\n`);

// ---------------------------------------------------------------------------------------------
// The table

const f0 = (x: number | null | undefined) => (x == null ? '-' : x.toFixed(0));
const f1 = (x: number | null | undefined) => (x == null ? '-' : x.toFixed(1));
console.log(`\ndataman soak — ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, ${(report.durationS / 60).toFixed(1)} min`);
console.log(`written    ${report.written.total} (${report.written.small} small, ${report.written.full} full; ${report.written.udp} with UDP trigger, ${report.written.watcherOnly} watcher only; ${report.written.duringOutage} while the service was down)`);
console.log(`delivered  ${acc.delivered}   lost ${acc.lost.length}   duplicated ${acc.duplicated.length}   unsound ${acc.unsound.length}   strangers ${acc.strangers.length}   temporaries left ${acc.temporaries.repo.length + acc.temporaries.proc.length}`);
console.log(`ledger     ${Object.entries(acc.ledgerByState).map(([k, v]) => `${k} ${v}`).join(', ')}; ${acc.multiAttempt} job(s) with more than one attempt; ${acc.ledgerAnomalies.length} anomalies`);
console.log(`log        ${Object.entries(logEvents).map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`throughput ${report.throughputFilesPerS.toFixed(2)} files/s over the whole run`);
console.log(`\nsegment  stop      up s  files  RSS start  end   max  HWM MB  heap start  end MB | slope MB/1000 files after ${opts.warmupFiles}: over files  RSS  RSS floor  heap  heap floor`);
for (const m of memory) {
  const s = report.segments[m.segment - 1]!;
  console.log(`${String(m.segment).padStart(7)}  ${(s.stop?.final ? 'end' : s.stop?.signal ?? '-').padEnd(8)} ${f0(s.upS).padStart(5)} ${String(m.filesDelivered).padStart(6)} ${f0(m.rssStartMb).padStart(10)} ${f0(m.rssEndMb).padStart(5)} ${f0(m.rssMaxMb).padStart(5)} ${f0(m.hwmMb).padStart(7)} ${f1(m.heapStartMb).padStart(11)} ${f1(m.heapEndMb).padStart(7)} ${String(m.slopeSpanFiles).padStart(40)} ${f1(m.rssSlopeMbPer1000).padStart(5)} ${f1(m.rssFloorSlopeMbPer1000).padStart(10)} ${f1(m.heapSlopeMbPer1000).padStart(5)} ${f1(m.heapFloorSlopeMbPer1000).padStart(11)}`);
}
console.log(`memory     ${flat === null ? 'not judged: no segment ran long enough after warm-up (more --files, fewer --restarts)' : flat ? 'flat' : 'NOT flat'} (${report.memory.criterion})`);
console.log('\nlatency, ms (written → <CHAN>.new updated; parts: → found complete, processing + delivery)   n    p50    p95    max');
for (const [key, l] of Object.entries(lat)) {
  if (l.endToEnd === null) continue;
  console.log(`  ${key.padEnd(14)} end to end ${String(l.endToEnd.n).padStart(39)} ${f0(l.endToEnd.p50Ms).padStart(6)} ${f0(l.endToEnd.p95Ms).padStart(6)} ${f0(l.endToEnd.maxMs).padStart(6)}`);
  if (l.untilComplete) console.log(`  ${''.padEnd(14)} until complete ${''.padStart(35)} ${f0(l.untilComplete.p50Ms).padStart(6)} ${f0(l.untilComplete.p95Ms).padStart(6)} ${f0(l.untilComplete.maxMs).padStart(6)}`);
  if (l.processAndDeliver) console.log(`  ${''.padEnd(14)} process + deliver ${''.padStart(32)} ${f0(l.processAndDeliver.p50Ms).padStart(6)} ${f0(l.processAndDeliver.p95Ms).padStart(6)} ${f0(l.processAndDeliver.maxMs).padStart(6)}`);
}
for (const l of logNotes.slice(0, 10)) console.log(`logged: ${l}`);
for (const t of [...acc.temporaries.repo.map((n) => join(repoDir, n)), ...acc.temporaries.proc.map((n) => join(dayDir, n))]) console.log(`temporary left: ${t}`);
for (const i of investigation) {
  console.log(`\n${i.name}: ${i.ledger.map((j) => `job ${j.id} ${j.origin} ${j.state} attempts ${j.attempts} ${j.delivered_name ?? ''} ${j.error_code ?? ''}`).join('; ') || 'no ledger job'}`);
  for (const l of i.log.slice(0, 12)) console.log(`    ${l}`);
}
if (runError) console.log(`\nrun failed: ${runError.message}`);
console.log(`\nJSON: ${outFile}${report.root ? `\nfolders kept: ${report.root}` : ''}`);
if (report.root === undefined) await rm(root, { recursive: true, force: true });
process.exit(ok ? 0 : 1);

// ---------------------------------------------------------------------------------------------

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free TCP port');
  return address.port;
}
