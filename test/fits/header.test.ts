import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Header } from '../../src/fits/index.js';

function headerBytes(lines: string[]): Buffer {
  const text = [...lines, 'END'].map((l) => l.padEnd(80)).join('');
  const out = Buffer.alloc(Math.ceil(text.length / 2880) * 2880, 0x20);
  out.write(text, 'latin1');
  return out;
}

const sample = headerBytes([
  'SIMPLE  =                    T / conforms',
  'BITPIX  =                    8',
  'NAXIS   =                    0',
  "DEWAR   = 'MODS1B  '           / CCD Dewar",
  'REF-PIX2=                 1544 / Reference pixel 2',
  'COMMENT trailing commentary',
]);

test('an unmodified header serialises to its original bytes', () => {
  const { header, byteLength } = Header.parse(sample)!;
  assert.equal(byteLength, 2880);
  assert.ok(header.toBuffer().equals(sample));
  assert.equal(header.modified, false);
});

test('set keeps the position and the comment of an existing card', () => {
  const { header } = Header.parse(sample)!;
  header.set('DEWAR', 'MODS2R');
  assert.equal(header.indexOf('DEWAR'), 3);
  assert.equal(header.get('DEWAR')!.comment, 'CCD Dewar');
  assert.ok(header.toBuffer().toString('latin1').includes("DEWAR   = 'MODS2R  '           / CCD Dewar"));
  assert.equal(header.modified, true);
});

test('a new keyword goes after the last non-commentary card', () => {
  const { header } = Header.parse(sample)!;
  header.set('UNIQNAME', 'mods1b.20260115.041233.fits', { comment: 'Unique filename' });
  assert.equal(header.indexOf('UNIQNAME'), 5);
  assert.equal(header.cards[6]!.keyword, 'COMMENT');
});

test('a whole number keeps the kind of the card it replaces, and can be forced real', () => {
  const { header } = Header.parse(sample)!;
  header.set('REF-PIX2', 1545);
  assert.equal(header.get('REF-PIX2')!.kind, 'integer');
  header.set('OBJEPOCH', 2000, { kind: 'real', comment: 'Target epoch' });
  assert.match(header.toBuffer().toString('latin1'), /OBJEPOCH=               2000\.0 \/ Target epoch/);
});

test('delete removes every card with the keyword', () => {
  const { header } = Header.parse(sample)!;
  assert.equal(header.delete('DEWAR'), 1);
  assert.equal(header.has('DEWAR'), false);
  assert.equal(header.delete('DEWAR'), 0);
});

test('a header that grows past 36 cards takes another block', () => {
  const { header } = Header.parse(sample)!;
  for (let i = 0; i < 40; i++) header.set(`K${i}`, i);
  assert.equal(header.toBuffer().length, 5760);
  assert.equal(header.byteLength, 5760);
  const reparsed = Header.parse(header.toBuffer())!;
  assert.equal(reparsed.header.number('K39'), 39);
});

test('CONTINUE cards join into one long string value', () => {
  const bytes = headerBytes([
    'SIMPLE  =                    T',
    "LONG    = 'first part &'",
    "CONTINUE  'second part&'",
    "CONTINUE  ' end' / the comment",
    'NEXT    =                    1',
  ]);
  const { header } = Header.parse(bytes)!;
  assert.equal(header.string('LONG'), 'first part second part end');
  assert.equal(header.get('LONG')!.comment, 'the comment');
  assert.equal(header.cards.length, 3);
  assert.ok(header.toBuffer().equals(bytes));
});

test('no END card means no header yet', () => {
  const bytes = Buffer.alloc(2880, 0x20);
  bytes.write('SIMPLE  =                    T'.padEnd(80), 'latin1');
  assert.equal(Header.parse(bytes), undefined);
});
