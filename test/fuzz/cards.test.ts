/**
 * Fuzzing and properties of the card codec: parsing never throws on printable text, formatting
 * and parsing are inverse (format → parse gives the same value), reals are exact.
 *
 * CI: `npm test -- test/fuzz` (fixed seed, bounded runs, a few seconds).
 * Long run (no 180 s cap per file, unlike `npm test`; see fuzz-options.ts):
 *   DATAMAN_FUZZ_RUNS=200000 node --import tsx --test --test-reporter=spec test/fuzz/*.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BadCardError, CardFormatError, checkCardImage, formatCard, formatReal, Header, parseCard, END_CARD, padToBlock,
  type Card,
  valueText,
} from '../../src/fits/index.js';
import { expectResultOr, fuzzParameters, PRINTABLE } from './fuzz-options.js';
import { cardLikeImage, cardText, hierarchKeyword, printableImage, standardKeyword } from './arbitraries.js';

const STANDARD_KEYWORD = /^[A-Z0-9_-]{0,8}$/;

/** An empty comment says nothing: `KEY = 5 /` and `KEY = 5` are the same card. */
const normComment = (c: string | undefined) => (c === '' ? undefined : c);

/** Values compared as FITS values: integers by magnitude (−0 is 0), reals bit for bit. */
function sameValue(kind: Card['kind'], a: Card['value'], b: Card['value']): boolean {
  if (kind === 'integer') return BigInt(a as number | bigint) === BigInt(b as number | bigint);
  if (kind === 'complex') {
    const [x, y] = [a as { re: number; im: number }, b as { re: number; im: number }];
    return Object.is(x.re, y.re) && Object.is(x.im, y.im);
  }
  return Object.is(a, b) || a === b;
}

/** Parses card images (a multiple of 80 columns, CONTINUE cards included) as a header does. */
function parseImages(images: string): Card[] {
  const text = images + END_CARD;
  const bytes = Buffer.alloc(padToBlock(text.length), 0x20);
  bytes.write(text, 'latin1');
  const parsed = Header.parse(bytes);
  assert.ok(parsed, 'a formatted card followed by END parses as a header');
  return [...parsed.header.cards];
}

/**
 * The comment read back is the one written, or — when a writer had to cut it at column 80 — a
 * leading part of it.
 */
function assertCommentKept(original: string | undefined, reread: string | undefined, images: string): void {
  const want = normComment(original?.trim());
  const got = normComment(reread);
  if (got === want) return;
  assert.ok(want !== undefined, `no comment was written, read ${JSON.stringify(got)} from ${JSON.stringify(images)}`);
  assert.ok(want.startsWith((got ?? '').trimEnd()), `comment ${JSON.stringify(got)} is not a cut of ${JSON.stringify(want)}`);
  // A genuine cut: the last card ends with the first part of the comment, up to column 80.
  const last = images.slice(-80);
  let cut = false;
  for (let c = 0; c <= 80 && !cut; c++) cut = 80 - c < want.length && last.slice(c) === want.slice(0, 80 - c);
  assert.ok(cut, `comment ${JSON.stringify(want)} came back as ${JSON.stringify(got)} although it was not cut at column 80: ${JSON.stringify(images)}`);
}

test('any 80 printable characters parse as a card without throwing', () => {
  fc.assert(
    fc.property(fc.oneof(printableImage, cardLikeImage), (image) => {
      checkCardImage(image);
      const card = parseCard(image);
      assert.equal(card.image, image);
      assert.equal(typeof card.keyword, 'string');
    }),
    fuzzParameters(),
  );
});

test('any 80 bytes either pass checkCardImage or raise BadCardError; any other length raises BadCardError', () => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ minLength: 80, maxLength: 80 }), fc.uint8Array({ maxLength: 200 })), (bytes) => {
      const image = Buffer.from(bytes).toString('latin1');
      const r = expectResultOr([BadCardError], () => checkCardImage(image));
      assert.equal(r.ok, image.length === 80 && PRINTABLE.test(image));
    }),
    fuzzParameters(),
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (image) => {
      const r = expectResultOr([BadCardError], () => checkCardImage(image));
      assert.equal(r.ok, image.length === 80 && PRINTABLE.test(image));
    }),
    fuzzParameters(),
  );
});

