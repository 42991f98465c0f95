/**
 * `dataman requeue FILE… | --failed [--now] [--config FILE]`: process raw files again.
 *
 * While the service runs (and without `--now`) each file is copied into the drop folder, which
 * the service reprocesses (drop files bypass the "already delivered" check and are delivered
 * under a unique name if the name exists). Otherwise — service down, or `--now` — each file is
 * processed here, in place, as a new drop job in the ledger: `OK name -> delivered name` or
 * `FAIL name: reason`. The raw file is only read, never moved or modified.
 *
 * Exit status: 0 when every file was queued or delivered; 1 if any failed; 2 for a wrong command
 * line or configuration (including: service running, no drop folder configured, no `--now`).
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { descriptionOf } from './descriptions.js';
import type { RegisterCommand } from './register.js';
import { type CliContext, ExitCode, failWith } from '../context.js';
import { DatamanError, isFsError, UsageError } from '../../errors.js';
import type { DatamanConfig } from '../../ops/config.js';
import {
  copyIntoDropFolder, InPlaceRunner, openOperatorLedger, operatorConfig, outstandingFailures, resolveRawFile,
  SERVICE_RUNNING_HELP, serviceRunning, sourceOfFailure, udpAddress, withInterrupts, inLanes,
} from '../operator.js';

interface RequeueOpts {
  config?: string;
  failed?: boolean;
  now?: boolean;
}

/** A file to process again, or why it cannot be. */
type Target = { label: string; path: string } | { label: string; error: string };

export const registerRequeue: RegisterCommand = (program: Command, ctx: CliContext) => {
  program
    .command('requeue')
    .description(descriptionOf('requeue'))
    .argument('[file...]', 'raw files: paths, or base names looked up under <dataDir>/<chan>/')
    .option('-c, --config <file>', 'YAML configuration (default: $DATAMAN_CONFIG or the reference path)')
    .option('--failed', 'every file whose last job failed (as `dataman status --failed` lists them)')
    .option('--now', 'process here and now, even while the service runs')
    .addHelpText('after', `
${SERVICE_RUNNING_HELP}
While it runs, files are copied into paths.dropDir for it to reprocess (a delivered file is
delivered again under a unique name). Otherwise, or with --now, they are processed here as new
drop jobs in the ledger. For a failed drop job, the raw file <dataDir>/<chan>/<name> is used if it
exists (where a fix usually lands), else its copy in <dropDir>/failed/. Raw files are only read.
Exit status: 0 all queued or delivered; 1 if any failed; 2 for a wrong command line or configuration.
`)
    .action(async (files: string[], opts: RequeueOpts) => {
      if (files.length === 0 && !opts.failed) throw new UsageError('name the files to requeue, or --failed for every failed one');
      const config = await operatorConfig(ctx, opts.config);
      const running = await serviceRunning(config);
      const inPlace = opts.now === true || !running;
      if (!inPlace && config.paths.dropDir === undefined) {
        throw new UsageError(`the service is running (UDP ${udpAddress(config)} in use) and ${config.file ?? 'the configuration'} has no drop folder`, {
          hint: 'use --now to process the files here, or configure paths.dropDir',
        });
      }
      const targets = await collectTargets(ctx, config, files, opts.failed === true);
      if (targets.length === 0) {
        ctx.stdout.write('nothing to requeue: no failures\n');
        return;
      }
      if (!inPlace) {
        ctx.stderr.write(`service running (UDP ${udpAddress(config)} in use): copying into ${config.paths.dropDir}\n`);
        const pattern = new RegExp(config.watch.namePattern);
        for (const t of targets) {
          if ('error' in t) {
            report(ctx, `FAIL ${t.label}: ${t.error}`);
            continue;
          }
          if (!pattern.test(basename(t.path))) {
            // The drop watcher only takes raw names: such a copy would wait there forever.
            report(ctx, `FAIL ${t.label}: ${basename(t.path)} is not a raw file name (${config.watch.namePattern}); the drop folder would ignore it, use --now`);
            continue;
          }
          try {
            const { path, alreadyThere } = await copyIntoDropFolder(t.path, config.paths.dropDir!);
            ctx.stdout.write(alreadyThere ? `QUEUED ${t.label}: already waiting as ${path}\n` : `QUEUED ${t.label} -> ${path}\n`);
          } catch (err) {
            if (!(err instanceof DatamanError) && !isFsError(err)) throw err;
            report(ctx, `FAIL ${t.label}: ${(err as Error).message}`);
          }
        }
        return;
      }
      ctx.stderr.write(running
        ? `the service is running (UDP ${udpAddress(config)} in use); processing here anyway (--now)\n`
        : `service not running (UDP ${udpAddress(config)} free): processing here\n`);
      for (const t of targets) if ('error' in t) report(ctx, `FAIL ${t.label}: ${t.error}`);
      const paths = targets.filter((t): t is { label: string; path: string } => 'path' in t);
      if (paths.length === 0) return;
      const runner = InPlaceRunner.open(config, {
        concurrency: Math.min(config.queue.concurrency, Math.max(1, paths.length)),
        stderr: ctx.stderr,
        onRetry: (name, message, attempt, delayMs) =>
          ctx.stderr.write(`RETRY ${name}: ${message} (attempt ${attempt}, again in ${(delayMs / 1000).toFixed(1)} s)\n`),
      });
      try {
        await withInterrupts(runner, (signal) => ctx.stderr.write(`${signal}: finishing the files in progress, starting no more\n`), async () => {
          const started = await inLanes(paths, config.queue.concurrency, () => runner.stopped, async (t) => {
            const outcome = await runner.run(t.path);
            if (outcome.kind === 'delivered') {
              ctx.stdout.write(`OK ${t.label} -> ${outcome.deliveredName}\n`);
              for (const w of outcome.warnings) ctx.stdout.write(`  warning: ${w}\n`);
            } else {
              report(ctx, `FAIL ${t.label}: ${outcome.message}`);
            }
          });
          if (started < paths.length) report(ctx, `interrupted: ${paths.length - started} file(s) not started`);
        });
      } finally {
        await runner.close();
      }
    });
};

function report(ctx: CliContext, line: string): void {
  ctx.stdout.write(`${line}\n`);
  failWith(ctx, ExitCode.failed);
}

/** The named files and, with --failed, the file of every standing failure; each path once. */
async function collectTargets(ctx: CliContext, config: DatamanConfig, files: string[], failed: boolean): Promise<Target[]> {
  const targets: Target[] = [];
  for (const arg of files) {
    try {
      targets.push({ label: arg, path: await resolveRawFile(config, arg, ctx.cwd) });
    } catch (err) {
      if (!(err instanceof DatamanError)) throw err;
      targets.push({ label: arg, error: err.message });
    }
  }
  if (failed) {
    const ledger = openOperatorLedger(config, { mustExist: true });
    try {
      for (const row of outstandingFailures(ledger).outstanding.reverse()) {
        try {
          targets.push({ label: row.name, path: await sourceOfFailure(config, row) });
        } catch (err) {
          if (!(err instanceof DatamanError)) throw err;
          targets.push({ label: row.name, error: err.message });
        }
      }
    } finally {
      ledger.close();
    }
  }
  const seen = new Set<string>();
  return targets.filter((t) => !('path' in t) || (!seen.has(t.path) && seen.add(t.path)));
}
