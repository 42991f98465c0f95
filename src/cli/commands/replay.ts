/**
 * `dataman replay --night YYYYMMDD [--channel mods1b] [--concurrency N] [--force] [--config FILE]`:
 * processes every raw file of an observing date again, here and in place, as `requeue --now`
 * does: raw files `<chan>.<YYYYMMDD>.<NNNN>.fits` in `<dataDir>/<chan>/` of the configured
 * channels (or the one given). A progress bar on a terminal, else one line per file; then
 * `replayed N files: D delivered, F failed`.
 *
 * Refused while the service runs (unless `--force`): two processes delivering the same night
 * would race on `<CHAN>.new`.
 *
 * Exit status: 0 all delivered; 1 if any failed (or none found); 2 for a wrong command line or
 * configuration, or a running service without `--force`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { descriptionOf } from './descriptions.js';
import type { RegisterCommand } from './register.js';
import { type CliContext, ExitCode, failWith } from '../context.js';
import { isFsError, UsageError } from '../../errors.js';
import { channelById, isCalendarDate } from '../../mods/channels.js';
import type { DatamanConfig } from '../../ops/config.js';
import { nameParts } from '../../service/jobs/job.js';
import {
  inLanes, InPlaceRunner, type InPlaceOutcome, operatorConfig, positiveInteger, SERVICE_RUNNING_HELP, serviceRunning, udpAddress, withInterrupts,
} from '../operator.js';

interface ReplayOpts {
  night: string;
  channel?: string;
  config?: string;
  concurrency?: string;
  force?: boolean;
}

export const registerReplay: RegisterCommand = (program: Command, ctx: CliContext) => {
  program
    .command('replay')
    .description(descriptionOf('replay'))
    .requiredOption('--night <date>', 'observing date YYYYMMDD (from the raw names)')
    .option('--channel <id>', 'only this channel (mods1b, mods1r, mods2b, mods2r; default: the configured channels)')
    .option('-c, --config <file>', 'YAML configuration (default: $DATAMAN_CONFIG or the reference path)')
    .option('-j, --concurrency <n>', 'files processed at the same time (default: queue.concurrency)')
    .option('--force', 'run even though the service is running (they then race on <CHAN>.new)')
    .addHelpText('after', `
This is an explicit reprocessing: files already delivered are delivered again, under unique names
(existing files are never replaced), each as a new drop job in the ledger. Raw files are only read.
Refused while the service runs, unless --force.
${SERVICE_RUNNING_HELP}
Exit status: 0 all delivered; 1 if any failed or none were found; 2 for a wrong command line or
configuration, or a running service.
`)
    .action(async (opts: ReplayOpts) => {
      if (!isCalendarDate(opts.night)) throw new UsageError(`--night must be a YYYYMMDD calendar date, got ${JSON.stringify(opts.night)}`);
      const channel = opts.channel === undefined ? undefined : channelById(opts.channel)?.id;
      if (opts.channel !== undefined && channel === undefined) {
        throw new UsageError(`unknown channel ${JSON.stringify(opts.channel)}`, { hint: 'one of mods1b, mods1r, mods2b, mods2r' });
      }
      const config = await operatorConfig(ctx, opts.config);
      const concurrency = positiveInteger('--concurrency', opts.concurrency, config.queue.concurrency);
      if (!opts.force && (await serviceRunning(config))) {
        throw new UsageError(`the service is running (UDP ${udpAddress(config)} in use): a replay beside it would race on <CHAN>.new`, {
          hint: 'stop the service first, or use --force; for a few files, `dataman requeue` goes through the service',
        });
      }
      const files = await nightFiles(ctx, config, opts.night, channel);
      if (files.length === 0) {
        const where = (channel ? [channel] : config.channels).map((c) => join(config.paths.dataDir, c)).join(', ');
        ctx.stdout.write(`FAIL no raw files of ${opts.night} in ${where}\n`);
        failWith(ctx, ExitCode.failed);
        return;
      }
      const progress = new Progress(ctx, files.length);
      const runner = InPlaceRunner.open(config, {
        concurrency: Math.min(concurrency, files.length),
        stderr: ctx.stderr,
        onRetry: (name, message, attempt, delayMs) =>
          progress.line(`RETRY ${name}: ${message} (attempt ${attempt}, again in ${(delayMs / 1000).toFixed(1)} s)`, ctx.stderr),
      });
      let delivered = 0;
      let failed = 0;
      let started = 0;
      try {
        started = await withInterrupts(runner, (signal) => progress.line(`${signal}: finishing the files in progress, starting no more`, ctx.stderr), () =>
          inLanes(files, concurrency, () => runner.stopped, async (path) => {
            const outcome: InPlaceOutcome = await runner.run(path);
            if (outcome.kind === 'delivered') delivered++;
            else failed++;
            progress.done(outcome);
          }));
      } finally {
        progress.end();
        await runner.close();
      }
      const notStarted = files.length - started;
      ctx.stdout.write(`replayed ${started} file${started === 1 ? '' : 's'}: ${delivered} delivered, ${failed} failed${notStarted > 0 ? ` (interrupted: ${notStarted} not started)` : ''}\n`);
      if (failed > 0 || notStarted > 0) failWith(ctx, ExitCode.failed);
    });
};

/** The raw files of one observing date, by channel then name. */
async function nightFiles(ctx: CliContext, config: DatamanConfig, night: string, only: string | undefined): Promise<string[]> {
  const pattern = new RegExp(config.watch.namePattern);
  const files: string[] = [];
  for (const chan of only !== undefined ? [only] : config.channels) {
    const dir = join(config.paths.dataDir, chan);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (!isFsError(err) || (err.code !== 'ENOENT' && err.code !== 'ENOTDIR')) throw err;
      if (only !== undefined) throw new UsageError(`no raw folder ${dir}`, { hint: 'check --channel and paths.dataDir' });
      ctx.stderr.write(`note: no raw folder ${dir}\n`);
      continue;
    }
    for (const name of names.sort()) {
      if (!pattern.test(name)) continue;
      const parts = nameParts(name, pattern);
      if (parts.obsDate === night && parts.channel === chan) files.push(join(dir, name));
    }
  }
  return files;
}