test('a parsed card re-formatted without its image parses back to the same keyword, kind, value and comment', () => {
  fc.assert(
    fc.property(fc.oneof(cardLikeImage, printableImage), (image) => {
      const card = parseCard(image);
      // A CONTINUE card only means something after the string it continues (see the string round trip).
      fc.pre(card.keyword !== 'CONTINUE');
      // `END` and blanks is the end of a header, not a card.
      fc.pre(!(image.startsWith('END') && image.slice(3).trim() === ''));
      const { image: _dropped, ...fresh } = card;
      const formatted = expectResultOr([CardFormatError], () => formatCard(fresh));
      if (!formatted.ok) {
        // Representable means: a standard keyword (or a HIERARCH one, which may not fit again
        // with normalised spacing) and a finite value.
        const finite = !(
          (card.kind === 'real' && !Number.isFinite(card.value)) ||
          (card.kind === 'complex' && !(Number.isFinite((card.value as { re: number }).re) && Number.isFinite((card.value as { im: number }).im)))
        );
        assert.ok(card.hierarch === true || !STANDARD_KEYWORD.test(card.keyword) || !finite,
          `${JSON.stringify(image)} parsed but could not be formatted again: ${formatted.error.message}`);
        return;
      }
      const images = formatted.value;
      assert.equal(images.length % 80, 0);
      assert.match(images, PRINTABLE);
      const back = parseImages(images);
      assert.equal(back.length, 1, `one card from ${JSON.stringify(images)}`);
      const again = back[0]!;
      assert.equal(again.keyword, card.keyword);
      assert.equal(again.kind, card.kind, `kind of ${JSON.stringify(image)} → ${JSON.stringify(images)}`);
      // A keyword the standard does not allow (`abc`, `A B`) can only be written with HIERARCH.
      if (STANDARD_KEYWORD.test(card.keyword)) assert.equal(again.hierarch === true, card.hierarch === true);
      assert.ok(sameValue(card.kind, again.value, card.value), `value ${valueText(card.value)} came back as ${valueText(again.value)} via ${JSON.stringify(images)}`);
      if (card.kind !== 'commentary') assertCommentKept(card.comment, again.comment, images);
    }),
    fuzzParameters(),
  );
});

/**
 * The shortest text that `formatReal` could possibly use, in E notation: sign, the digits of the
 * shortest round-trip mantissa, `.`, (a `0` if there is one digit), `E±`, two or three exponent digits.
 */
function shortestExponentLength(x: number): number {
  const [mantissa, exponent] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '').length;
  return (x < 0 || Object.is(x, -0) ? 1 : 0) + digits + 1 + (digits === 1 ? 1 : 0) + 2 + Math.max(2, exponent.replace(/^[+-]/, '').length);
}

const finiteDoubles = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer().map((i) => i * 1.0),
  fc.constantFrom(-0, 0, 5e-324, -1.2345678901234567e-300, 1.2345678901234567e20, 1e18, -1.5e19, 38323051327455990000),
);

test('formatReal writes every finite double in a form that reads back exactly', () => {
  fc.assert(
    fc.property(finiteDoubles, (x) => {
      const text = formatReal(x);
      assert.match(text, /^[+-]?(?:\d+\.\d*|\.\d+)(?:E[+-]\d{2,3})?$/, `${x} → ${text}`);
      assert.ok(Object.is(Number(text), x), `${x} → ${text} → ${Number(text)}`);
      const card = parseImages(formatCard({ keyword: 'X', kind: 'real', value: x, comment: undefined }))[0]!;
      assert.equal(card.kind, 'real');
      assert.ok(Object.is(card.value, x));
    }),
    fuzzParameters(),
  );
});

// Regression: formatReal appended ".0" after its width check (1e18 → "1000000000000000000.0", 21 columns).
test('formatReal fits a real into the 20 columns of the fixed format whenever its digits allow', () => {
  fc.assert(
    fc.property(finiteDoubles, (x) => {
      // 17 significant digits and a three-digit exponent need 24 columns: no writer can put
      // those in 20 and keep the value. Anything that can be written in 20 is.
      const text = formatReal(x);
      assert.ok(text.length <= Math.max(20, shortestExponentLength(x)), `${x} → ${text} (${text.length} columns)`);
    }),
    fuzzParameters(),
  );
});

