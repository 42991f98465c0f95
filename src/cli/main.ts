import { Command, CommanderError } from 'commander';
import { DatamanError, isFsError } from '../errors.js';
import { type CliContext, ExitCode, failWith, processContext } from './context.js';
import { commands } from './commands/index.js';
import { VERSION } from '../version.js';

/** Builds the `dataman` program; every command registers itself from `commands/`. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('dataman')
    .description('MODS data manager: find, fix, merge and deliver raw MODS FITS files')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .showHelpAfterError();
  for (const register of commands) register(program, ctx);
  return program;
}

/**
 * Runs the CLI and resolves to the exit status. User-fixable errors (`DatamanError`) print
 * their message and hint; anything else is a bug and keeps its stack.
 */
export async function main(argv: string[], ctx: CliContext = processContext()): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      failWith(ctx, err.exitCode === 0 ? 0 : ExitCode.usage);
    } else if (err instanceof DatamanError) {
      ctx.stderr.write(`dataman: ${err.message}\n`);
      if (err.hint) ctx.stderr.write(`hint: ${err.hint}\n`);
      failWith(ctx, err.exitCode);
    } else if (isFsError(err)) {
      // A missing or unreadable file named on the command line is the user's to fix.
      ctx.stderr.write(`dataman: ${err.message}\n`);
      failWith(ctx, ExitCode.failed);
    } else {
      ctx.stderr.write(`dataman: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
      failWith(ctx, ExitCode.internal);
    }
  }
  return ctx.exitCode;
}
