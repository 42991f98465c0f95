/**
 * Formats typed cards as 80-column images in the fixed format of FITS Standard 4.0 §4.2:
 * logical, integer and real values right-justified to column 30, strings starting in column 11
 * and at least 8 characters between the quotes, comments after ` / `. Reals are written with the
 * shortest decimal form that reads back to the same double. Strings longer than one card use the
 * CONTINUE long-string convention (§4.2.1.2).
 */
import { type Card, type CardValue, type CardKind, type Complex, CARD_LENGTH, COMMENTARY_KEYWORDS, valueText } from './card.js';
import { CardFormatError } from './errors.js';

const STANDARD_KEYWORD = /^[A-Z0-9_-]{0,8}$/;
const HIERARCH_KEYWORD = /^[\x21-\x3c\x3e-\x7e]+(?: [\x21-\x3c\x3e-\x7e]+)*$/;
const VALUE_WIDTH = 20;

/** The shortest decimal text of `x` that parses back to `x`, with a decimal point or exponent. */
export function formatReal(x: number, keyword = ''): string {
  if (!Number.isFinite(x)) {
    throw new CardFormatError(`${x} cannot be written as a FITS real value`, { keyword: keyword || undefined });
  }
  if (Object.is(x, -0)) return '-0.0';
  const plain = withPoint(String(x));
  // Fixed format leaves 20 columns; a long plain form (1e18 → 19 digits + ".0") takes the exponent.
  return plain.length <= VALUE_WIDTH ? plain : withPoint(x.toExponential());
}

/** JavaScript's shortest round-trip text with a decimal point and a FITS exponent (`E+nn`). */
function withPoint(s: string): string {
  const e = s.indexOf('e');
  if (e < 0) return s.includes('.') ? s : `${s}.0`;
  let mantissa = s.slice(0, e);
  if (!mantissa.includes('.')) mantissa += '.0';
  const exponent = s.slice(e + 1);
  const sign = exponent.startsWith('-') ? '-' : '+';
  return `${mantissa}E${sign}${exponent.replace(/^[+-]/, '').padStart(2, '0')}`;
}

/** The value part of a card, as it appears after `= `. */
export function formatValue(kind: CardKind, value: CardValue, keyword = ''): string {
  switch (kind) {
    case 'logical':
      return (value ? 'T' : 'F').padStart(VALUE_WIDTH);
    case 'integer':
      if (typeof value === 'bigint') return value.toString().padStart(VALUE_WIDTH);
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw new CardFormatError(`${describeValue(value)} is not an integer`, { keyword });
      }
      return String(value).padStart(VALUE_WIDTH);
    case 'real':
      return formatReal(Number(value), keyword).padStart(VALUE_WIDTH);
    case 'complex': {
      const c = value as Complex;
      return `(${formatReal(c.re, keyword)}, ${formatReal(c.im, keyword)})`.padStart(VALUE_WIDTH);
    }
    case 'string':
      return quote(requireText(kind, value, keyword)).padEnd(VALUE_WIDTH);
    case 'undefined':
      return ''.padEnd(VALUE_WIDTH);
    case 'unparsed':
      return requireText(kind, value, keyword);
    case 'commentary':
      throw new CardFormatError('commentary cards have no value field', { keyword });
  }
}

/**
 * The text of a string or unparsed card. `Header.set` takes an explicit kind with any value, so
 * a mismatch (a complex value given `kind: 'string'`) is refused here rather than written into
 * the file as `'[object Object]'`.
 */
function requireText(kind: CardKind, value: CardValue, keyword: string): string {
  if (typeof value === 'string') return value;
  throw new CardFormatError(`a ${kind} card cannot hold ${describeValue(value)}`, { keyword });
}

/** A value for an error message: its text and its JavaScript type. */
function describeValue(value: CardValue): string {
  return `${JSON.stringify(valueText(value))} (${value === null ? 'null' : typeof value === 'object' ? 'complex' : typeof value})`;
}

/**
 * A quoted string, at least 8 characters between the quotes (§4.2.1.1). The empty string is
 * written as the null string `''`, as astropy and azcam write it (8 spaces would be a different
 * value to the standard: a string of blanks).
 */
function quote(text: string): string {
  checkText(text);
  if (text === '') return "''";
  return `'${text.replace(/'/g, "''").padEnd(8)}'`;
}

