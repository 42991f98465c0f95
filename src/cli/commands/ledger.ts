/**
 * `dataman ledger backup FILE` and `dataman ledger archive --before DATE OUT.sqlite`: keeping a
 * ledger of years (docs/behaviour.md §5.4), both safe while the service runs.
 *
 * Exit status: 0; 1 when `archive` left jobs before DATE in the ledger because they are not
 * finished (they are named); 2 for a wrong command line or configuration, or a refused DATE.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { descriptionOf } from './descriptions.js';
import type { RegisterCommand } from './register.js';
import { type CliContext, ExitCode, failWith } from '../context.js';
import { UsageError } from '../../errors.js';
import { LEDGER_FILE, operatorConfig } from '../operator.js';
import { archiveDateProblem, archiveLedger, backupLedger, MIN_ARCHIVE_AGE_DAYS } from '../../service/ledger/ledger-maintenance.js';

/** `YYYY-MM-DD` or `YYYYMMDD` → 00:00 UTC of that day, ms. */
export function parseArchiveDate(text: string): number {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(text.trim());
  const ms = m === null ? NaN : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (m === null || new Date(ms).getUTCDate() !== Number(m[3])) throw new UsageError(`--before ${JSON.stringify(text)} is not a date (YYYY-MM-DD)`);
  return ms;
}

export const registerLedger: RegisterCommand = (program: Command, ctx: CliContext) => {
  const ledger = program.command('ledger').description(descriptionOf('ledger'));
  ledger
    .command('backup')
    .description('copy the ledger to FILE while the service runs (SQLite online backup: one consistent moment)')
    .argument('<file>', 'the copy to write (must not exist)')
    .option('-c, --config <file>', 'YAML configuration (its paths.stateDir holds the ledger)')
    .action(async (arg: string, opts: { config?: string }) => {
      const file = resolve(ctx.cwd, arg);
      if (existsSync(file)) throw new UsageError(`${file} exists; a backup never overwrites a file`, { hint: 'name a new file' });
      const config = await operatorConfig(ctx, opts.config);
      const done = await backupLedger(join(config.paths.stateDir, LEDGER_FILE), file);
      ctx.stdout.write(`backed up ${done.jobs} jobs (${(done.bytes / 1e6).toFixed(1)} MB) to ${done.file}\n`);
    });
  ledger
    .command('archive')
    .description('move the finished jobs last changed before DATE into the archive OUT (created, or appended to)')
    .argument('<out>', 'the archive file (a ledger file of the same schema)')
    .requiredOption('--before <date>', 'YYYY-MM-DD (UTC): jobs last changed before this day are moved')
    .option('-c, --config <file>', 'YAML configuration (its paths.stateDir holds the ledger; watch.catchUpHours)')
    .addHelpText('after', `
DATE must be at least ${MIN_ARCHIVE_AGE_DAYS} days ago and before the catch-up window (watch.catchUpHours):
the service needs those jobs to know that a file in the raw folder was delivered already.
Jobs not finished (seen, waiting, queued, processing) are never moved: they are named, exit 1.
Each batch is copied into OUT and checked before it is deleted from the ledger; after a crash,
run the same command again to finish.
`)
    .action(async (out: string, opts: { config?: string; before: string }) => {
      const beforeMs = parseArchiveDate(opts.before);
      const config = await operatorConfig(ctx, opts.config);
      const o = { beforeMs, nowMs: Date.now(), catchUpHours: config.watch.catchUpHours };
      const problem = archiveDateProblem(o);
      if (problem !== null) throw new UsageError(`--before ${problem}`);
      const r = archiveLedger(join(config.paths.stateDir, LEDGER_FILE), resolve(ctx.cwd, out), o);
      ctx.stdout.write(`moved ${r.moved} finished job${r.moved === 1 ? '' : 's'} last changed before ${opts.before} to ${r.archive}\n`);
      if (r.changed > 0) ctx.stdout.write(`${r.changed} job(s) changed while being moved: left in the ledger\n`);
      if (r.unfinished.length > 0) {
        ctx.stderr.write(`left ${r.unfinished.length} unfinished job(s) before ${opts.before} in the ledger:\n`);
        for (const j of r.unfinished.slice(0, 50)) ctx.stderr.write(`  ${j.id}  ${j.name}  ${j.state}\n`);
        failWith(ctx, ExitCode.failed);
      }
    });
};
