import { DatamanError } from '../errors.js';

/** A configuration file that cannot be used: the message names the file, the key and the problem. */
export class ConfigError extends DatamanError {
  override readonly exitCode: number = 2;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('config', message, options);
  }
}
