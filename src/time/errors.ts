/**
 * Errors of the time library. Every one is a `DatamanError`, so the CLI prints its message and
 * the ledger stores its `code`.
 */
import { DatamanError } from '../errors.js';

/**
 * A text that should hold a date, a time of day or an angle does not.
 *
 * `code` is `'time-parse'`; `text` is what was given and `expected` says what form was wanted,
 * e.g. `TELDEC "+31:3O:00" is not a declination: expected ±dd:mm:ss.ss or decimal degrees`.
 */
export class TimeParseError extends DatamanError {
  /** The text that was rejected, exactly as given. */
  readonly text: string;
  /** The form that was expected, for people. */
  readonly expected: string;

  constructor(what: string, text: string, expected: string, options: { hint?: string } = {}) {
    super('time-parse', `${what} ${JSON.stringify(text)} is not valid: expected ${expected}`, options);
    this.text = text;
    this.expected = expected;
  }
}

/**
 * A date outside what the library's data cover (before the leap-second table starts, or a
 * value that is not finite). `code` is `'time-range'`.
 */
export class TimeRangeError extends DatamanError {
  constructor(message: string, options: { hint?: string } = {}) {
    super('time-range', message, options);
  }
}

/**
 * A coefficient or leap-second table handed to the library is malformed (wrong structure,
 * inconsistent entries). `code` is `'time-data'`; `source` names the table.
 */
export class TimeDataError extends DatamanError {
  readonly source: string;

  constructor(source: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('time-data', `${source}: ${message}`, options);
    this.source = source;
  }
}
