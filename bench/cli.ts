/**
 * The command line as users run it (`node bin/dataman.js`, the compiled build, rebuilt first),
 * whole processes, interleaved runs, medians:
 *   start-up: `node -e 0` (the floor), `dataman --help`, `--version`, `inspect` of one header;
 *   one full frame: `dataman process`; a batch: 6 full frames in one `dataman process --jobs 2`,
 *   with its peak memory (the workers and their arenas are threads of the same process).
 * With `--reference DIR` (an export of rwpogge/MODS2025 mods/Agents/dataMan/, holding
 * fixHead.py), the reference beside them: one `fixHead.py RAW OUT` per file, astropy offline.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateRaw } from '../src/simulate/index.js';
import { astropyOfflineEnv, measured, median, type Whole } from './whole-process.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface CliBenchOptions {
  runs: number;
  /** Folder holding the reference's fixHead.py. */
  reference?: string | undefined;
  python?: string | undefined;
  batchFiles?: number;
  jobs?: number;
}

const summary = (xs: Whole[]) => ({
  wallMs: median(xs.map((x) => x.wallMs)),
  cpuMs: median(xs.map((x) => x.cpuMs ?? NaN)),
  maxRssMb: median(xs.map((x) => x.maxRssMb ?? NaN)),
});

export async function measureCli(o: CliBenchOptions) {
  const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
  const dataman = join(root, 'bin/dataman.js');
  const dir = await mkdtemp(join(tmpdir(), 'dataman-clibench-'));
  const timeFile = join(dir, 'time.txt');
  const loadBefore = loadavg();
  const fixHead = o.reference === undefined ? undefined : join(resolve(o.reference), 'fixHead.py');
  if (fixHead !== undefined && !existsSync(fixHead)) throw new Error(`--reference ${o.reference}: no fixHead.py there`);
  const python = o.python ?? '/usr/bin/python3';
  const count = o.batchFiles ?? 6;
  const jobs = o.jobs ?? 2;
  try {
    const small = generateRaw({ instrument: 'MODS1B', roi: '1k' });
    const header = join(dir, small.name);
    await writeFile(header, small.bytes);
    const raws: string[] = [];
    for (let i = 1; i <= count; i++) {
      const raw = generateRaw({ instrument: 'MODS1B', roi: 'full', seq: i, seed: i });
      raws.push(join(dir, raw.name));
      await writeFile(raws.at(-1)!, raw.bytes);
    }
    const out = join(dir, 'out');
    const env = process.env;
    const startup: Record<string, string[]> = {
      'node -e 0': ['-e', '0'],
      'dataman --help': [dataman, '--help'],
      'dataman --version': [dataman, '--version'],
      'dataman inspect (1k header)': [dataman, 'inspect', header],
    };
    const startupSamples: Record<string, Whole[]> = Object.fromEntries(Object.keys(startup).map((k) => [k, []]));
    const single: Whole[] = [];
    const refSingle: Whole[] = [];
    for (let i = 0; i < Math.max(o.runs, 9); i++) {
      for (const [name, args] of Object.entries(startup)) startupSamples[name]!.push((await measured(process.execPath, args, env, timeFile)).whole);
    }
    const referenceEnv = fixHead === undefined ? undefined : await astropyOfflineEnv(dir);
    const fresh = async () => {
      await rm(out, { recursive: true, force: true });
      await mkdir(out);
    };
    for (let i = 0; i < o.runs; i++) {
      await fresh();
      single.push((await measured(process.execPath, [dataman, 'process', raws[0]!, '--out', out], env, timeFile)).whole);
      if (fixHead !== undefined) {
        await fresh();
        refSingle.push((await measured(python, [fixHead, raws[0]!, join(out, 'ref.fits')], referenceEnv!, timeFile)).whole);
      }
    }
    const batch: Whole[] = [];
    const refBatch: Whole[] = [];
    for (let i = 0; i < Math.max(1, Math.ceil(o.runs / 2)); i++) {
      await fresh();
      batch.push((await measured(process.execPath, [dataman, 'process', ...raws, '--out', out, '--jobs', String(jobs)], env, timeFile)).whole);
      if (fixHead !== undefined) {
        await fresh();
        // The reference's way through a batch: one fixHead.py call per file, one after the other.
        let wallMs = 0;
        let cpuMs = 0;
        let maxRssMb = 0;
        for (const [k, raw] of raws.entries()) {
          const w = (await measured(python, [fixHead, raw, join(out, `ref-${k}.fits`)], referenceEnv!, timeFile)).whole;
          wallMs += w.wallMs;
          cpuMs += w.cpuMs ?? NaN;
          maxRssMb = Math.max(maxRssMb, w.maxRssMb ?? NaN);
        }
        refBatch.push({ wallMs, cpuMs, maxRssMb });
      }
    }
    const startupMedians = Object.fromEntries(Object.entries(startupSamples).map(([k, v]) => [k, summary(v)]));
    return {
      loadavgBefore: loadBefore,
      loadavgAfter: loadavg(),
      startup: startupMedians,
      fullFrame: { dataman: summary(single), ...(refSingle.length ? { reference: summary(refSingle) } : {}) },
      batch: { files: count, jobs, dataman: summary(batch), ...(refBatch.length ? { reference: summary(refBatch) } : {}) },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function printCli(r: Awaited<ReturnType<typeof measureCli>>): void {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');
  const floor = r.startup['node -e 0']!;
  console.log(`\nCommand line, whole processes (node bin/dataman.js, compiled), medians; load average ${r.loadavgBefore.map((x) => x.toFixed(2)).join(' ')} before, ${r.loadavgAfter.map((x) => x.toFixed(2)).join(' ')} after:`);
  for (const [name, s] of Object.entries(r.startup)) {
    // CPU beside wall: on a loaded machine the wall time of a short process is mostly waiting.
    console.log(`  ${name.padEnd(30)} ${f(s.wallMs).padStart(6)} ms, CPU ${f(s.cpuMs)} ms  ${name === 'node -e 0' ? '(the floor)' : `(+${f(s.wallMs - floor.wallMs)} ms wall, +${f(s.cpuMs - floor.cpuMs)} ms CPU over node -e 0)`}`);
  }
  const row = (label: string, ours: { wallMs: number; cpuMs: number; maxRssMb: number }, ref?: { wallMs: number; cpuMs: number; maxRssMb: number }) =>
    console.log(`  ${label.padEnd(30)} ${f(ours.wallMs).padStart(6)} ms, CPU ${f(ours.cpuMs)} ms, peak RSS ${f(ours.maxRssMb)} MB`
      + (ref ? `; reference ${f(ref.wallMs)} ms, CPU ${f(ref.cpuMs)} ms, peak RSS ${f(ref.maxRssMb)} MB: ${(ref.wallMs / ours.wallMs).toFixed(1)}x faster` : '; reference: not run (npm run bench -- --reference DIR)'));
  row('process, one full frame', r.fullFrame.dataman, r.fullFrame.reference);
  row(`process, ${r.batch.files} full frames, --jobs ${r.batch.jobs}`, r.batch.dataman, r.batch.reference);
}