/**
 * A progress bar on a terminal (redrawn in place, FAIL lines printed above it); elsewhere one
 * line per file. The terminal is only asked about when the output is this process's own.
 */
class Progress {
  private readonly tty: boolean;
  private finished = 0;
  private shown = false;

  constructor(private readonly ctx: CliContext, private readonly total: number) {
    this.tty = ctx.stdout === process.stdout && process.stdout.isTTY === true;
    this.draw('');
  }

  done(outcome: InPlaceOutcome): void {
    this.finished++;
    if (outcome.kind === 'delivered') {
      if (!this.tty) this.ctx.stdout.write(`OK ${outcome.name} -> ${outcome.deliveredName}\n`);
    } else {
      if (this.tty && this.shown) this.ctx.stdout.write('\r\x1b[K');
      this.ctx.stdout.write(`FAIL ${outcome.name}: ${outcome.message}\n`);
    }
    this.draw(outcome.name);
  }

  /** A line that stays (above the bar on a terminal). */
  line(text: string, stream: { write(text: string): unknown }): void {
    if (this.tty && this.shown) this.ctx.stdout.write('\r\x1b[K');
    stream.write(`${text}\n`);
    if (this.tty && this.shown) this.draw();
  }

  end(): void {
    if (this.tty && this.shown) this.ctx.stdout.write('\n');
  }

  private last = '';

  private draw(name = this.last): void {
    if (!this.tty) return;
    this.last = name;
    const columns = process.stdout.columns || 80; // 0 on a pseudo-terminal without a size
    const width = Math.max(10, Math.min(40, columns - 40));
    const full = Math.round((this.finished / this.total) * width);
    const bar = `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${this.finished}/${this.total}`;
    const text = `${bar} ${name}`.slice(0, Math.max(10, columns - 1));
    this.ctx.stdout.write(`\r\x1b[K${text}`);
    this.shown = true;
  }
}
