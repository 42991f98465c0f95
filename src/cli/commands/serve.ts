/**
 * `dataman serve [--config FILE] [--create-dirs]`: the long-running service (systemd unit
 * `dataMan`). Stops gracefully on SIGTERM, SIGINT or a `quit` datagram.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { descriptionOf } from './descriptions.js';
import type { RegisterCommand } from './register.js';
import type { CliContext } from '../context.js';
import { loadConfig } from '../../ops/config.js';
import { DatamanService } from '../../service/service.js';

/** Where the reference dataMan looks for its configuration (a symlink to the per-MODS file). */
export const DEFAULT_CONFIG = '/home/dts/Config/dataman.ini';

/** The configuration file a command uses: --config, else $DATAMAN_CONFIG, else the reference's. */
export function configPath(ctx: CliContext, option: string | undefined): string {
  return resolve(ctx.cwd, option ?? process.env.DATAMAN_CONFIG ?? DEFAULT_CONFIG);
}

export const registerServe: RegisterCommand = (program: Command, ctx: CliContext) => {
  program
    .command('serve')
    .description(descriptionOf('serve'))
    .option('-c, --config <file>', `YAML configuration (default: $DATAMAN_CONFIG or ${DEFAULT_CONFIG})`)
    .option('--create-dirs', 'create missing local folders (procDir, repoDir, logDir, stateDir, channel folders): for the local demo')
    .action(async (opts: { config?: string; createDirs?: boolean }) => {
      const config = await loadConfig(configPath(ctx, opts.config));
      // The handlers come first: a SIGTERM while the service starts (systemd stopping a unit
      // it has just started) is a stop once it has started, not the default death by signal.
      let service: DatamanService | undefined;
      let early: NodeJS.Signals | undefined;
      const onSignal = (signal: NodeJS.Signals) => {
        if (service === undefined) early ??= signal;
        else void service.stop(signal);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        const started = await DatamanService.start({ config, createDirs: opts.createDirs === true });
        service = started;
        const stopped = new Promise<void>((done) => started.once('service:stopped', () => done()));
        if (early !== undefined) void started.stop(early);
        await stopped;
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    });
};
