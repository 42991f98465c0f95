/**
 * Header-aware mutations of valid FITS files for the fuzz tests: byte flips inside header blocks,
 * a card's value field replaced, a keyword replaced, a card blanked, END moved. Data units are
 * left alone (their bytes are opaque to the codec). Mutations are plain data, so that fast-check
 * shrinks a failing list to the one that matters and prints it.
 */
import fc from 'fast-check';
import { valueText, cardText } from './arbitraries.js';

/** A header of a valid file: its first byte and its cards (offset and keyword of each). */
export interface HeaderMap {
  offset: number;
  /** Whole blocks. */
  bytes: number;
  cards: Array<{ offset: number; keyword: string }>;
}

/** Maps the headers of a valid file at the given header offsets (from its layout). */
export function mapHeaders(file: Buffer, headers: ReadonlyArray<{ offset: number; bytes: number }>): HeaderMap[] {
  return headers.map(({ offset, bytes }) => {
    const cards: HeaderMap['cards'] = [];
    for (let at = offset; at < offset + bytes; at += 80) {
      const keyword = file.toString('latin1', at, at + 8).trimEnd();
      cards.push({ offset: at, keyword });
      if (keyword === 'END') break;
    }
    return { offset, bytes, cards };
  });
}

export type Mutation =
  /** Byte `at` (modulo the header length) of header `hdu` becomes `value`. */
  | { kind: 'flip'; hdu: number; at: number; value: number }
  /**
   * Columns 9–80 of a card become `= <text>`: card number `card` among the cards whose keyword is
   * in TARGET_KEYWORDS (`targeted`), or among all cards.
   */
  | { kind: 'value'; hdu: number; card: number; targeted: boolean; text: string }
  /** Columns 1–8 of a card become `keyword`. */
  | { kind: 'keyword'; hdu: number; card: number; keyword: string }
  /** A card becomes 80 blanks (END included: then the header runs on into the data). */
  | { kind: 'blank'; hdu: number; card: number }
  /** A card becomes END (the rest of the header is cut off). */
  | { kind: 'end'; hdu: number; card: number };

/** Keywords whose values the codec or the steps read: the mutations aim at them half the time. */
export const TARGET_KEYWORDS = [
  'SIMPLE', 'XTENSION', 'BITPIX', 'NAXIS', 'NAXIS1', 'NAXIS2', 'PCOUNT', 'GCOUNT', 'EXTEND', 'GROUPS', 'EXTNAME',
  'BZERO', 'BSCALE', 'TFIELDS', 'TFORM1', 'TFORM2', 'TTYPE1', 'TTYPE2', 'OVRSCAN1', 'REF-PIX1', 'REF-PIX2', 'CCDSUM',
  'DATE-OBS', 'UTC-OBS', 'TELRA', 'TELDEC', 'TELALT', 'TELAZ', 'INSTRUME', 'OBJECT', 'LBTWLINK', 'NONSIDER', 'NSTYPE',
  'NSEPHFIL', 'IMAGETYP', 'LTM1_1', 'LTM2_2', 'DETSEC', 'CCDSEC', 'LTV1', 'LTV2', 'CHECKSUM', 'DATASUM', 'MJD-OBS',
];

/** Values that hit the edges of structural keywords: zero, negative, huge, not integers. */
const edgeValues = fc.constantFrom(
  '0', '1', '2', '3', '-1', '-32', '-64', '8', '16', '64', '999', '1000', '2147483648', '9007199254740993',
  '99999999999999999999', '1E10', '1.5', '2.5', '31.5', '-0.5', '0.001', '1E400', '-1E400', '1E-400', '32.0', '1D1', '-0', "'IMAGE   '", "'BINTABLE'", "'IM1'", "''", 'T', 'F', '', "'20A'", "'0A'",
  "'99999999999A'", "'1PJ'", "'nan'", "'2026-01-15T04:12:33.456'", "'04:12:33.1000'", "'+12:34:56.7'", "'1 1'", "'0 0'",
);

const TARGET: ReadonlySet<string> = new Set(TARGET_KEYWORDS);

export function mutationArbitrary(headerCount: number): fc.Arbitrary<Mutation> {
  const hdu = fc.nat(headerCount - 1);
  const card = fc.nat(300);
  return fc.oneof(
    fc.record({
      kind: fc.constant('flip' as const), hdu, at: fc.nat(64 * 1024),
      value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x20, 0x30, 0x31, 0x39, 0x27, 0x2d, 0x3d, 0x2f, 0x00, 0x0a, 0x7f, 0x80, 0xff)),
    }),
    fc.record({
      kind: fc.constant('value' as const), hdu, card, targeted: fc.boolean(),
      text: fc.oneof(edgeValues, valueText, cardText(70)),
    }),
    fc.record({
      kind: fc.constant('keyword' as const), hdu, card,
      keyword: fc.oneof(fc.constantFrom('END', 'XTENSION', 'SIMPLE', 'NAXIS3', 'CONTINUE', 'HIERARCH', 'COMMENT', 'EXTNAME', 'GCOUNT', 'BITPIX'), cardText(8)),
    }),
    fc.record({ kind: fc.constant('blank' as const), hdu, card }),
    fc.record({ kind: fc.constant('end' as const), hdu, card }),
  );
}

/** A copy of `file` with the mutations applied in order (to the original header layout). */
export function applyMutations(file: Buffer, headers: HeaderMap[], mutations: readonly Mutation[]): Buffer {
  const out = Buffer.from(file);
  for (const m of mutations) {
    const h = headers[m.hdu % headers.length]!;
    const targets = h.cards.filter((c) => TARGET.has(c.keyword));
    const pick = (n: number, targeted = false) => {
      const from = targeted && targets.length > 0 ? targets : h.cards;
      return from[n % from.length]!.offset;
    };
    switch (m.kind) {
      case 'flip':
        out[h.offset + (m.at % h.bytes)] = m.value;
        break;
      case 'value':
        out.write(`= ${m.text}`.padEnd(72).slice(0, 72), pick(m.card, m.targeted) + 8, 'latin1');
        break;
      case 'keyword':
        out.write(m.keyword.padEnd(8).slice(0, 8), pick(m.card), 'latin1');
        break;
      case 'blank':
        out.fill(0x20, pick(m.card), pick(m.card) + 80);
        break;
      case 'end':
        out.write('END'.padEnd(80), pick(m.card), 'latin1');
        break;
    }
  }
  return out;
}
