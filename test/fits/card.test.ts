import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  BadCardError, CardFormatError, checkCardImage, formatCard, formatReal, parseCard, type Card,
  Header, valueText,
} from '../../src/fits/index.js';

const pad = (s: string) => s.padEnd(80);
const parse = (s: string) => {
  checkCardImage(pad(s));
  return parseCard(pad(s));
};
const fresh = (card: Omit<Card, 'image'>) => formatCard(card);

describe('parsing cards (FITS 4.0 §4.1–4.2)', () => {
  test('fixed-format logical, integer and real values', () => {
    assert.deepEqual(pick(parse('SIMPLE  =                    T / conforms to FITS standard')), ['SIMPLE', 'logical', true, 'conforms to FITS standard']);
    assert.deepEqual(pick(parse('NAXIS1  =                 4178')), ['NAXIS1', 'integer', 4178, undefined]);
    assert.deepEqual(pick(parse('LATITUDE=             32.70131 / Site Latitude [deg N]')), ['LATITUDE', 'real', 32.70131, 'Site Latitude [deg N]']);
  });

  test('reals with E and D exponents, lower case too, and without a leading digit', () => {
    assert.equal(parse('A       =             1.0D+02').value, 100);
    assert.equal(parse('A       =              -1.5E-3').value, -0.0015);
    assert.equal(parse('A       =                1.5e3').value, 1500);
    assert.equal(parse('A       =                  .25').value, 0.25);
    assert.equal(parse('A       =                  1E5').kind, 'real');
  });

  test('free-format values and a signed integer', () => {
    assert.equal(parse('FLAG    = T').value, true);
    assert.equal(parse('N       = -42 / minus').value, -42);
    assert.equal(parse('N       = +7').value, 7);
  });

  test('an integer too large for a double stays exact as a bigint', () => {
    const card = parse('BIG     = 123456789012345678901');
    assert.equal(card.kind, 'integer');
    assert.equal(card.value, 123456789012345678901n);
  });

  test("strings: '' is a quote, trailing spaces do not count, leading spaces do", () => {
    assert.equal(parse("NAME    = 'O''HARA  '").value, "O'HARA");
    assert.equal(parse("NAME    = '  indented'").value, '  indented');
    assert.equal(parse("NAME    = 'MODS2R  '           / CCD Dewar").value, 'MODS2R');
    assert.equal(parse("NAME    = ''").value, '');
    assert.equal(parse("NAME    = '        '").value, '');
    assert.equal(parse("NAME    = 'a / b' / the slash is in the string").value, 'a / b');
  });

  test('an empty value field is an undefined value, with or without a comment', () => {
    assert.deepEqual(pick(parse('UNDEF   =')), ['UNDEF', 'undefined', null, undefined]);
    assert.deepEqual(pick(parse('UNDEF   =                      / nothing here')), ['UNDEF', 'undefined', null, 'nothing here']);
  });

  test('complex values', () => {
    assert.deepEqual(parse('CPLX    =           (1.5, -2.0)').value, { re: 1.5, im: -2 });
    assert.deepEqual(parse('CPLX    = (3, 4)').value, { re: 3, im: 4 });
  });

  test('COMMENT, HISTORY, blank and value-indicator-less cards are commentary', () => {
    assert.deepEqual(pick(parse('COMMENT ==================================================================')), ['COMMENT', 'commentary', '==================================================================', undefined]);
    assert.deepEqual(pick(parse('HISTORY = not a value')), ['HISTORY', 'commentary', '= not a value', undefined]);
    assert.deepEqual(pick(parse('        blank keyword text')), ['', 'commentary', 'blank keyword text', undefined]);
    assert.equal(parse('KEYWORD no value indicator').kind, 'commentary');
  });

  test('HIERARCH cards carry the long keyword', () => {
    const card = parse("HIERARCH AZCAM-HEAD = 'OK      ' / AzCam Header flag");
    assert.deepEqual(pick(card), ['AZCAM-HEAD', 'string', 'OK', 'AzCam Header flag']);
    assert.equal(card.hierarch, true);
  });

  test('a value field that fits no type is kept verbatim, not rejected', () => {
    assert.deepEqual(pick(parse('ODD     = abc / comment')), ['ODD', 'unparsed', 'abc', 'comment']);
    assert.equal(parse("ODD     = 'unterminated").kind, 'unparsed');
  });

  test('a non-printable byte is a BadCardError naming the column and the byte offset', () => {
    const image = pad('KEY     = 1').replace(/.$/, '\x00');
    assert.throws(() => checkCardImage(image, { path: 'f.fits', hduIndex: 0, offset: 800 }), (err: unknown) => {
      assert.ok(err instanceof BadCardError);
      assert.equal(err.code, 'fits-bad-card');
      assert.match(err.message, /^f\.fits, HDU 0, byte 879: .*0x00 at column 80/);
      return true;
    });
  });
});

