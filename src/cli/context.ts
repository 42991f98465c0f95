/**
 * What a CLI command may touch: its output streams, its input and its working folder.
 * Passed in so that tests run commands in-process and read what they printed.
 */
export interface CliContext {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  stdin: NodeJS.ReadableStream;
  cwd: string;
  /** Exit status the command asks for; the highest value set wins. */
  exitCode: number;
}

export function processContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    cwd: process.cwd(),
    exitCode: 0,
  };
}

/** Raise the exit status (never lower it: one failed file fails the whole run). */
export function failWith(ctx: CliContext, code: number): void {
  if (code > ctx.exitCode) ctx.exitCode = code;
}

/** Exit statuses shared by every command. */
export const ExitCode = {
  ok: 0,
  /** At least one input was unsound or failed; the others were handled. */
  failed: 1,
  /** The command line or the configuration is wrong. */
  usage: 2,
  /** A bug: an unexpected exception. */
  internal: 70,
} as const;
