import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BadCardError, BadHeaderError, bufferSource, FitsError, findHdu, NotFitsError, readHdus, readImage,
  readStructure, readTable, TruncatedFitsError,
} from '../../src/fits/index.js';
import { smallMef } from '../helpers/small-fits.js';

test('the structure of a small MEF: offsets, sizes and EXTNAMEs from the headers alone', async () => {
  const bytes = await smallMef();
  assert.equal(bytes.length, 14400);
  const s = await readStructure(bufferSource(bytes, 'small.fits'));
  assert.equal(s.complete, true);
  assert.equal(s.impliedLength, 14400);
  assert.deepEqual(s.hdus.map((h) => [h.type, h.extname ?? null, h.headerOffset, h.dataOffset, h.dataBytes]), [
    ['PRIMARY', null, 0, 2880, 0],
    ['IMAGE', 'IM1', 2880, 5760, 120],
    ['BINTABLE', 'CONPARS', 8640, 11520, 120],
  ]);
  assert.equal(findHdu(s.hdus, 'conpars')?.index, 2);
});

test('image values are decoded with BZERO/BSCALE and tables with NUL-padded strings', async () => {
  const source = bufferSource(await smallMef());
  const hdus = await readHdus(source);
  const image = await readImage(source, hdus[1]!);
  assert.deepEqual(image.axes, [10, 6]);
  assert.equal(image.values[0], 0);
  assert.equal(image.values[59], (59 * 37) % 65536);
  const table = await readTable(source, hdus[2]!);
  assert.deepEqual(table.rows[1], { Keyword: 'MOD10/TEMPB', Value: '-106.011' });
});

test('a file truncated at any byte is reported incomplete, by how much, never as complete', async () => {
  const bytes = await smallMef();
  // Cut exactly after an HDU, what remains is a shorter but complete FITS file: whether the
  // MODS extensions are all there is the readiness check's business, not the codec's.
  const hduEnds = new Set([2880, 8640]);
  for (let length = 1; length < bytes.length; length += length < 3000 || hduEndsNear(length) ? 1 : 7) {
    const s = await readStructure(bufferSource(bytes.subarray(0, length), 'cut.fits'));
    if (hduEnds.has(length)) {
      assert.equal(s.complete, true);
      continue;
    }
    assert.equal(s.complete, false, `length ${length}`);
    assert.ok(s.truncation instanceof TruncatedFitsError);
    assert.ok(s.impliedLength > length, `length ${length}: implied ${s.impliedLength}`);
  }
});

function hduEndsNear(length: number): boolean {
  return Math.abs(length - 8640) < 8;
}

test('a data unit cut short says how many bytes are missing', async () => {
  const bytes = await smallMef();
  const s = await readStructure(bufferSource(bytes.subarray(0, 14000), 'short.fits'));
  assert.equal(s.truncation?.message, 'short.fits, HDU 2, byte 14000: file is 400 bytes short: HDU 2 needs 14400 bytes, the file has 14000');
});

test('zero bytes where the next header should be mean "still being written"', async () => {
  const bytes = Buffer.concat([(await smallMef()).subarray(0, 8640), Buffer.alloc(2880)]);
  const s = await readStructure(bufferSource(bytes));
  assert.equal(s.complete, false);
  const partlyZero = Buffer.concat([(await smallMef()).subarray(0, 8640 + 400), Buffer.alloc(2480)]);
  assert.equal((await readStructure(bufferSource(partlyZero))).complete, false);
});

test('an empty file and a file that is not FITS are NotFitsError', async () => {
  await assert.rejects(readStructure(bufferSource(Buffer.alloc(0), 'empty.fits')), NotFitsError);
  await assert.rejects(readStructure(bufferSource(Buffer.from('This is bad data'), 'bad.fits')), (err: unknown) => {
    assert.ok(err instanceof NotFitsError);
    assert.match(err.message, /^bad\.fits, HDU 0, byte 0: does not start with SIMPLE = T/);
    return true;
  });
});

test('a non-integer NAXIS is a BadHeaderError naming the keyword and quoting the value as written', async () => {
  // A complex value is quoted as FITS writes it, not as [object Object].
  for (const [field, quoted] of [['2.5', '"2.5"'], ['(2, 0)', '"(2, 0)"']] as const) {
    const bytes = Buffer.from(await smallMef());
    bytes.write(`NAXIS   = ${field.padStart(20)}`, 160, 'latin1');
    await assert.rejects(readStructure(bufferSource(bytes, 'x.fits')), (err: unknown) => {
      assert.ok(err instanceof BadHeaderError);
      assert.equal(err.location.keyword, 'NAXIS');
      assert.ok(err.message.includes(`found ${quoted}`), err.message);
      return true;
    });
  }
});

test('junk after the last HDU is an error, not silently accepted', async () => {
  const bytes = Buffer.concat([await smallMef(), Buffer.alloc(2880, 0x41)]);
  await assert.rejects(readStructure(bufferSource(bytes)), BadHeaderError);
});

test('random garbage and randomly mutated headers end in a result or a typed FitsError', async () => {
  const good = await smallMef();
  let seed = 2026;
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  for (let i = 0; i < 400; i++) {
    const bytes = Buffer.from(good);
    const flips = 1 + Math.floor(rand() * 20);
    for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * 11520)] = Math.floor(rand() * 256);
    const cut = rand() < 0.3 ? Math.floor(rand() * bytes.length) : bytes.length;
    try {
      await readStructure(bufferSource(bytes.subarray(0, cut)));
    } catch (err) {
      assert.ok(err instanceof FitsError, `mutation ${i}: ${String(err)}`);
    }
  }
  for (let i = 0; i < 50; i++) {
    const junk = Buffer.alloc(1 + Math.floor(rand() * 9000));
    for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rand() * 256);
    await assert.rejects(readStructure(bufferSource(junk)), NotFitsError);
  }
});

test('a non-ASCII byte inside a header is a BadCardError with its offset', async () => {
  const bytes = Buffer.from(await smallMef());
  bytes[2880 + 85] = 0xe9;
  await assert.rejects(readStructure(bufferSource(bytes, 'acc.fits')), (err: unknown) => {
    assert.ok(err instanceof BadCardError);
    assert.equal(err.location.offset, 2965);
    assert.equal(err.location.hduIndex, 1);
    return true;
  });
});

test('reading into a longer caller buffer returns exactly the bytes read, from a file or a buffer', async (t) => {
  const { FileSource } = await import('../../src/fits/index.js');
  const { writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tempDir } = await import('../helpers/temp.js');
  const dir = await tempDir(t);
  const bytes = Buffer.from('0123456789');
  await writeFile(join(dir, 'f'), bytes);
  const file = await FileSource.open(join(dir, 'f'));
  t.after(() => file.close());
  for (const source of [file, bufferSource(bytes)]) {
    const into = Buffer.alloc(8, 0x78);
    assert.equal((await source.read(2, 3, into)).toString(), '234');
    assert.equal((await source.read(8, 5, into)).toString(), '89');
  }
});