describe('formatting cards', () => {
  test('whole card images as azcam/astropy write them', () => {
    assert.equal(fresh({ keyword: 'DEWAR', kind: 'string', value: 'MODS2R', comment: 'CCD Dewar' }), pad("DEWAR   = 'MODS2R  '           / CCD Dewar"));
    assert.equal(fresh({ keyword: 'NAXIS', kind: 'integer', value: 0, comment: 'number of array dimensions' }), pad('NAXIS   =                    0 / number of array dimensions'));
    assert.equal(fresh({ keyword: 'EXTEND', kind: 'logical', value: true, comment: undefined }), pad('EXTEND  =                    T'));
    assert.equal(fresh({ keyword: 'ELEVATIO', kind: 'real', value: 3221, comment: 'Site Elevation [meters]' }), pad('ELEVATIO=               3221.0 / Site Elevation [meters]'));
    assert.equal(fresh({ keyword: 'BASETEMP', kind: 'real', value: -999.9, comment: 'x' }), pad('BASETEMP=               -999.9 / x'));
    assert.equal(fresh({ keyword: 'NSTYPE', kind: 'string', value: '', comment: 'Non-sidereal target type' }), pad("NSTYPE  = ''                   / Non-sidereal target type"));
    assert.equal(fresh({ keyword: 'UNDEF', kind: 'undefined', value: null, comment: 'c' }), pad('UNDEF   =                      / c'));
    assert.equal(fresh({ keyword: 'COMMENT', kind: 'commentary', value: 'MODS', comment: undefined }), pad('COMMENT MODS'));
    assert.equal(fresh({ keyword: 'AZCAM-HEAD', kind: 'string', value: 'OK', comment: 'AzCam Header flag', hierarch: true }), pad("HIERARCH AZCAM-HEAD = 'OK      ' / AzCam Header flag"));
    assert.equal(fresh({ keyword: 'CPLX', kind: 'complex', value: { re: 1, im: -2 }, comment: undefined }), pad('CPLX    =          (1.0, -2.0)'));
  });

  test('quotes inside strings are doubled before padding to 8 characters', () => {
    assert.equal(fresh({ keyword: 'OBJECT', kind: 'string', value: "O'Hara", comment: undefined }), pad("OBJECT  = 'O''Hara '"));
  });

  test('reals are written with a decimal point or exponent and read back to the same double', () => {
    assert.equal(formatReal(1), '1.0');
    assert.equal(formatReal(1e-10), '1.0E-10');
    assert.equal(formatReal(6.02e23), '6.02E+23');
    assert.equal(formatReal(61055.17538722223), '61055.17538722223');
    assert.equal(formatReal(-0), '-0.0');
    let seed = 12345;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 20000; i++) {
      const x = (next() - 0.5) * 10 ** Math.floor(next() * 60 - 30);
      const card = parse(fresh({ keyword: 'X', kind: 'real', value: x, comment: undefined }).trimEnd());
      assert.equal(card.kind, 'real');
      assert.equal(card.value, x, `${x} did not survive a round trip`);
    }
  });

  test('NaN, infinities, non-ASCII text and bad keywords are refused with a typed error', () => {
    assert.throws(() => fresh({ keyword: 'T', kind: 'real', value: Number.NaN, comment: undefined }), CardFormatError);
    assert.throws(() => fresh({ keyword: 'T', kind: 'real', value: Infinity, comment: undefined }), CardFormatError);
    assert.throws(() => fresh({ keyword: 'T', kind: 'string', value: 'café', comment: undefined }), CardFormatError);
    assert.throws(() => fresh({ keyword: 'BAD=KEY', kind: 'integer', value: 1, comment: undefined }), CardFormatError);
  });

  test('a value that does not match the kind is refused, naming the keyword, never written as [object Object]', () => {
    const complex = { re: 1.5, im: -2 };
    for (const kind of ['string', 'unparsed', 'commentary', 'integer'] as const) {
      assert.throws(() => fresh({ keyword: 'MISFIT', kind, value: complex, comment: undefined }), (err: unknown) => {
        assert.ok(err instanceof CardFormatError, `${kind}: ${String(err)}`);
        assert.match(err.message, /"\(1\.5, -2\)" \(complex\)/);
        assert.equal(err.location.keyword, 'MISFIT');
        return true;
      });
    }
    // Header.set takes an explicit kind with any value: the mismatch fails at set, not at write.
    const h = new Header([]);
    assert.throws(() => h.set('MISFIT', complex, { kind: 'string' }), CardFormatError);
    assert.equal(h.has('MISFIT'), false);
  });

  test('valueText: T/F, shortest numbers, (re, im), empty for undefined', () => {
    assert.equal(valueText(true), 'T');
    assert.equal(valueText(false), 'F');
    assert.equal(valueText(2.5), '2.5');
    assert.equal(valueText(12345678901234567890n), '12345678901234567890');
    assert.equal(valueText({ re: 1, im: -0.5 }), '(1, -0.5)');
    assert.equal(valueText(null), '');
    assert.equal(valueText(' text '), ' text ');
  });

  test('a long comment is cut at column 80', () => {
    const image = fresh({ keyword: 'A', kind: 'integer', value: 1, comment: 'c'.repeat(100) });
    assert.equal(image.length, 80);
    assert.ok(image.endsWith('ccc'));
  });

  test('long strings use CONTINUE cards and read back whole, even with quotes at the split', () => {
    for (const text of ['x'.repeat(200), `${'y'.repeat(66)}'z${"'".repeat(5)}tail`, "'".repeat(90)]) {
      const image = fresh({ keyword: 'LONG', kind: 'string', value: text, comment: 'long one' });
      assert.equal(image.length % 80, 0);
      assert.ok(image.length > 80);
      const cards = image.match(/.{80}/g)!.map((c) => parseCard(c));
      assert.equal(cards[1]!.keyword, 'CONTINUE');
      const joined = cards.map((c) => valueText(c.value)).map((v, i, all) => (i < all.length - 1 ? v.slice(0, -1) : v)).join('');
      assert.equal(joined, text);
    }
  });
});

function pick(card: Card): [string, string, unknown, string | undefined] {
  return [card.keyword, card.kind, card.value, card.comment];
}
