import { DatamanError } from '../errors.js';

/** Where in a file a problem was found; every field is optional because not all are known. */
export interface FitsLocation {
  path?: string | undefined;
  hduIndex?: number | undefined;
  /** Byte offset from the start of the file. */
  offset?: number | undefined;
  keyword?: string | undefined;
}

function where(loc: FitsLocation): string {
  const parts: string[] = [];
  if (loc.path !== undefined) parts.push(loc.path);
  if (loc.hduIndex !== undefined) parts.push(`HDU ${loc.hduIndex}`);
  if (loc.offset !== undefined) parts.push(`byte ${loc.offset}`);
  if (loc.keyword !== undefined) parts.push(`keyword ${loc.keyword}`);
  return parts.length > 0 ? `${parts.join(', ')}: ` : '';
}

/** Base of every codec failure: the message starts with the file, the HDU and the byte offset. */
export class FitsError extends DatamanError {
  readonly location: FitsLocation;
  readonly detail: string;

  constructor(code: string, detail: string, loc: FitsLocation = {}, options: { hint?: string; cause?: unknown } = {}) {
    super(code, `${where(loc)}${detail}`, options);
    this.location = { ...loc };
    this.detail = detail;
  }

  /** The same error with the file path (or other context) filled in by a caller who knows it. */
  withLocation(extra: FitsLocation): FitsError {
    const loc = { ...extra, ...stripUndefined(this.location) };
    const copy = new (this.constructor as new (d: string, l: FitsLocation, o: object) => FitsError)(
      this.detail, loc, { hint: this.hint, cause: this.cause },
    );
    return copy;
  }
}

function stripUndefined(loc: FitsLocation): FitsLocation {
  return Object.fromEntries(Object.entries(loc).filter(([, v]) => v !== undefined));
}

/** The bytes do not start with a FITS primary header (`SIMPLE = T`). */
export class NotFitsError extends FitsError {
  constructor(detail: string, loc: FitsLocation = {}, options: { hint?: string; cause?: unknown } = {}) {
    super('fits-not-fits', detail, loc, options);
  }
}

/** The file ends before its headers say it should (possibly still being written). */
export class TruncatedFitsError extends FitsError {
  constructor(detail: string, loc: FitsLocation = {}, options: { hint?: string; cause?: unknown } = {}) {
    super('fits-truncated', detail, loc, options);
  }
}

/** A header card that is not a valid 80-character FITS card. */
export class BadCardError extends FitsError {
  constructor(detail: string, loc: FitsLocation = {}, options: { hint?: string; cause?: unknown } = {}) {
    super('fits-bad-card', detail, loc, options);
  }
}

/** A structural keyword (BITPIX, NAXISn, PCOUNT, GCOUNT, XTENSION, TFORMn…) is missing or wrong. */
export class BadHeaderError extends FitsError {
  constructor(detail: string, loc: FitsLocation = {}, options: { hint?: string; cause?: unknown } = {}) {
    super('fits-bad-header', detail, loc, options);
  }
}

/** A value cannot be written as a FITS card (NaN, a non-ASCII string, a bad keyword…). */
export class CardFormatError extends FitsError {
  constructor(detail: string, loc: FitsLocation = {}, options: { hint?: string; cause?: unknown } = {}) {
    super('fits-card-format', detail, loc, options);
  }
}

/** CHECKSUM or DATASUM does not match the bytes. */
export class ChecksumError extends FitsError {
  constructor(detail: string, loc: FitsLocation = {}, options: { hint?: string; cause?: unknown } = {}) {
    super('fits-checksum', detail, loc, options);
  }
}
