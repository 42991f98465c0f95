/**
 * `npm run bench`: header read and whole-file processing for 1k, 3k and full frames, each next
 * to the I/O floor measured in the same run (reading the raw bytes, writing the processed
 * bytes). Results as a table and as JSON in bench/results/. Medians of several runs: this machine
 * is shared and noisy, so compare ratios, not absolute figures.
 *   npm run bench [-- --runs N] [-- --only header|process|latency|cli|compare|raw-folder|ledger-scale|outage] [-- --reference DIR]
 * `cli` (bench/cli.ts): the command line's start-up, a full frame and a batch as whole processes,
 * beside `node -e 0` and, with --reference DIR (holding fixHead.py), the reference.
 * `compare` (bench/compare.ts, only with --only compare: it writes some 5 GB): `dataman compare` of
 * a night of 1k frames and of full frames beside `cat` of the same files.
 * `outage` (bench/outage.ts): a fresh frame's latency during a 20-full-frame catch-up beside a
 * 1k frame's idle latency in the same run (only with --only outage: it writes 1 GB of frames).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateRaw } from '../src/simulate/index.js';
import { measureLatency } from './latency.js';
import { measureCli, printCli } from './cli.js';
import { measureCompare, printCompare } from './compare.js';
import { measureRawFolder, printRawFolder } from './raw-folder.js';
import { measureLedgerScale, printLedgerScale } from './ledger-scale.js';
import { measureOutage, printOutage } from './outage.js';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 0) || 5;
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const reference = args.includes('--reference') ? args[args.indexOf('--reference') + 1] : undefined;
const here = fileURLToPath(new URL('.', import.meta.url));

// `--only raw-folder` (bench/raw-folder.ts): the service with a raw folder full of old files.
if (only === 'raw-folder') {
  const cases = await measureRawFolder(Number(args[args.indexOf('--runs') + 1] ?? 0) || 3);
  printRawFolder(cases);
  await mkdir(join(here, 'results'), { recursive: true });
  await writeFile(join(here, 'results', 'raw-folder.json'), `${JSON.stringify({ date: new Date().toISOString(), cases }, null, 2)}\n`);
  process.exit(0);
}

interface Sample { wallMs: number; cpuMs: number; maxRssMb: number; [k: string]: unknown }

function child(...argv: string[]): Sample {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'child.ts'), ...argv], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench child ${argv.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Sample;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
function summarise(samples: Sample[]) {
  const stages: Record<string, number> = {};
  const stageSamples = samples.map((s) => s.stagesMs as Record<string, number> | undefined).filter((s) => s !== undefined);
  for (const key of Object.keys(stageSamples[0] ?? {})) stages[key] = median(stageSamples.map((s) => s[key]!));
  return {
    wallMs: median(samples.map((s) => s.wallMs)),
    cpuMs: median(samples.map((s) => s.cpuMs)),
    maxRssMb: median(samples.map((s) => s.maxRssMb)),
    ...(Object.keys(stages).length ? { stagesMs: stages } : {}),
    ...(samples[0]!.bytesRead !== undefined ? { bytesRead: samples[0]!.bytesRead, reads: samples[0]!.reads, fileLength: samples[0]!.fileLength } : {}),
  };
}

const dir = await mkdtemp(join(tmpdir(), 'dataman-bench-'));
const results: Record<string, unknown> = {};
try {
  for (const roi of only === 'latency' || only === 'cli' || only === 'compare' || only === 'ledger-scale' || only === 'outage' ? [] : ['1k', '3k', 'full']) {
    const raw = generateRaw({ instrument: 'MODS1B', roi });
    const rawPath = join(dir, raw.name);
    await writeFile(rawPath, raw.bytes);
    const out = join(dir, `out-${roi}.fits`);
    const entry: Record<string, unknown> = { rawBytes: raw.bytes.length };
    if (!only || only === 'header') {
      entry.header = summarise(Array.from({ length: runs }, () => child('header', rawPath)));
    }
    if (!only || only === 'process') {
      const processed = Array.from({ length: runs }, () => child('process', rawPath, out));
      entry.process = summarise(processed);
      const processedBytes = Number(processed[0]!.bytes);
      entry.processedBytes = processedBytes;
      entry.ioFloor = summarise(Array.from({ length: runs }, () => child('floor', rawPath, out, String(processedBytes))));
    }
    results[roi] = entry;
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const latency = !only || only === 'latency' ? await measureLatency(runs) : undefined;
const cli = !only || only === 'cli' ? await measureCli({ runs, reference }) : undefined;
const compare = only === 'compare' ? await measureCompare({ runs }) : undefined;
// Only when asked: building the 1M-job ledger takes a minute (`--rows N` for a smaller one).
const ledgerRows = args.includes('--rows') ? Number(args[args.indexOf('--rows') + 1]) : undefined;
const ledgerScale = only === 'ledger-scale' ? await measureLedgerScale(runs, ledgerRows) : undefined;
// Whole nights, so `--runs` counts them (default 1).
const outage = only === 'outage' ? await measureOutage(args.includes('--runs') ? runs : 1) : undefined;
const machine = { host: hostname(), cpu: cpus()[0]?.model, cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version };
const report = { date: new Date().toISOString(), runs, machine, results, latency, cli, compare, ledgerScale, outage };
await mkdir(join(here, 'results'), { recursive: true });
await writeFile(join(here, 'results', 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);

const fmt = (x: unknown) => (typeof x === 'number' ? x.toFixed(1) : '-');
console.log(`dataman benchmarks — ${machine.cpu} (${machine.cores} cores), ${machine.node}, median of ${runs} runs, each in its own process`);
console.log('ROI   stage                 wall ms   CPU ms  peak RSS MB  notes');
for (const [roi, e] of Object.entries(results) as Array<[string, Record<string, any>]>) {
  if (e.header) console.log(`${roi.padEnd(5)} header read         ${fmt(e.header.wallMs).padStart(9)} ${fmt(e.header.cpuMs).padStart(8)} ${fmt(e.header.maxRssMb).padStart(12)}  ${e.header.bytesRead} of ${e.header.fileLength} bytes read in ${e.header.reads} reads`);
  if (e.process) {
    console.log(`${roi.padEnd(5)} dataman process     ${fmt(e.process.wallMs).padStart(9)} ${fmt(e.process.cpuMs).padStart(8)} ${fmt(e.process.maxRssMb).padStart(12)}  ${e.processedBytes} bytes out; ${(e.process.wallMs / e.ioFloor.wallMs).toFixed(2)}x the I/O floor`);
    console.log(`${roi.padEnd(5)} I/O floor           ${fmt(e.ioFloor.wallMs).padStart(9)} ${fmt(e.ioFloor.cpuMs).padStart(8)} ${fmt(e.ioFloor.maxRssMb).padStart(12)}  read raw + write the processed size`);
    for (const [stage, ms] of Object.entries(e.process.stagesMs ?? {})) console.log(`        ${stage.padEnd(18)} ${fmt(ms).padStart(9)}`);
  }
}
if (latency) {
  const ms = (x: number) => `${(x / 1000).toFixed(3)} s`;
  console.log(`\nService latency (dataman serve as a child process), raw file complete -> <CHAN>.new names it (${latency.files} files each; settle ${latency.settleMs} ms, poll ${latency.intervalMs} ms):`);
  for (const f of latency.frames) {
    const one = f.floor.p50Ms;
    const two = f.twoCopiesFloor.p50Ms;
    console.log(`  ${f.roi} frame (${f.rawBytes} bytes raw, ${f.processedBytes} processed); floors: one copy p50 ${ms(one)}, two copies p50 ${ms(two)}`);
    console.log(`    UDP trigger    p50 ${ms(f.udp.p50Ms)}, p95 ${ms(f.udp.p95Ms)}  (${(f.udp.p50Ms / two).toFixed(2)}x the two-copy floor)`);
    const watcherTarget = latency.intervalMs + latency.settleMs + 1.5 * two;
    console.log(`    watcher alone  p50 ${ms(f.watcher.p50Ms)}, p95 ${ms(f.watcher.p95Ms)}  (target: poll + settle + 1.5x the two-copy floor = ${ms(watcherTarget)})`);
    console.log(`    UDP, by stage (p50/p95): ${Object.entries(f.stages).map(([k, v]) => `${k} ${v.p50Ms.toFixed(0)}/${v.p95Ms.toFixed(0)} ms`).join(', ')}`);
    console.log(`    UDP p95 / p50 ${(f.udp.p95Ms / f.udp.p50Ms).toFixed(2)}, p95 / two-copy floor ${(f.udp.p95Ms / two).toFixed(2)}x; service peak RSS ${f.servicePeakRssMb.toFixed(0)} MB`);
  }
}
if (cli) printCli(cli);
if (compare) printCompare(compare);
if (ledgerScale) printLedgerScale(ledgerScale);
if (outage) printOutage(outage);
console.log(`\nJSON: bench/results/latest.json (process wall/CPU exclude Node start-up: they are measured inside the child)`);
