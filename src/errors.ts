/**
 * The one base class of every expected failure. `code` is stable and machine-readable: the
 * ledger stores it, logs and the status page show it. `message` is for people and names the
 * file and the cause; `hint` says what to do about it.
 */
export class DatamanError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  /** Exit status of the CLI when this error ends a command. */
  readonly exitCode: number = 1;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** A wrong command line or configuration: the user can fix it. */
export class UsageError extends DatamanError {
  override readonly exitCode: number = 2;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('usage', message, options);
  }
}

/** A Node.js file-system error (ENOENT, EACCES…): its message names the path and the cause. */
export function isFsError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && 'syscall' in err;
}
