import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  arrayGrid, blockFactor, downsample, downsampleYielding, fitsBytesGrid, makeQuickLook, MissingMergedError, stretchToGray, writeQuickLook,
} from '../../src/quicklook/index.js';
import { encodeFloat32BigEndian } from '../../src/fits/index.js';
import { generateRaw } from '../../src/simulate/index.js';
import { generateAndProcess } from '../helpers/processing.js';
import { tempDir } from '../helpers/temp.js';
import { decodePng } from './png-decode.js';

test('the block factor is the smallest integer that fits the long side: a full frame becomes 922 × 344', () => {
  assert.equal(blockFactor(8292, 3088, 1024), 9);
  assert.equal(blockFactor(1024, 1024, 1024), 1);
  assert.equal(blockFactor(1025, 10, 1024), 2);
  assert.equal(blockFactor(10, 5000, 1024), 5);
  const d = downsample(arrayGrid(8292, 3, new Float64Array(8292 * 3)), 1024);
  assert.deepEqual([d.width, d.height, d.factor], [922, 1, 9]);
  assert.throws(() => blockFactor(10, 10, 0), /positive integer/);
});

test('downsample averages blocks, ignores NaN, keeps partial edge blocks and FITS row order', () => {
  // 5 × 3, factor 2 → 3 × 2; rows are listed bottom (FITS row 1) first.
  const values = [
    1, 2, 3, 4, 5,
    3, 4, Number.NaN, 8, 9,
    10, 20, Number.NaN, Number.NaN, 7,
  ];
  const d = downsample(arrayGrid(5, 3, values), 4);
  assert.deepEqual([d.width, d.height, d.factor], [3, 2, 2]);
  assert.deepEqual([...d.values], [
    (1 + 2 + 3 + 4) / 4, (3 + 4 + 8) / 3, (5 + 9) / 2,
    (10 + 20) / 2, Number.NaN, 7,
  ]);
  const same = downsample(arrayGrid(2, 2, [1, 2, 3, 4]), 1024);
  assert.deepEqual([...same.values], [1, 2, 3, 4]);
});

test('FITS bytes are decoded on access with BITPIX, BZERO and BSCALE', () => {
  const f32 = fitsBytesGrid(2, 2, encodeFloat32BigEndian(Float32Array.from([1.5, -2, 3, Number.NaN])), -32);
  assert.equal(f32.at(0, 0), 1.5);
  assert.equal(f32.at(1, 0), -2);
  assert.ok(Number.isNaN(f32.at(1, 1)));
  const i16 = Buffer.alloc(4);
  i16.writeInt16BE(-32768, 0);
  i16.writeInt16BE(32767, 2);
  const u16 = fitsBytesGrid(2, 1, i16, 16, 32768, 1);
  const row = new Float64Array(2);
  u16.row(0, row);
  assert.deepEqual([...row], [0, 65535]);
});

test('the linear stretch maps z1 to black and z2 to white, clips, shows NaN white and puts row 1 at the bottom', () => {
  const gray = stretchToGray({ width: 3, height: 2, factor: 1, values: Float32Array.from([0, 5, 10, -3, 13, Number.NaN]) }, 0, 10);
  // PNG top row = the last image row.
  assert.deepEqual([...gray], [0, 255, 255, 0, 128, 255]);
  const flat = stretchToGray({ width: 2, height: 1, factor: 1, values: Float32Array.from([4, 5]) }, 4, 4);
  assert.deepEqual([...flat], [0, 255]);
});

