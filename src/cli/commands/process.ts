/**
 * `dataman process RAW… [--out FILE|DIR] [--config FILE] [--steps a,b] [--force] [--jobs N]
 * [--json]`: the offline replacement of the reference `fixHead.py`. The same code path as the
 * service: the raw file is only read, the output is written with CHECKSUM/DATASUM and never
 * overwrites anything unless `--force` (then atomically, through a temporary file and a
 * rename). Several files are processed on the service's worker pool, `--jobs` at a time, and
 * reported in the order given; a file that fails is named and the others are still processed.
 */
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { descriptionOf } from './descriptions.js';
import type { RegisterCommand } from './register.js';
import { type CliContext, ExitCode, failWith } from '../context.js';
import { UsageError } from '../../errors.js';
import { outcomeMessages, STEP_NAMES, type StepName } from '../../steps/types.js';
import { positiveInteger } from '../options.js';
import { ProgressLine } from '../progress.js';
import type { FileResult, FileTask } from '../process-files.js';
import type { DatamanConfig } from '../../ops/config.js';

interface ProcessOpts {
  out?: string;
  config?: string;
  steps?: string;
  force?: boolean;
  checksums: boolean;
  jobs?: string;
  json?: boolean;
}

export const registerProcess: RegisterCommand = (program: Command, ctx: CliContext) => {
  program
    .command('process')
    .description(descriptionOf('process'))
    .argument('<raw...>', 'raw MODS FITS files (only read, never modified)')
    .option('-o, --out <path>', 'output file (one input) or existing folder (default: the current folder)')
    .option('-c, --config <file>', 'dataman YAML configuration (processing switches, site, sensors)')
    .option('--steps <list>', `only these steps, comma-separated: ${STEP_NAMES.join(',')}`)
    .option('--force', 'replace an existing output file (atomically)')
    .option('--no-checksums', 'do not write CHECKSUM/DATASUM')
    .option('-j, --jobs <n>', `files processed at the same time, on worker threads (default: the number of cores, ${availableParallelism()})`)
    .option('--json', 'print one JSON object per file: {path, output, ok, size, steps: {applied, skipped: [{step, reason}], disabled}, warnings, timeMs} or {path, output, ok: false, error: {code, message}, timeMs}')
    .addHelpText('after', `
Results are printed in the order of the files given. On a terminal, standard error shows the
progress (files done, MB/s, time left); redirected, nothing but the results is printed.
Exit status: 0 every file processed; 1 if any failed (the others are still processed); 70 if
processing a file hit an internal error (a bug: the stack is printed).
`)
    .action(async (raws: string[], opts: ProcessOpts) => {
      const jobs = positiveInteger('--jobs', opts.jobs, availableParallelism());
      let config: DatamanConfig | undefined;
      if (opts.config !== undefined) config = await (await import('../../ops/config.js')).loadConfig(resolve(ctx.cwd, opts.config));
      const outDir = await outputFolder(ctx, opts.out, raws.length);
      const firstFor = new Map<string, string>();
      const tasks: FileTask[] = raws.map((raw) => {
        const rawPath = resolve(ctx.cwd, raw);
        const target = outDir !== undefined ? join(outDir, basename(rawPath)) : resolve(ctx.cwd, opts.out!);
        const earlier = firstFor.get(target);
        if (earlier === undefined) firstFor.set(target, raw);
        return { raw, rawPath, target, ...(earlier !== undefined ? { sameOutputAs: earlier } : {}) };
      });
      const steps = opts.steps === undefined ? undefined : parseSteps(opts.steps);
      const [{ processFiles }, { portableProcessingOptions }] = await Promise.all([import('../process-files.js'), import('../../steps/defaults.js')]);
      const options = { ...portableProcessingOptions(config), checksums: opts.checksums, fsync: opts.force === true };
      if (steps !== undefined) options.steps = steps;
      const totalBytes = (await Promise.all(tasks.map((t) => stat(t.rawPath).then((s) => s.size, () => 0)))).reduce((a, b) => a + b, 0);
      const progress = new ProgressLine(ctx.stderr, tasks.length, totalBytes);
      progress.draw();
      try {
        await processFiles(tasks, {
          options, force: opts.force === true, jobs,
          onSettled: (r) => progress.advance(r.rawBytes),
          onResult: (r) => {
            progress.clear();
            ctx.stdout.write(opts.json ? `${JSON.stringify(resultJson(r))}\n` : resultText(r));
            if (!r.ok) {
              if (r.bug !== undefined) ctx.stderr.write(`dataman: internal error while processing ${r.raw}: ${r.bug}\n`);
              failWith(ctx, r.bug !== undefined ? ExitCode.internal : ExitCode.failed);
            }
            progress.draw();
          },
        });
      } finally {
        progress.end();
      }
    });
};

function resultText(r: FileResult): string {
  if (!r.ok) return `FAIL ${r.raw}: ${r.message}\n`;
  const ran = r.outcomes.filter((o) => o.status === 'applied').map((o) => o.step);
  return `OK ${r.raw} -> ${r.output} (${r.bytes} bytes; ${ran.join(', ')})\n`
    + outcomeMessages(r.outcomes).map((m) => `  warning: ${m}\n`).join('');
}

/** The `--json` object of one file (one line each, in the order the files were given). */
export function resultJson(r: FileResult): Record<string, unknown> {
  const timeMs = Math.round(r.timeMs * 10) / 10;
  if (!r.ok) return { path: r.raw, output: r.output, ok: false, error: { code: r.code, message: r.message }, timeMs };
  const with_ = (status: string) => r.outcomes.filter((o) => o.status === status);
  return {
    path: r.raw,
    output: r.output,
    ok: true,
    size: r.bytes,
    steps: {
      applied: with_('applied').map((o) => o.step),
      skipped: with_('skipped').map((o) => ({ step: o.step, reason: o.reason })),
      disabled: with_('disabled').map((o) => o.step),
    },
    warnings: r.outcomes.flatMap((o) => o.warnings.map((w) => `${o.step}: ${w}`)),
    timeMs,
  };
}

function parseSteps(list: string): Record<StepName, boolean> {
  const wanted = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = wanted.filter((s) => !(STEP_NAMES as readonly string[]).includes(s));
  if (unknown.length > 0) throw new UsageError(`unknown step ${unknown.join(', ')} (steps: ${STEP_NAMES.join(', ')})`);
  return Object.fromEntries(STEP_NAMES.map((s) => [s, wanted.includes(s)])) as Record<StepName, boolean>;
}

/** The folder outputs go to, or undefined when --out names a single output file. */
async function outputFolder(ctx: CliContext, out: string | undefined, inputs: number): Promise<string | undefined> {
  if (out === undefined) return ctx.cwd;
  const path = resolve(ctx.cwd, out);
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (info?.isDirectory()) return path;
  if (inputs > 1) throw new UsageError(`--out ${out} must be an existing folder when processing ${inputs} files`);
  return undefined;
}

