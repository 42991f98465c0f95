/**
 * Parses 80-column card images into typed cards (FITS Standard 4.0 §4.1–§4.2, plus the ESO
 * HIERARCH convention). Lenient where the standard allows readers to be (lower-case exponent
 * letters, free-format values), strict about what makes a header unreadable (non-printable
 * bytes). A value field that fits no type is kept verbatim as `unparsed`, so that an odd card in
 * a non-structural keyword never stops a file from being processed.
 */
import { type Card, type CardValue, type CardKind, CARD_LENGTH, COMMENTARY_KEYWORDS } from './card.js';
import { BadCardError, type FitsLocation } from './errors.js';

const INTEGER = /^[+-]?\d+$/;
const REAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[EeDd][+-]?\d+)?$/;
const NUMBER = String.raw`[+-]?(?:\d+\.?\d*|\.\d+)(?:[EeDd][+-]?\d+)?`;
const COMPLEX = new RegExp(String.raw`^\(\s*(${NUMBER})\s*,\s*(${NUMBER})\s*\)$`);

/** Checks that a card image is 80 printable ASCII characters (§4.1.1). */
export function checkCardImage(image: string, loc: FitsLocation = {}): void {
  if (image.length !== CARD_LENGTH) {
    throw new BadCardError(`card is ${image.length} characters long, expected ${CARD_LENGTH}`, loc);
  }
  for (let i = 0; i < image.length; i++) {
    const c = image.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      throw new BadCardError(
        `card contains byte 0x${c.toString(16).padStart(2, '0')} at column ${i + 1}; ` +
          'FITS headers allow printable ASCII only',
        { ...loc, offset: loc.offset === undefined ? undefined : loc.offset + i },
      );
    }
  }
}

/** Parses one card image (already checked by `checkCardImage`). */
export function parseCard(image: string): Card {
  const keyword = image.slice(0, 8).trimEnd();
  if (keyword === 'HIERARCH') {
    const eq = image.indexOf('=', 8);
    if (eq > 8) {
      const hierKey = image.slice(8, eq).trim().replace(/\s+/g, ' ');
      return { ...parseValueField(image.slice(eq + 1)), keyword: hierKey, hierarch: true, image };
    }
  }
  if (keyword === 'CONTINUE') {
    return { ...parseValueField(image.slice(8)), keyword, image };
  }
  if (COMMENTARY_KEYWORDS.has(keyword) || image.slice(8, 10) !== '= ') {
    return { keyword, kind: 'commentary', value: image.slice(8).trimEnd(), comment: undefined, image };
  }
  return { ...parseValueField(image.slice(10)), keyword, image };
}

interface ParsedValue {
  kind: CardKind;
  value: CardValue;
  comment: string | undefined;
}

/** Parses the text after the value indicator: a value, then optionally `/ comment`. */
export function parseValueField(field: string): ParsedValue {
  const text = field.trimStart();
  if (text.startsWith("'")) return parseStringValue(text);
  const slash = text.indexOf('/');
  const valueText = (slash < 0 ? text : text.slice(0, slash)).trim();
  const comment = slash < 0 ? undefined : text.slice(slash + 1).trim();
  if (valueText === '') return { kind: 'undefined', value: null, comment };
  if (valueText === 'T' || valueText === 'F') return { kind: 'logical', value: valueText === 'T', comment };
  if (INTEGER.test(valueText)) {
    const n = Number(valueText);
    return { kind: 'integer', value: Number.isSafeInteger(n) ? n : BigInt(valueText), comment };
  }
  if (REAL.test(valueText)) return { kind: 'real', value: parseReal(valueText), comment };
  const cx = COMPLEX.exec(valueText);
  if (cx) return { kind: 'complex', value: { re: parseReal(cx[1]!), im: parseReal(cx[2]!) }, comment };
  return { kind: 'unparsed', value: valueText, comment };
}

function parseReal(text: string): number {
  return Number(text.replace(/[Dd]/, 'E'));
}

/** A quoted string: `''` is an escaped quote; trailing spaces are not significant (§4.2.1.1). */
function parseStringValue(text: string): ParsedValue {
  let value = '';
  let i = 1;
  for (;;) {
    if (i >= text.length) {
      // No closing quote: keep the field verbatim rather than guess.
      return { kind: 'unparsed', value: text.trimEnd(), comment: undefined };
    }
    const ch = text[i]!;
    if (ch === "'") {
      if (text[i + 1] === "'") {
        value += "'";
        i += 2;
        continue;
      }
      break;
    }
    value += ch;
    i += 1;
  }
  const rest = text.slice(i + 1).trim();
  if (rest === '') return { kind: 'string', value: value.trimEnd(), comment: undefined };
  if (rest.startsWith('/')) return { kind: 'string', value: value.trimEnd(), comment: rest.slice(1).trim() };
  return { kind: 'unparsed', value: text.trimEnd(), comment: undefined };
}
