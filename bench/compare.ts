/**
 * `npm run bench -- --only compare`: `dataman compare` as users run it (the compiled CLI, a whole
 * process) on a night of processed 1k frames (two folders, 300 pairs by default) and on full
 * frames, beside `cat` of the same files in the same run (the read floor: what the disk, or the
 * page cache, gives), with the peak RSS of each. Side A is processed without checksums (as the
 * reference writes), side B with them, so every pair has bookkeeping differences to classify.
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFile } from 'node:fs/promises';
import { generateRaw } from '../src/simulate/index.js';
import { processFile } from '../src/steps/pipeline.js';
import { processingOptions } from '../src/steps/defaults.js';
import { measured, median, type Whole } from './whole-process.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface CompareBenchOptions { runs: number; nightFiles?: number; fullFiles?: number }

interface Case { pairs: number; bytes: number; compare: Whole; cat: Whole; stdoutTail: string }

export async function measureCompare(o: CompareBenchOptions) {
  const dir = await mkdtemp(join(tmpdir(), 'dataman-comparebench-'));
  const timeFile = join(dir, 'time.txt');
  const loadBefore = loadavg();
  try {
    const night = await makeNight(dir, 'night', '1k', o.nightFiles ?? 300);
    const full = await makeNight(dir, 'full', 'full', o.fullFiles ?? 4);
    const cases: Record<string, Case> = {};
    for (const [name, n] of Object.entries({ night, full })) {
      const compares: Whole[] = [];
      const cats: Whole[] = [];
      let stdoutTail = '';
      for (let i = 0; i < o.runs; i++) {
        // Interleaved: the floor and the command see the same cache and the same load.
        cats.push((await measured('/bin/sh', ['-c', `cat "${n.a}"/*.fits "${n.b}"/*.fits > /dev/null`], process.env, timeFile)).whole);
        const run = await measured(process.execPath, [join(root, 'bin/dataman.js'), 'compare', n.a, n.b], process.env, timeFile);
        compares.push(run.whole);
        stdoutTail = run.stdout.trim().split('\n').pop() ?? '';
      }
      cases[name] = { pairs: n.pairs, bytes: n.bytes, compare: summary(compares), cat: summary(cats), stdoutTail };
    }
    return { loadavgBefore: loadBefore, loadavgAfter: loadavg(), cases };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const summary = (xs: Whole[]): Whole => ({
  wallMs: median(xs.map((x) => x.wallMs)), cpuMs: median(xs.map((x) => x.cpuMs ?? NaN)), maxRssMb: median(xs.map((x) => x.maxRssMb ?? NaN)),
});

/** Two folders of `count` pairs: one processed raw file each side, copied under night names. */
async function makeNight(dir: string, name: string, roi: string, count: number) {
  const work = join(dir, name);
  const a = join(work, 'A');
  const b = join(work, 'B');
  await mkdir(a, { recursive: true });
  await mkdir(b, { recursive: true });
  const raw = generateRaw({ instrument: 'MODS1B', roi });
  const rawPath = join(work, raw.name);
  await writeFile(rawPath, raw.bytes);
  const options = processingOptions(undefined);
  const outA = join(work, 'a.fits');
  const outB = join(work, 'b.fits');
  await processFile(rawPath, outA, { ...options, checksums: false });
  const written = await processFile(rawPath, outB, options);
  for (let i = 1; i <= count; i++) {
    const file = `mods1b.20260115.${String(i).padStart(4, '0')}.fits`;
    await copyFile(outA, join(a, file));
    await copyFile(outB, join(b, file));
  }
  return { a, b, pairs: count, bytes: 2 * count * written.bytes };
}

export function printCompare(r: Awaited<ReturnType<typeof measureCompare>>): void {
  const f = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(0) : '-');
  console.log(`\ndataman compare, whole processes, medians; load average ${r.loadavgBefore.map((x) => x.toFixed(2)).join(' ')} before, ${r.loadavgAfter.map((x) => x.toFixed(2)).join(' ')} after:`);
  for (const [name, c] of Object.entries(r.cases)) {
    const mbps = (w: Whole) => c.bytes / 1e6 / (w.wallMs / 1000);
    console.log(`  ${name}: ${c.pairs} pairs, ${(c.bytes / 1e6).toFixed(0)} MB`);
    console.log(`    dataman compare ${f(c.compare.wallMs).padStart(7)} ms (${mbps(c.compare).toFixed(0)} MB/s), CPU ${f(c.compare.cpuMs)} ms, peak RSS ${f(c.compare.maxRssMb)} MB`);
    console.log(`    cat (the floor) ${f(c.cat.wallMs).padStart(7)} ms (${mbps(c.cat).toFixed(0)} MB/s): compare is ${(c.compare.wallMs / c.cat.wallMs).toFixed(2)}x the floor`);
    console.log(`    ${c.stdoutTail}`);
  }
}
