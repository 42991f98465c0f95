/**
 * `dataman compare A B`: the reference's processed files (A) against dataman's (B), two files or
 * two folders of one night. One line per file, a summary for folders, --json one object per
 * file; exit status 0 only when nothing is unexpected and nothing is unpaired.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { descriptionOf } from './descriptions.js';
import type { RegisterCommand } from './register.js';
import { type CliContext, ExitCode, failWith } from '../context.js';
import { ProgressLine } from '../progress.js';
import { fileJson, fileLine, isClean, pairInputs, compareAll, summarise, summaryJson, summaryLine, type FileOutcome } from '../../compare/index.js';
import { DatamanError } from '../../errors.js';

export const registerCompare: RegisterCommand = (program: Command, ctx: CliContext) => {
  program
    .command('compare')
    .description(descriptionOf('compare'))
    .argument('<a>', "the reference's (Python dataMan's) processed file or night folder, e.g. /home/data/20260115")
    .argument('<b>', "dataman's processed file or night folder, e.g. the shadow's <procDir>/20260115")
    .option('--json', 'one JSON object per file, then one with the summary')
    .action(async (a: string, b: string, opts: { json?: boolean }) => {
      const pairing = await pairInputs(resolve(ctx.cwd, a), resolve(ctx.cwd, b));
      const progress = new ProgressLine(ctx.stderr, pairing.pairs.length, pairing.pairs.reduce((s, p) => s + p.bytes, 0));
      const outcomes: FileOutcome[] = [];
      await compareAll(pairing, (outcome, bytes) => {
        // Two files, one of them not FITS: the one-line error of any command.
        if (!pairing.folders && outcome.kind === 'error') throw new DatamanError('compare-not-fits', outcome.message);
        outcomes.push(outcome);
        progress.clear();
        ctx.stdout.write(`${opts.json ? fileJson(outcome) : fileLine(outcome)}\n`);
        if (outcome.kind === 'pair' || outcome.kind === 'error') progress.advance(bytes);
      });
      progress.end();
      const summary = summarise(outcomes);
      if (opts.json) ctx.stdout.write(`${summaryJson(summary)}\n`);
      else if (pairing.folders) ctx.stdout.write(`${summaryLine(summary)}\n`);
      if (!isClean(summary)) failWith(ctx, ExitCode.failed);
    });
};
