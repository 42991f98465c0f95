/**
 * `dataman process RAW… [--out FILE|DIR] [--config FILE] [--steps a,b] [--force]`: the offline
 * replacement of the reference `fixHead.py`. The same code path as the service: the raw file is
 * only read, the output is written with CHECKSUM/DATASUM and never overwrites anything unless
 * `--force` (then atomically, through a temporary file and a rename).
 */
import { rename, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { RegisterCommand } from './register.js';
import { type CliContext, ExitCode, failWith } from '../context.js';
import { DatamanError, isFsError, UsageError } from '../../errors.js';
import { loadConfig } from '../../ops/config.js';
import { processingOptions } from '../../steps/defaults.js';
import { outcomeMessages, processFile } from '../../steps/pipeline.js';
import { STEP_NAMES, type StepName } from '../../steps/types.js';

interface ProcessOpts {
  out?: string;
  config?: string;
  steps?: string;
  force?: boolean;
  checksums: boolean;
}

export const registerProcess: RegisterCommand = (program: Command, ctx: CliContext) => {
  program
    .command('process')
    .description('process raw MODS files offline: header fixes, time keywords, temperatures, MERGED preview')
    .argument('<raw...>', 'raw MODS FITS files (only read, never modified)')
    .option('-o, --out <path>', 'output file (one input) or existing folder (default: the current folder)')
    .option('-c, --config <file>', 'dataman YAML configuration (processing switches, site, sensors)')
    .option('--steps <list>', `only these steps, comma-separated: ${STEP_NAMES.join(',')}`)
    .option('--force', 'replace an existing output file (atomically)')
    .option('--no-checksums', 'do not write CHECKSUM/DATASUM')
    .action(async (raws: string[], opts: ProcessOpts) => {
      const config = opts.config === undefined ? undefined : await loadConfig(resolve(ctx.cwd, opts.config));
      const options = processingOptions(config);
      if (opts.steps !== undefined) options.steps = parseSteps(opts.steps);
      const outDir = await outputFolder(ctx, opts.out, raws.length);
      for (const raw of raws) {
        const rawPath = resolve(ctx.cwd, raw);
        const target = outDir !== undefined ? join(outDir, basename(rawPath)) : resolve(ctx.cwd, opts.out!);
        try {
          if (target === rawPath) throw new UsageError(`${raw}: the output would replace the raw file; choose another --out`);
          const written = opts.force ? `${target}.dataman-tmp-${process.pid}` : target;
          if (opts.force) await rm(written, { force: true });
          let result;
          try {
            result = await processFile(rawPath, written, { ...options, checksums: opts.checksums, fsync: opts.force === true });
            if (opts.force) await rename(written, target);
          } catch (err) {
            if (opts.force) await rm(written, { force: true });
            throw err;
          }
          const ran = result.outcomes.filter((o) => o.status === 'applied').map((o) => o.step);
          ctx.stdout.write(`OK ${raw} -> ${target} (${result.bytes} bytes; ${ran.join(', ')})\n`);
          for (const message of outcomeMessages(result.outcomes)) ctx.stdout.write(`  warning: ${message}\n`);
        } catch (err) {
          if (isExists(err)) {
            ctx.stdout.write(`FAIL ${raw}: ${target} exists; use --force to replace it\n`);
          } else if (err instanceof DatamanError || isFsError(err)) {
            ctx.stdout.write(`FAIL ${raw}: ${(err as Error).message}\n`);
          } else {
            throw err;
          }
          failWith(ctx, ExitCode.failed);
        }
      }
    });
};

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

function isExists(err: unknown): boolean {
  return isFsError(err) && err.code === 'EEXIST';
}
