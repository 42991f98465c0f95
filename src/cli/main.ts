import { Command, CommanderError, Help } from 'commander';
import { DatamanError, isFsError } from '../errors.js';
import { type CliContext, ExitCode, failWith, processContext } from './context.js';
import { commandOf, commands } from './commands/index.js';
import { VERSION } from '../version.js';

/**
 * Builds the `dataman` program for a command line: only the command it runs is loaded (with
 * its options and everything it imports); the others are listed from `commands/index.ts`, so
 * that `--help` and `--version` load no command at all.
 */
export async function buildProgram(ctx: CliContext, argv: readonly string[]): Promise<Command> {
  const program = new Command('dataman')
    .description('MODS data manager: find, fix, merge and deliver raw MODS FITS files')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .showHelpAfterError();
  const wanted = commandOf(argv.slice(2));
  const standard = new Help();
  const terms = new Map(commands.map((c) => [c.name, c.term]));
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? standard.subcommandTerm(cmd) });
  for (const entry of commands) {
    if (entry.name === wanted) (await entry.load())(program, ctx);
    else program.command(entry.name).description(entry.description);
  }
  return program;
}

/**
 * Runs the CLI and resolves to the exit status. User-fixable errors (`DatamanError`) print
 * their message and hint; anything else is a bug and keeps its stack.
 */
export async function main(argv: string[], ctx: CliContext = processContext()): Promise<number> {
  try {
    const program = await buildProgram(ctx, argv);
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
