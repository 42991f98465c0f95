/**
 * Issue #6: `dataman process` against the reference Python dataMan (rwpogge/MODS2025,
 * mods/Agents/dataMan/, v1.2.4) on this machine, same raw files (MODS1B 1k, 3k, full frame).
 *
 *   node --import tsx bench/reference-python.ts --reference DIR [--runs N] [--warm-runs N]
 *        [--sites-json FILE] [--python /usr/bin/python3] [--only 1k,3k,full] [--astropy-online]
 *
 * DIR is an export of mods/Agents/dataMan/ (dataMan.py and Config/); it is never copied into
 * this repository. The reference runs through bench/reference_driver.py, which executes only the
 * imports and function definitions of dataMan.py and calls its modsFITSProc() on the raw file
 * (all five steps on, as in Config/dataman_MODS1.ini), in a fresh process per run.
 *
 * --sites-json: astropy-data's coordinates/sites.json. The reference finds the site with
 * EarthLocation.of_site("LBT"), which needs astropy's online site registry; offline the lookup
 * fails, the reference swallows the error and silently skips HJD-OBS/BJD-OBS (less work). The
 * file is imported into a private astropy download cache (XDG_CACHE_HOME in the temp dir), the
 * state of an online host. Without it the results say `hjdBjdWritten: false`.
 * Also by default astropy runs offline by configuration (a private XDG_CONFIG_HOME with
 * astropy.cfg: utils.data allow_internet = False, utils.iers.iers auto_download = False): with
 * auto_download on and no network, astropy retries the IERS-A download on every fixDateTime call
 * (IERS_Auto keeps retrying while it only has IERS-B), and a DNS time-out then adds ~5 s at
 * random. An online host with a cached IERS-A makes no such attempts either. Offline, the
 * bundled IERS-B table is read instead of IERS-A (similar size). --astropy-online keeps
 * astropy's defaults.
 *
 * Per size, interleaved (odd runs reference first, even runs ours first):
 *   cold: one file per fresh process. Reference: modsFITSProc timed inside the process (also
 *     without its repo copy, which `dataman process` does not do) and the whole process (Python
 *     start-up, imports). Ours: bench/child.ts process (in-process figures, Node start-up
 *     excluded) and the whole process.
 *   warm: the steady state of a long-running service: 3 files in one process, calls 2 and 3
 *     counted. Reference: driver --repeat 3. Ours: this script in --warm-child mode.
 * Whole-process CPU and peak RSS come from /usr/bin/time when present (else in-process figures).
 * Medians; table on stdout, JSON in bench/results/reference.json. Shared, noisy machine: the load
 * averages before and after are recorded; compare ratios from the same run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, hostname, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { astropyOfflineEnv, measured, median, type Whole } from './whole-process.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const argv = process.argv.slice(2);

if (argv[0] === '--warm-child') {
  // Ours, warm: process the same raw file `repeat` times in this one process.
  const [, raw, outDir, repeatArg] = argv;
  const { processFile } = await import('../src/steps/pipeline.js');
  const { processingOptions } = await import('../src/steps/defaults.js');
  const calls: Array<{ wallMs: number; cpuMs: number; maxRssMb: number }> = [];
  for (let k = 1; k <= Number(repeatArg); k++) {
    const out = join(outDir!, `warm-${k}.fits`);
    await rm(out, { force: true });
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await processFile(raw!, out, { ...processingOptions(undefined), checksums: true });
    const cpu = process.cpuUsage(c0);
    calls.push({ wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024 });
    await rm(out, { force: true });
  }
  console.log(JSON.stringify({ calls }));
  process.exit(0);
}

const option = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const referenceDir = option('--reference');
if (!referenceDir || !existsSync(join(referenceDir, 'dataMan.py'))) {
  console.error('usage: node --import tsx bench/reference-python.ts --reference DIR [--runs N] [--warm-runs N] [--sites-json FILE] [--python PY] [--only 1k,3k,full] [--astropy-online]');
  console.error('DIR: an export of rwpogge/MODS2025 mods/Agents/dataMan/ (holding dataMan.py and Config/)');
  process.exit(2);
}
const runs = Number(option('--runs') ?? 5) || 5;
const warmRuns = Number(option('--warm-runs') ?? 3);
const python = option('--python') ?? '/usr/bin/python3';
const sitesJson = option('--sites-json');
const sizes = (option('--only') ?? '1k,3k,full').split(',');
const driver = join(here, 'reference_driver.py');
const lastJson = <T>(stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!) as T;
const medians = (rows: Array<Record<string, number | undefined>>) => {
  const out: Record<string, number> = {};
  for (const key of Object.keys(rows[0] ?? {})) out[key] = median(rows.map((r) => r[key] ?? NaN));
  return out;
};

interface RefCall { wallMs: number; cpuMs: number; maxRssMb: number; rssBeforeMb: number; processMs: number; stagesMs: Record<string, number> }
interface RefRun { importMs: number; calls: RefCall[]; processCpuMs: number; processMaxRssMb: number; output: Record<string, any>; astropy: string; numpy: string; python: string }
interface OursRun { wallMs: number; cpuMs: number; maxRssMb: number; bytes: number; stagesMs: Record<string, number> }

const { generateRaw } = await import('../src/simulate/index.js');
const dir = await mkdtemp(join(tmpdir(), 'dataman-refbench-'));
const env: NodeJS.ProcessEnv = { ...process.env };
const loadBefore = loadavg();
const results: Record<string, unknown> = {};
let versions: Record<string, string> = {};
try {
  if (!argv.includes('--astropy-online')) {
    env.XDG_CONFIG_HOME = (await astropyOfflineEnv(dir)).XDG_CONFIG_HOME;
  }
  if (sitesJson) {
    await mkdir(join(dir, 'xdg', 'astropy'), { recursive: true });
    env.XDG_CACHE_HOME = join(dir, 'xdg');
    const r = spawnSync(python, ['-c', 'import sys; from astropy.utils.data import import_file_to_cache as f; '
      + 'f("http://data.astropy.org/coordinates/sites.json", sys.argv[1], remove_original=False)', resolve(sitesJson)], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`could not seed astropy's cache with ${sitesJson}:\n${r.stderr}`);
  } else {
    console.warn('no --sites-json: offline, the reference will skip HJD-OBS/BJD-OBS (EarthLocation.of_site fails and is swallowed)');
  }
  for (const roi of sizes) {
    const raw = generateRaw({ instrument: 'MODS1B', roi });
    const rawPath = join(dir, raw.name);
    await writeFile(rawPath, raw.bytes);
    const refCold: RefRun[] = [];
    const refWhole: Whole[] = [];
    const oursCold: OursRun[] = [];
    const oursWhole: Whole[] = [];
    let referenceOut: string | undefined;
    const runReference = async (repeat: number, keep: boolean) => {
      const work = join(dir, `ref-${roi}`);
      await rm(work, { recursive: true, force: true });
      const r = await measured(python, [driver, 'run', '--reference', resolve(referenceDir), '--raw', rawPath, '--work', work, '--repeat', String(repeat)], env, join(dir, 'time.txt'));
      const parsed = lastJson<RefRun>(r.stdout);
      if (keep) {
        referenceOut = join(dir, `reference-${roi}.fits`);
        await rm(referenceOut, { force: true });
        spawnSync('mv', [parsed.output.procFile, referenceOut]);
      }
      await rm(work, { recursive: true, force: true });
      return { parsed, whole: r.whole };
    };
    const oursOut = join(dir, `ours-${roi}.fits`);
    const runOurs = async () => {
      const r = await measured(process.execPath, ['--import', 'tsx', join(here, 'child.ts'), 'process', rawPath, oursOut], process.env, join(dir, 'time.txt'));
      return { parsed: lastJson<OursRun>(r.stdout), whole: r.whole };
    };
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? ['ref', 'ours'] : ['ours', 'ref'];
      for (const who of order) {
        if (who === 'ref') {
          const r = await runReference(1, i === runs - 1);
          refCold.push(r.parsed);
          refWhole.push(r.whole);
        } else {
          const r = await runOurs();
          oursCold.push(r.parsed);
          oursWhole.push(r.whole);
        }
      }
    }
    // sanity: what the reference wrote, and reference vs ours (MERGED pixels, keywords)
    const cmp = spawnSync(python, [driver, 'compare', referenceOut!, oursOut], { encoding: 'utf8', env });
    const comparison = cmp.status === 0 ? lastJson<Record<string, unknown>>(cmp.stdout) : { error: cmp.stderr };
    await rm(oursOut, { force: true });
    if (referenceOut) await rm(referenceOut, { force: true });

    const refWarm: RefCall[] = [];
    const oursWarm: Array<{ wallMs: number; cpuMs: number }> = [];
    for (let i = 0; i < warmRuns; i++) {
      const order = i % 2 === 0 ? ['ref', 'ours'] : ['ours', 'ref'];
      for (const who of order) {
        if (who === 'ref') {
          refWarm.push(...(await runReference(3, false)).parsed.calls.slice(1));
        } else {
          const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--warm-child', rawPath, dir, '3'], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`warm child failed:\n${r.stderr}`);
          oursWarm.push(...lastJson<{ calls: Array<{ wallMs: number; cpuMs: number }> }>(r.stdout).calls.slice(1));
        }
      }
    }

    const last = refCold[refCold.length - 1]!;
    versions = { python: last.python, astropy: last.astropy, numpy: last.numpy };
    const refStages: Record<string, number> = {};
    for (const key of Object.keys(refCold[0]!.calls[0]!.stagesMs)) refStages[key] = median(refCold.map((r) => r.calls[0]!.stagesMs[key] ?? NaN));
    const oursStages: Record<string, number> = {};
    for (const key of Object.keys(oursCold[0]!.stagesMs)) oursStages[key] = median(oursCold.map((r) => r.stagesMs[key] ?? NaN));
    const entry = {
      rawBytes: raw.bytes.length,
      reference: {
        cold: {
          modsFITSProc: medians(refCold.map((r) => ({ wallMs: r.calls[0]!.wallMs, cpuMs: r.calls[0]!.cpuMs, maxRssMb: r.calls[0]!.maxRssMb, rssBeforeMb: r.calls[0]!.rssBeforeMb }))),
          withoutRepoCopyMs: median(refCold.map((r) => r.calls[0]!.processMs)),
          stagesMs: refStages,
          importMs: median(refCold.map((r) => r.importMs)),
          wholeProcess: medians(refWhole.map((w) => ({ ...w }))),
          samples: refCold.map((r, k) => ({ wallMs: r.calls[0]!.wallMs, processMs: r.calls[0]!.processMs, cpuMs: r.calls[0]!.cpuMs, wholeWallMs: refWhole[k]!.wallMs })),
        },
        warm: { ...medians(refWarm.map((c) => ({ wallMs: c.wallMs, cpuMs: c.cpuMs }))), withoutRepoCopyMs: median(refWarm.map((c) => c.processMs)), n: refWarm.length },
        output: last.output,
        hjdBjdWritten: last.output.primary?.['HJD-OBS'] != null && last.output.primary?.['BJD-OBS'] != null,
        mergedWritten: Array.isArray(last.output.hdus) && last.output.hdus.includes('MERGED'),
      },
      ours: {
        cold: {
          process: medians(oursCold.map((r) => ({ wallMs: r.wallMs, cpuMs: r.cpuMs, maxRssMb: r.maxRssMb }))),
          stagesMs: oursStages,
          wholeProcess: medians(oursWhole.map((w) => ({ ...w }))),
          samples: oursCold.map((r, k) => ({ wallMs: r.wallMs, cpuMs: r.cpuMs, wholeWallMs: oursWhole[k]!.wallMs })),
          bytes: oursCold[0]!.bytes,
        },
        warm: { ...medians(oursWarm.map((c) => ({ wallMs: c.wallMs, cpuMs: c.cpuMs }))), n: oursWarm.length },
      },
      comparison,
    };
    results[roi] = entry;
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const loadAfter = loadavg();
const machine = { host: hostname(), cpu: cpus()[0]?.model, cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, ...versions };
const report = { date: new Date().toISOString(), runs, warmRuns, machine, loadavgBefore: loadBefore, loadavgAfter: loadAfter, sitesJson: Boolean(sitesJson), astropyOffline: !argv.includes('--astropy-online'), results };
await mkdir(join(here, 'results'), { recursive: true });
await writeFile(join(here, 'results', 'reference.json'), `${JSON.stringify(report, null, 2)}\n`);

const f = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(0));
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}x` : '-');
const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
console.log(`reference dataMan (Python ${versions.python}, astropy ${versions.astropy}, numpy ${versions.numpy}) vs dataman process — ${machine.cpu} (${machine.cores} cores), ${machine.node}`);
console.log(`median of ${runs} cold runs (fresh process each) and ${warmRuns}x2 warm calls; load average ${la(loadBefore)} before, ${la(loadAfter)} after`);
console.log('ROI   measurement                          ref wall  ref CPU  ref RSS | ours wall ours CPU ours RSS | ratio wall  ratio CPU');
for (const [roi, e] of Object.entries(results) as Array<[string, any]>) {
  const rc = e.reference.cold;
  const oc = e.ours.cold;
  const row = (label: string, rw?: number, rcpu?: number, rrss?: number, ow?: number, ocpu?: number, orss?: number) =>
    console.log(`${roi.padEnd(5)} ${label.padEnd(36)} ${f(rw).padStart(8)} ${f(rcpu).padStart(8)} ${f(rrss).padStart(8)} | ${f(ow).padStart(9)} ${f(ocpu).padStart(8)} ${f(orss).padStart(8)} | ${ratio(rw, ow).padStart(10)} ${ratio(rcpu, ocpu).padStart(10)}`);
  row('cold, processing only (no repo copy)', rc.withoutRepoCopyMs, undefined, undefined, oc.process.wallMs, undefined, undefined);
  row('cold, modsFITSProc / process', rc.modsFITSProc.wallMs, rc.modsFITSProc.cpuMs, rc.modsFITSProc.maxRssMb, oc.process.wallMs, oc.process.cpuMs, oc.process.maxRssMb);
  row('cold, whole process', rc.wholeProcess.wallMs, rc.wholeProcess.cpuMs, rc.wholeProcess.maxRssMb, oc.wholeProcess.wallMs, oc.wholeProcess.cpuMs, oc.wholeProcess.maxRssMb);
  row('warm (service steady state)', e.reference.warm.withoutRepoCopyMs, e.reference.warm.cpuMs, undefined, e.ours.warm.wallMs, e.ours.warm.cpuMs, undefined);
  const c = e.comparison;
  console.log(`${roi.padEnd(5)} reference output: ${e.reference.output.hdus?.join(',')}; HJD/BJD ${e.reference.hjdBjdWritten ? 'written' : 'MISSING'}; `
    + `MERGED max |ref-ours| = ${c.mergedMaxAbsDiff}; keyword differences: ${(c.keywordMismatches ?? []).join(', ') || 'none'}`);
}
console.log('(ms, MB; RSS = peak; "processing only" = modsFITSProc minus its copy into repoDir (what dataman process does); the reference\'s warm wall is also without the copy, its warm CPU includes it)');
