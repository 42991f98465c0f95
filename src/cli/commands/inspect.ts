/**
 * `dataman inspect FILE [--json]`: the HDU list and every header card, like astropy's fitsinfo
 * and fitsheader. Reads headers only.
 */
import type { Command } from 'commander';
import { descriptionOf } from './descriptions.js';
import type { RegisterCommand } from './register.js';
import { type CliContext, ExitCode, failWith } from '../context.js';
import { formatInspectText, inspectFile } from '../../fits/inspect-report.js';

export { cardJson, cardValueJson, formatInspectText, hduJson, inspectFile, type CardJson, type HduJson, type InspectJson } from '../../fits/inspect-report.js';

export const registerInspect: RegisterCommand = (program: Command, ctx: CliContext) => {
  program
    .command('inspect')
    .description(descriptionOf('inspect'))
    .argument('<file>', 'FITS file')
    .option('--json', 'print JSON: {file, hdus: [{index, extname, type, cards: [{keyword, value, comment}], dataOffset, dataBytes}]}')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { report, hdus } = await inspectFile(file);
      ctx.stdout.write(opts.json ? `${JSON.stringify(report, null, 1)}\n` : formatInspectText(report, hdus));
      if (!report.complete) failWith(ctx, ExitCode.failed);
    });
};
