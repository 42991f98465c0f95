/**
 * `dataman verify FILE…`: is each file complete, and do its CHECKSUM/DATASUM match? One line
 * per file and one per problem; exit status 0 only when every file is sound.
 */
import type { Command } from 'commander';
import { descriptionOf } from './descriptions.js';
import type { RegisterCommand } from './register.js';
import { type CliContext, ExitCode, failWith } from '../context.js';
import { FitsError, verifyFile, withFileSource } from '../../fits/index.js';
import { DatamanError, isFsError } from '../../errors.js';

export const registerVerify: RegisterCommand = (program: Command, ctx: CliContext) => {
  program
    .command('verify')
    .description(descriptionOf('verify'))
    .argument('<files...>', 'FITS files')
    .action(async (files: string[]) => {
      for (const path of files) {
        try {
          const report = await withFileSource(path, verifyFile);
          const stamped = report.hdus.filter((h) => h.checksumOk !== undefined || h.datasumOk !== undefined).length;
          if (report.ok) {
            const sums = stamped > 0 ? `checksums OK in ${stamped} of ${report.hdus.length} HDUs` : 'no checksums';
            ctx.stdout.write(`OK ${path}: complete, ${report.fileLength} bytes, ${sums}\n`);
          } else {
            for (const p of report.problems) ctx.stdout.write(`FAIL ${p.message}\n`);
            failWith(ctx, ExitCode.failed);
          }
        } catch (err) {
          if (!(err instanceof DatamanError) && !isFsError(err)) throw err;
          const message = err instanceof FitsError || err instanceof DatamanError ? err.message : `${path}: ${(err as Error).message}`;
          ctx.stdout.write(`FAIL ${message}\n`);
          failWith(ctx, ExitCode.failed);
        }
      }
    });
};