function checkText(text: string, keyword = ''): void {
  if (!/^[\x20-\x7e]*$/.test(text)) {
    throw new CardFormatError(`text ${JSON.stringify(text)} has characters outside printable ASCII`, {
      keyword: keyword || undefined,
    });
  }
}

/** Checks a keyword and says whether it needs the HIERARCH convention. */
export function keywordNeedsHierarch(keyword: string, hierarch = false): boolean {
  if (!hierarch && STANDARD_KEYWORD.test(keyword)) return false;
  if (HIERARCH_KEYWORD.test(keyword) && keyword.length <= 60) return true;
  throw new CardFormatError(`${JSON.stringify(keyword)} is not a valid FITS keyword`);
}

/**
 * The card image(s) of a card: its original image if it has one, otherwise freshly formatted.
 * Returns a multiple of 80 characters (several cards for CONTINUE or long commentary text).
 */
export function formatCard(card: Card): string {
  if (card.image !== undefined) return card.image;
  if (card.kind === 'commentary') return formatCommentary(card.keyword, card.value === null ? '' : requireText(card.kind, card.value, card.keyword));
  const hierarch = keywordNeedsHierarch(card.keyword, card.hierarch);
  if (card.comment !== undefined) checkText(card.comment, card.keyword);
  if (hierarch) return formatHierarch(card);
  if (card.kind === 'string') {
    const text = requireText(card.kind, card.value, card.keyword);
    if (quote(text).length > CARD_LENGTH - 10) return formatLongString(card.keyword, text, card.comment);
  }
  const head = `${card.keyword.padEnd(8)}= ${formatValue(card.kind, card.value, card.keyword)}`;
  return fitComment(head, card.comment, card.keyword);
}

function fitComment(head: string, comment: string | undefined, keyword: string): string {
  if (head.length > CARD_LENGTH) {
    throw new CardFormatError(`value does not fit in one card (${head.length} columns)`, { keyword });
  }
  if (comment === undefined || comment === '') return head.padEnd(CARD_LENGTH);
  // Comments that do not fit are cut at column 80, as FITS writers conventionally do.
  return `${head} / ${comment}`.slice(0, CARD_LENGTH).padEnd(CARD_LENGTH);
}

function formatHierarch(card: Card): string {
  const value = formatValue(card.kind, card.value, card.keyword).trim();
  const head = `HIERARCH ${card.keyword} = ${value}`;
  return fitComment(head, card.comment, card.keyword);
}

function formatCommentary(keyword: string, text: string): string {
  if (!COMMENTARY_KEYWORDS.has(keyword) && !STANDARD_KEYWORD.test(keyword)) {
    throw new CardFormatError(`${JSON.stringify(keyword)} is not a valid FITS keyword`);
  }
  checkText(text, keyword);
  const width = CARD_LENGTH - 8;
  let out = '';
  let rest = text;
  do {
    out += `${keyword.padEnd(8)}${rest.slice(0, width)}`.padEnd(CARD_LENGTH);
    rest = rest.slice(width);
  } while (rest.length > 0);
  return out;
}

/** CONTINUE convention: `&` at the end of each partial string, comment on the last card. */
function formatLongString(keyword: string, text: string, comment: string | undefined): string {
  checkText(text, keyword);
  const escaped = text.replace(/'/g, "''");
  // 67 characters of escaped text per card leaves room for the quotes and the `&`; never split
  // an escaped quote pair across cards.
  const chunks: string[] = [];
  let i = 0;
  while (i < escaped.length) {
    let end = Math.min(i + 67, escaped.length);
    const piece = escaped.slice(i, end);
    const trailingQuotes = /'+$/.exec(piece)?.[0].length ?? 0;
    if (trailingQuotes % 2 === 1 && end < escaped.length) end -= 1;
    chunks.push(escaped.slice(i, end));
    i = end;
  }
  let out = '';
  chunks.forEach((chunk, n) => {
    const last = n === chunks.length - 1;
    const lead = n === 0 ? `${keyword.padEnd(8)}= ` : 'CONTINUE  ';
    const body = `'${chunk}${last ? '' : '&'}'`;
    out += last ? fitComment(lead + body, comment, keyword) : (lead + body).padEnd(CARD_LENGTH);
  });
  return out;
}
