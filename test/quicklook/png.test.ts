import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { encodeGrayPng, paeth, PNG_SIGNATURE } from '../../src/quicklook/index.js';
import { createPrng } from '../../src/simulate/prng.js';
import { tempDir } from '../helpers/temp.js';
import { skipUnless } from '../helpers/tools.js';
import { crc32Table, decodePng, PYTHON_PNG_READER } from './png-decode.js';

const PYTHON3 = spawnSync('python3', ['-c', 'import zlib'], { encoding: 'utf8' }).status === 0;

/** Test pictures that favour different filters: noise (None), ramps along x (Sub) and y (Up), a mix. */
function pictures(): Array<{ name: string; width: number; height: number; pixels: Uint8Array }> {
  const prng = createPrng(7);
  const make = (name: string, width: number, height: number, f: (x: number, y: number) => number) => {
    const pixels = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels[y * width + x] = f(x, y) & 0xff;
    return { name, width, height, pixels };
  };
  return [
    make('noise', 37, 23, () => prng.int(0, 255)),
    make('x ramp', 64, 20, (x) => x * 4),
    make('y ramp', 20, 64, (_x, y) => y * 3),
    make('diagonal with noise', 50, 40, (x, y) => x + 2 * y + prng.int(0, 3)),
    make('one pixel', 1, 1, () => 200),
    make('one row', 300, 1, (x) => x),
    make('one column', 1, 300, (_x, y) => 255 - y),
  ];
}

test('the CRC-32 of node:zlib agrees with an independent table-driven CRC-32', () => {
  for (const text of ['', 'IEND', 'The quick brown fox jumps over the lazy dog']) {
    assert.equal(crc32(Buffer.from(text)), crc32Table(Buffer.from(text)));
  }
  assert.equal(crc32Table(Buffer.from('IEND')), 0xae426082); // every PNG ends with these CRC bytes
});

test('encoded PNGs have signature, IHDR, IDAT, IEND with valid CRCs and decode to the same pixels', () => {
  const filters = new Set<number>();
  for (const p of pictures()) {
    const png = encodeGrayPng(p.width, p.height, p.pixels);
    assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
    const decoded = decodePng(png);
    assert.deepEqual(decoded.chunkTypes, ['IHDR', 'IDAT', 'IEND'], p.name);
    assert.equal(decoded.width, p.width, p.name);
    assert.equal(decoded.height, p.height, p.name);
    assert.deepEqual(decoded.pixels, p.pixels, p.name);
    decoded.filters.forEach((f) => filters.add(f));
  }
  // The adaptive choice is exercised, so unfiltering of several types is checked above.
  assert.ok(filters.size >= 3, `filter types used: ${[...filters].join(', ')}`);
});

test('a PNG reader written in Python (zlib, binascii.crc32) reads the same size and pixels', async (t) => {
  if (skipUnless(t, PYTHON3, 'python3 not installed')) return;
  const dir = await tempDir(t);
  const cases = pictures();
  const files: string[] = [];
  for (const p of cases) {
    const file = join(dir, `${p.name.replace(/ /g, '-')}.png`);
    await writeFile(file, encodeGrayPng(p.width, p.height, p.pixels));
    files.push(file);
  }
  const r = spawnSync('python3', ['-c', PYTHON_PNG_READER, ...files], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const infos = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  cases.forEach((p, i) => {
    assert.deepEqual(infos[i], {
      width: p.width, height: p.height, depth: 8, colour: 0, interlace: 0, types: ['IHDR', 'IDAT', 'IEND'],
      sha256: createHash('sha256').update(p.pixels).digest('hex'),
    }, p.name);
  });
});

test('the Paeth predictor picks the neighbour closest to a + b − c, ties in the order a, b, c', () => {
  assert.equal(paeth(10, 20, 10), 20); // p = 20: b exact
  assert.equal(paeth(20, 10, 10), 20); // p = 20: a exact
  assert.equal(paeth(10, 10, 10), 10);
  assert.equal(paeth(0, 255, 255), 0); // p = 0
  assert.equal(paeth(100, 50, 60), 100); // p = 90: pa 10, pb 40, pc 30
  assert.equal(paeth(50, 100, 70), 70); // p = 80: pa 30, pb 20, pc 10
});

test('encodeGrayPng rejects an empty size and too few pixels', () => {
  assert.throws(() => encodeGrayPng(0, 5, new Uint8Array(0)), RangeError);
  assert.throws(() => encodeGrayPng(4, 4, new Uint8Array(15)), /needs 16 pixels, got 15/);
});