test('a processed file\'s quick look shows Q1 bottom-left, Q2 bottom-right, Q3 top-left, Q4 top-right, as ds9', async (t) => {
  const dir = await tempDir(t);
  const p = await generateAndProcess(dir, { roi: '1k', seed: 4 });
  for (const maxSize of [1024, 256]) {
    const look = await makeQuickLook(p.outPath, { maxSize });
    const png = decodePng(look.png);
    assert.deepEqual([png.width, png.height], [look.width, look.height]);
    assert.deepEqual(look.source, { width: 1024, height: 1024 });
    const f = look.factor;
    assert.equal(f, maxSize === 1024 ? 1 : 4);
    // Noise around 0 DN above bias: zscale gives a few DN either side.
    assert.ok(look.z1 < 0 && look.z1 > -20 && look.z2 > 0 && look.z2 < 20, `z1 ${look.z1}, z2 ${look.z2}`);
    const pixel = (x: number, y: number) => png.pixels[y * png.width + x]!;
    for (const mark of p.raw.marks) {
      // Centre of the mark (1-based MERGED) → its block → PNG column and row (rows flipped).
      const bx = Math.floor(((mark.merged.x1 + mark.merged.x2) / 2 - 1) / f);
      const by = Math.floor(((mark.merged.y1 + mark.merged.y2) / 2 - 1) / f);
      const px = bx;
      const py = png.height - 1 - by;
      assert.equal(pixel(px, py), 255, `Q${mark.quadrant} mark at PNG (${px}, ${py}), maxSize ${maxSize}`);
      const right = px >= png.width / 2;
      const top = py < png.height / 2;
      const expected = { 1: [false, false], 2: [true, false], 3: [false, true], 4: [true, true] }[mark.quadrant];
      assert.deepEqual([right, top], expected, `Q${mark.quadrant} lands right=${right} top=${top}`);
    }
    // With fixed limits 20500…24500 DN the marks (20000 + 1000·q DN above bias) get distinct
    // grey levels, so a flip in either direction would put the wrong level in a corner.
    const levels = decodePng((await makeQuickLook(p.outPath, { maxSize, limits: { z1: 20500, z2: 24500 } })).png);
    for (const mark of p.raw.marks) {
      const x = Math.floor(((mark.merged.x1 + mark.merged.x2) / 2 - 1) / f);
      const y = levels.height - 1 - Math.floor(((mark.merged.y1 + mark.merged.y2) / 2 - 1) / f);
      const expected = Math.round(((mark.level - 20500) / 4000) * 255);
      const got = levels.pixels[y * levels.width + x]!;
      assert.ok(Math.abs(got - expected) <= 3, `Q${mark.quadrant}: grey ${got} at PNG (${x}, ${y}), expected ${expected}`);
    }
    // The trace (62% of the height from FITS row 1) is the brightest row, in the upper half.
    let brightest = 0;
    let best = -1;
    for (let y = 0; y < png.height; y++) {
      let sum = 0;
      for (let x = 0; x < png.width; x++) sum += pixel(x, y);
      if (sum > best) [best, brightest] = [sum, y];
    }
    assert.ok(Math.abs(brightest - Math.round(png.height * 0.38)) <= 2 + 8 / f, `trace on PNG row ${brightest} of ${png.height}`);
  }
});

test('a file without MERGED fails with a typed error naming the file', async (t) => {
  const dir = await tempDir(t);
  const raw = generateRaw({ roi: '1k' });
  const path = join(dir, raw.name);
  await writeFile(path, raw.bytes);
  await assert.rejects(makeQuickLook(path), (err: unknown) => {
    assert.ok(err instanceof MissingMergedError);
    assert.equal(err.code, 'quicklook-no-merged');
    assert.ok(err.message.includes(path), err.message);
    return true;
  });
});

test('writeQuickLook replaces the PNG atomically, and a failure leaves the previous one in place', async (t) => {
  const dir = await tempDir(t);
  const p = await generateAndProcess(dir, { roi: '1k', bin: '2x2', seed: 8 });
  const out = join(dir, 'mods1b.png');
  await writeFile(out, 'previous picture');
  const look = await writeQuickLook(p.outPath, out, { maxSize: 300 });
  assert.deepEqual(await readFile(out), look.png);
  assert.deepEqual([look.width, look.height, look.factor], [256, 256, 2]);
  const raw = generateRaw({ roi: '1k', bin: '2x2' });
  const rawPath = join(dir, raw.name);
  await writeFile(rawPath, raw.bytes);
  await assert.rejects(writeQuickLook(rawPath, out), MissingMergedError);
  assert.deepEqual(await readFile(out), look.png);
  const leftovers = (await readdir(dir)).filter((n) => n.startsWith('.'));
  assert.deepEqual(leftovers, []);
});

test('downsampleYielding: the same blocks as downsample, and the event loop runs between slices', async () => {
  const width = 301;
  const height = 257;
  const values = Float64Array.from({ length: width * height }, (_, i) => (i % 7 === 0 ? Number.NaN : Math.sin(i) * 100));
  const grid = arrayGrid(width, height, values);
  const expected = downsample(grid, 64);
  let turns = 0;
  const ticking = setInterval(() => { turns++; }, 0);
  // A slice of 0 ms gives the loop back after every row of blocks.
  const got = await downsampleYielding(grid, 64, 0);
  clearInterval(ticking);
  assert.deepEqual({ ...got, values: [...got.values] }, { ...expected, values: [...expected.values] });
  assert.ok(turns > 0, 'timers ran while it worked');
});
