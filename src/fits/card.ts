/**
 * A FITS header card (FITS Standard 4.0 §4): keyword, typed value and comment.
 *
 * Keywords are kept exactly as they appear in the file (upper-case for standard cards); a
 * HIERARCH card's keyword is the text between `HIERARCH` and `=` (`AZCAM-HEAD`). A card read
 * from a file keeps its original 80-column image(s) in `image` until it is changed, so that an
 * untouched card is written back byte for byte.
 */
export type CardKind =
  /** T or F. */
  | 'logical'
  /** An integer; `bigint` only when it does not fit a double exactly. */
  | 'integer'
  /** A floating-point number (written with E or D exponents, or a decimal point). */
  | 'real'
  /** A character string (trailing spaces are not significant, §4.2.1). */
  | 'string'
  /** `(re, im)`, integer or real parts. */
  | 'complex'
  /** A value indicator with an empty value field: "undefined value" (§4.1.2.3). */
  | 'undefined'
  /** COMMENT, HISTORY, blank keyword, or any card without a value indicator: free text. */
  | 'commentary'
  /** A value field that is none of the above; kept verbatim so that it is written back unchanged. */
  | 'unparsed';

export interface Complex {
  re: number;
  im: number;
}

export type CardValue = boolean | number | bigint | string | Complex | null;

export interface Card {
  keyword: string;
  kind: CardKind;
  /** `null` for undefined values; the text for commentary cards; the raw text for unparsed ones. */
  value: CardValue;
  /** Comment text without the `/` separator; `undefined` when the card has none. */
  comment: string | undefined;
  /** Written with the ESO HIERARCH convention. */
  hierarch?: boolean;
  /** Original card image(s), 80 characters each (several for a CONTINUE long string). */
  image?: string;
}

/**
 * A value as text for messages, comparisons and display: strings as they are, T/F, integers and
 * reals in JavaScript's shortest form, complex as `(re, im)`, the empty string for undefined.
 * Never `[object Object]`.
 */
export function valueText(value: CardValue): string {
  if (value === null) return '';
  if (typeof value === 'boolean') return value ? 'T' : 'F';
  if (typeof value === 'object') return `(${value.re}, ${value.im})`;
  return String(value);
}

/** Keywords whose cards carry free text rather than a value (§4.4.2.4). */
export const COMMENTARY_KEYWORDS: ReadonlySet<string> = new Set(['COMMENT', 'HISTORY', '']);

export const CARD_LENGTH = 80;
export const BLOCK_LENGTH = 2880;
export const CARDS_PER_BLOCK = BLOCK_LENGTH / CARD_LENGTH;

/** Round a byte count up to whole 2880-byte FITS blocks. */
export function padToBlock(bytes: number): number {
  return Math.ceil(bytes / BLOCK_LENGTH) * BLOCK_LENGTH;
}

/** The value as a JavaScript number, or `undefined` when it is not numeric. */
export function numericValue(card: Card | undefined): number | undefined {
  if (card === undefined) return undefined;
  if (card.kind === 'integer' || card.kind === 'real') {
    return typeof card.value === 'bigint' ? Number(card.value) : (card.value as number);
  }
  return undefined;
}
