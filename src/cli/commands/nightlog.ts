/**
 * `dataman nightlog YYYYMMDD [--config FILE] [--from DIR] [--out DIR] [--instrument mods1b]`:
 * rebuilds the night logs of an observing date from the processed files, one log per instrument
 * found (or only `--instrument`), each replaced atomically.
 *
 * Processed files are the `*.fits` in `<procDir>/<YYYYMMDD>/` (procDir from the configuration),
 * or in `--from DIR` itself. Logs go to `--out DIR`, else to the configuration's night-log folder
 * (`<procDir>/nightlogs` until the configuration has its own option). Each file is assigned to
 * the instrument of its INSTRUME keyword, else of its name (`mods1b.…`). A file that cannot be
 * read is reported and left out; the logs are written anyway and the exit status is 1.
 */
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { descriptionOf } from './descriptions.js';
import type { RegisterCommand } from './register.js';
import { type CliContext, ExitCode, failWith } from '../context.js';
import { DatamanError, isFsError, UsageError } from '../../errors.js';
import { channelById, isCalendarDate } from '../../mods/channels.js';
import { type DatamanConfig, loadConfig } from '../../ops/config.js';
import { type NightLogEntry, readPrimaryHeader, writeNightLog } from '../../nightlog/index.js';

interface NightlogOpts {
  config?: string;
  from?: string;
  out?: string;
  instrument?: string;
}

/** The night-log folder of a configuration. */
export function configuredNightLogDir(config: DatamanConfig): string {
  return config.paths.nightLogDir;
}

export const registerNightlog: RegisterCommand = (program: Command, ctx: CliContext) => {
  program
    .command('nightlog')
    .description(descriptionOf('nightlog'))
    .argument('<date>', 'observing date YYYYMMDD')
    .option('-c, --config <file>', 'dataman YAML configuration (procDir and the night-log folder)')
    .option('--from <dir>', 'folder holding the processed files (default: <procDir>/<date>)')
    .option('-o, --out <dir>', 'folder of the night logs (default: the configured night-log folder)')
    .option('--instrument <id>', 'only this instrument (mods1b, mods1r, mods2b, mods2r)')
    .action(async (date: string, opts: NightlogOpts) => {
      if (!isCalendarDate(date)) throw new UsageError(`the observing date must be a YYYYMMDD calendar date, got ${JSON.stringify(date)}`);
      const only = opts.instrument === undefined ? undefined : channelById(opts.instrument)?.instrument;
      if (opts.instrument !== undefined && only === undefined) {
        throw new UsageError(`unknown instrument ${JSON.stringify(opts.instrument)}`, { hint: 'one of mods1b, mods1r, mods2b, mods2r' });
      }
      const config = opts.config === undefined ? undefined : await loadConfig(resolve(ctx.cwd, opts.config));
      if (opts.from === undefined && config === undefined) {
        throw new UsageError('say where the processed files are: --config FILE (uses <procDir>/<date>) or --from DIR');
      }
      if (opts.out === undefined && config === undefined) {
        throw new UsageError('say where the night logs go: --out DIR, or --config FILE for the configured folder');
      }
      const from = opts.from !== undefined ? resolve(ctx.cwd, opts.from) : join(config!.paths.procDir, date);
      const out = opts.out !== undefined ? resolve(ctx.cwd, opts.out) : configuredNightLogDir(config!);

      const groups = new Map<string, NightLogEntry[]>();
      for (const file of await processedFiles(from)) {
        try {
          const header = await readPrimaryHeader(file);
          const instrument = instrumentOf(header.string('INSTRUME'), file);
          if (instrument === undefined) {
            throw new DatamanError('nightlog-no-instrument', `${file}: neither INSTRUME nor the file name names a MODS channel`);
          }
          if (only !== undefined && instrument !== only) continue;
          const list = groups.get(instrument) ?? [];
          list.push({ file, header });
          groups.set(instrument, list);
        } catch (err) {
          if (!(err instanceof DatamanError) && !isFsError(err)) throw err;
          ctx.stdout.write(`FAIL ${(err as Error).message}\n`);
          failWith(ctx, ExitCode.failed);
        }
      }
      if (groups.size === 0) {
        ctx.stdout.write(`FAIL no processed ${only ?? 'MODS'} files for ${date} in ${from}\n`);
        failWith(ctx, ExitCode.failed);
        return;
      }
      for (const [instrument, entries] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const path = await writeNightLog(out, instrument, date, entries);
        ctx.stdout.write(`OK ${path}: ${entries.length} file${entries.length === 1 ? '' : 's'}\n`);
      }
    });
};

/** The `*.fits` files of a folder, without the dot-prefixed temporary files of a delivery. */
async function processedFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isFsError(err) && err.code === 'ENOENT') throw new UsageError(`no folder ${dir}`, { hint: 'check the date, --from or procDir' });
    throw err;
  }
  return names.filter((n) => n.endsWith('.fits') && !n.startsWith('.')).sort().map((n) => join(dir, n));
}

/** `MODS1B`… from INSTRUME, else from a file name starting with the channel (`mods1b.…`). */
function instrumentOf(instrume: string | undefined, file: string): string | undefined {
  const fromKeyword = instrume === undefined ? undefined : channelById(instrume.trim());
  if (fromKeyword !== undefined) return fromKeyword.instrument;
  const m = /(?:^|[/\\])(mods[12][br])\.[^/\\]*$/i.exec(file);
  return m === null ? undefined : channelById(m[1]!)?.instrument;
}
