/**
 * Fuzzing the header parser (`Header.parse`): any bytes end in a header, "no END yet" or a
 * BadCardError; a parsed header writes back byte for byte, and after an edit it re-reads to the
 * same cards plus the edit.
 *
 * CI: `npm test -- test/fuzz` (fixed seed, bounded runs, about a second).
 * Long run (no 180 s cap per file, unlike `npm test`; see fuzz-options.ts):
 *   DATAMAN_FUZZ_RUNS=200000 node --import tsx --test --test-reporter=spec test/fuzz/*.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BadCardError, CardFormatError, END_CARD, Header, padToBlock, type Card, valueText } from '../../src/fits/index.js';
import { expectResultOr, fuzzParameters } from './fuzz-options.js';
import { cardLikeImage, cardText, printableImage } from './arbitraries.js';

/** Header bytes: card images, maybe END, then padding or junk. */
const headerBytes = fc
  .tuple(
    fc.array(fc.oneof({ weight: 5, arbitrary: cardLikeImage }, { weight: 1, arbitrary: printableImage }), { maxLength: 60 }),
    fc.constantFrom('end', 'end', 'end', 'none', 'end-late'),
    fc.oneof(fc.constant(' '), fc.constant('\u0000'), cardText(1, 1)),
    fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { freq: 4 }),
  )
  .map(([images, end, pad, flip]) => {
    let text = images.join('');
    if (end === 'end') text += END_CARD;
    const length = end === 'end-late' ? text.length + 40 : padToBlock(Math.max(text.length, 1));
    const bytes = Buffer.alloc(length, pad.charCodeAt(0));
    bytes.write(text, 'latin1');
    if (flip) bytes[flip[0] % bytes.length] = flip[1];
    return bytes;
  });

const sameCard = (a: Card, b: Card) =>
  a.keyword === b.keyword && a.kind === b.kind && (Object.is(a.value, b.value) || JSON.stringify(a.value, bigintText) === JSON.stringify(b.value, bigintText));
function bigintText(_key: string, v: unknown) {
  return typeof v === 'bigint' ? `${v}n` : v;
}

test('any header bytes parse to a header, to "no END yet" or to a BadCardError', () => {
  fc.assert(
    fc.property(headerBytes, (bytes) => {
      const r = expectResultOr([BadCardError], () => Header.parse(bytes));
      if (!r.ok || r.value === undefined) return;
      const { header, byteLength } = r.value;
      assert.equal(byteLength % 2880, 0);
      if (bytes.length >= byteLength) {
        assert.equal(header.modified, false);
        assert.ok(header.toBuffer().equals(bytes.subarray(0, byteLength)), 'an unedited header writes back byte for byte');
      }
    }),
    fuzzParameters(),
  );
});

test('an edited header re-reads to the same cards plus the edit', () => {
  const edit = fc.record({
    keyword: fc.stringMatching(/^[A-Z][A-Z0-9_-]{0,7}$/).filter((k) => !['CONTINUE', 'COMMENT', 'HISTORY', 'END', 'HIERARCH'].includes(k)),
    value: fc.oneof(fc.boolean(), fc.maxSafeInteger(), fc.double({ noNaN: true, noDefaultInfinity: true }), cardText(150), fc.constant(null)),
    comment: fc.option(cardText(60), { nil: undefined }),
  });
  fc.assert(
    fc.property(headerBytes, edit, (bytes, { keyword, value, comment }) => {
      const r = expectResultOr([BadCardError], () => Header.parse(bytes));
      if (!r.ok || r.value === undefined) return;
      const header = r.value.header.clone();
      const before = header.cards.filter((c) => c.keyword !== keyword);
      const set = expectResultOr([CardFormatError], () => header.set(keyword, value, comment === undefined ? {} : { comment }));
      if (!set.ok) return;
      const again = Header.parse(header.toBuffer());
      assert.ok(again, 'an edited header has its END');
      const cards = again.header.cards;
      const edited = cards.find((c) => c.keyword === keyword)!;
      assert.ok(edited, `${keyword} is there`);
      const want = typeof value === 'string' ? value.trimEnd() : value;
      assert.ok(edited.value === want || (typeof want === 'number' && Number(edited.value) === want), `${keyword} = ${valueText(edited.value)}, set ${valueText(want)}`);
      // Every other card reads back as it was, in the same order.
      const others = cards.filter((c) => c.keyword !== keyword);
      const kept = before.filter((c) => !(c.keyword === keyword));
      assert.equal(others.length, kept.length);
      others.forEach((c, i) => assert.ok(sameCard(c, kept[i]!), `card ${i}: ${JSON.stringify(c, bigintText)} vs ${JSON.stringify(kept[i], bigintText)}`));
    }),
    fuzzParameters(),
  );
});
