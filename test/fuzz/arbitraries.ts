/** fast-check generators shared by the fuzz tests: card text, FITS keywords and values. */
import fc from 'fast-check';

/** One printable ASCII character (0x20–0x7e). */
export const printableChar = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 });

/** Printable text, biased towards what breaks card parsers: quotes, slashes, `&`, `=` and blanks. */
export function cardText(maxLength: number, minLength = 0): fc.Arbitrary<string> {
  const unit = fc.oneof(
    { weight: 4, arbitrary: printableChar },
    { weight: 1, arbitrary: fc.constantFrom("'", "''", ' ', '/', '&', '=', '(', ')', ',', 'E', 'D', '.', '-', '+', 'T', 'F', '0') },
  );
  return fc.string({ unit, minLength, maxLength }).map((s) => s.slice(0, maxLength));
}

/** A standard keyword: 1–8 of A–Z, 0–9, `_`, `-`. */
export const standardKeyword = fc.stringMatching(/^[A-Z0-9_-]{1,8}$/);

/** A HIERARCH keyword: printable words without `=`, single spaces, at most 40 characters. */
export const hierarchKeyword = fc
  .array(fc.stringMatching(/^[\x21-\x3c\x3e-\x7e]{1,10}$/), { minLength: 1, maxLength: 4 })
  .map((words) => words.join(' ').slice(0, 40).trim())
  .filter((k) => k.length > 0 && !/\s$/.test(k));

/** Value texts as they appear after `= `: numbers in every FITS spelling, logicals, strings, junk. */
export const valueText: fc.Arbitrary<string> = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc.double({ noNaN: true }).map((x) => String(x).replace('Infinity', '1E400')),
  fc.tuple(fc.integer({ min: -999, max: 999 }), fc.nat(99999), fc.constantFrom('E', 'D', 'e', 'd'), fc.integer({ min: -400, max: 400 }))
    .map(([i, f, e, x]) => `${i}.${f}${e}${x}`),
  fc.constantFrom('T', 'F', '', '0', '-0', '+1', '.5', '5.', '1E', '(1, 2)', '(1.5D3,-2)', '( 1 , 2 )', '(1,)', "''", "'", "'a''b'", "'&'", 'NaN', 'Infinity'),
  cardText(68).map((s) => `'${s.replace(/'/g, "''")}'`),
  cardText(70),
);

/** An 80-column card image that looks like a card often enough to reach every parser branch. */
export const cardLikeImage: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(
      standardKeyword.map((k) => k.padEnd(8)),
      fc.constantFrom('COMMENT ', 'HISTORY ', '        ', 'CONTINUE', 'END     ', 'HIERARCH', 'SIMPLE  ', 'NAXIS   '),
      hierarchKeyword.map((k) => `HIERARCH ${k} `),
      cardText(8).map((k) => k.padEnd(8)),
    ),
    fc.constantFrom('= ', '= ', '= ', '=', ' =', '  ', ''),
    fc.nat(20).map((n) => ' '.repeat(n)),
    valueText,
    fc.option(fc.tuple(fc.constantFrom(' / ', '/', ' /'), cardText(70)).map(([s, c]) => s + c), { nil: '' }),
  )
  .map((parts) => parts.join('').padEnd(80).slice(0, 80));

/** Any 80 printable ASCII characters. */
export const printableImage = fc.string({ unit: 'grapheme-ascii', minLength: 80, maxLength: 80 });