test('formatReal refuses NaN and infinities with CardFormatError', () => {
  for (const x of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    assert.throws(() => formatReal(x), CardFormatError);
  }
});

test('integers and bigints round-trip; a bigint too long for one card raises CardFormatError', () => {
  fc.assert(
    fc.property(fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: -(10n ** 69n) + 1n, max: 10n ** 70n - 1n })), standardKeyword, (n, keyword) => {
      const card = parseImages(formatCard({ keyword, kind: 'integer', value: n, comment: undefined }))[0]!;
      assert.equal(card.kind, 'integer');
      const safe = typeof n === 'number' || (n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER));
      assert.equal(typeof card.value, safe ? 'number' : 'bigint', 'bigint only when a double cannot hold the value');
      assert.equal(BigInt(card.value as number | bigint), BigInt(n));
    }),
    fuzzParameters(),
  );
  fc.assert(
    fc.property(fc.bigInt({ min: -(10n ** 100n), max: 10n ** 100n }), (n) => {
      const r = expectResultOr([CardFormatError], () => formatCard({ keyword: 'BIG', kind: 'integer', value: n, comment: undefined }));
      assert.equal(r.ok, String(n).length <= 70);
    }),
    fuzzParameters(),
  );
});

test('printable strings round-trip with their quotes and leading blanks, long ones through CONTINUE cards', () => {
  fc.assert(
    fc.property(cardText(300), fc.option(cardText(80), { nil: undefined }), standardKeyword, (value, comment, keyword) => {
      fc.pre(!['CONTINUE', 'COMMENT', 'HISTORY'].includes(keyword));
      const images = formatCard({ keyword, kind: 'string', value, comment });
      assert.match(images, PRINTABLE);
      const cards = parseImages(images);
      assert.equal(cards.length, 1, `one string card from ${JSON.stringify(images)}`);
      const card = cards[0]!;
      assert.equal(card.kind, 'string');
      // Trailing blanks are not significant in FITS strings (§4.2.1.1): they are not read back.
      assert.equal(card.value, value.trimEnd());
      assertCommentKept(comment, card.comment, images);
      assert.equal(formatCard(card), images, 'an unchanged card keeps its images');
    }),
    fuzzParameters(),
  );
});

test('HIERARCH cards of any type round-trip or raise CardFormatError when they do not fit', () => {
  const value = fc.oneof(
    fc.boolean().map((v) => ['logical', v] as const),
    fc.maxSafeInteger().map((v) => ['integer', v] as const),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => ['real', v] as const),
    cardText(70).map((v) => ['string', v] as const),
    fc.constant(['undefined', null] as const),
  );
  fc.assert(
    fc.property(hierarchKeyword, value, fc.option(cardText(40), { nil: undefined }), (keyword, [kind, v], comment) => {
      const r = expectResultOr([CardFormatError], () => formatCard({ keyword, kind, value: v, comment, hierarch: true }));
      if (!r.ok) {
        assert.match(r.error.message, /does not fit/);
        return;
      }
      const card = parseImages(r.value)[0]!;
      assert.equal(card.hierarch, true);
      assert.equal(card.keyword, keyword);
      assert.equal(card.kind, kind);
      assert.ok(sameValue(kind, card.value, kind === 'string' ? (v).trimEnd() : v));
      assertCommentKept(comment, card.comment, r.value);
    }),
    fuzzParameters(),
  );
});

test('text outside printable ASCII is refused with CardFormatError, never written', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 120 }), fc.constantFrom('string', 'commentary'), (text, kind) => {
      const keyword = kind === 'commentary' ? 'HISTORY' : 'TEXT';
      const r = expectResultOr([CardFormatError], () => formatCard({ keyword, kind, value: text, comment: undefined }));
      assert.equal(r.ok, PRINTABLE.test(text));
      if (r.ok) assert.match(r.value, PRINTABLE);
    }),
    fuzzParameters(),
  );
});
