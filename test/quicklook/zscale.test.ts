import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { arrayGrid, gridSamples, zscale, zscaleFromSamples } from '../../src/quicklook/index.js';
import { createPrng } from '../../src/simulate/prng.js';
import { tempDir } from '../helpers/temp.js';
import { ASTROPY_MISSING, astropyPython, runPython, skipUnless } from '../helpers/tools.js';

const MEAN = 1000;
const SIGMA = 10;

function gaussianImage(width: number, height: number, seed: number): Float64Array {
  const prng = createPrng(seed);
  const values = new Float64Array(width * height);
  for (let i = 0; i < values.length; i++) values[i] = MEAN + SIGMA * prng.gaussian();
  return values;
}

/**
 * astropy's ZScaleInterval on each array (float64, little-endian files): with n_samples = the
 * array's length (every value is a sample) for `all`, else astropy's own sampling.
 */
const ASTROPY_ZSCALE = String.raw`
import sys, json, numpy as np
from astropy.visualization import ZScaleInterval
mode, contrast = sys.argv[1], float(sys.argv[2])
out = []
for path in sys.argv[3:]:
    a = np.fromfile(path, dtype='<f8')
    z = ZScaleInterval(n_samples=a.size, contrast=contrast) if mode == 'all' else ZScaleInterval(contrast=contrast)
    out.append([float(v) for v in z.get_limits(a)])
print(json.dumps(out))
`;

async function astropyLimits(dir: string, arrays: Float64Array[], mode: 'all' | 'default', contrast = 0.25): Promise<Array<[number, number]>> {
  const files: string[] = [];
  for (const [i, a] of arrays.entries()) {
    const file = join(dir, `case-${mode}-${i}.f8`);
    await writeFile(file, Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    files.push(file);
  }
  return JSON.parse(runPython(ASTROPY_ZSCALE, [mode, String(contrast), ...files])) as Array<[number, number]>;
}

test('zscale of Gaussian noise spans the mean ∓ about 3σ', () => {
  const { z1, z2, samples } = zscale(arrayGrid(640, 480, gaussianImage(640, 480, 1)));
  assert.ok(samples >= 950 && samples <= 1050, `samples ${samples}`);
  assert.ok(z1 > MEAN - 4 * SIGMA && z1 < MEAN - 2 * SIGMA, `z1 = ${z1}`);
  assert.ok(z2 > MEAN + 2 * SIGMA && z2 < MEAN + 4 * SIGMA, `z2 = ${z2}`);
});

test('given the same samples, the fit agrees with astropy ZScaleInterval to rounding', async (t) => {
  if (skipUnless(t, astropyPython() !== null, ASTROPY_MISSING)) return;
  const dir = await tempDir(t);
  const prng = createPrng(3);
  const noise = (n: number, f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
  const cases: Array<[string, Float64Array]> = [
    ['Gaussian noise', noise(1000, () => MEAN + SIGMA * prng.gaussian())],
    ['noise with a bright 5% spectrum', noise(1200, (i) => (i % 20 === 0 ? 5000 + 100 * prng.gaussian() : SIGMA * prng.gaussian()))],
    ['quantised bias residuals (whole DN)', noise(1024, () => Math.round(1.5 * prng.gaussian()))],
    // Not an exact ramp: its residuals would be rounding noise, and which of them pass 2.5σ
    // depends on the last bit of the least-squares solution (numpy's lstsq or ours).
    ['a ramp with a little noise', noise(500, (i) => 3 * i + 7 + 0.5 * prng.gaussian())],
    ['heavy tail (60% outliers)', noise(800, (i) => (i % 5 < 3 ? 1e4 * prng.next() : prng.gaussian()))],
    ['with NaN and infinities', noise(600, (i) => (i % 50 === 0 ? Number.NaN : i % 77 === 0 ? Infinity : prng.gaussian()))],
    ['four values', Float64Array.from([3, 1, 4, 1])],
    ['a constant', noise(300, () => 42)],
    ['two levels', noise(400, (i) => (i < 150 ? 0 : 100))],
  ];
  // At the default contrast most limits are the sample extremes; at contrast 1 the fitted
  // slope and the median decide both, so the fit and the rejection are compared too.
  let fitted = 0;
  for (const contrast of [0.25, 1]) {
    const theirs = await astropyLimits(dir, cases.map(([, a]) => a), 'all', contrast);
    for (const [i, [name, values]] of cases.entries()) {
      const ours = zscaleFromSamples(values, { contrast });
      const [z1, z2] = theirs[i]!;
      const tolerance = 1e-9 * Math.max(1, Math.abs(z1), Math.abs(z2));
      assert.ok(Math.abs(ours.z1 - z1) <= tolerance, `${name}, contrast ${contrast}: z1 ${ours.z1} vs astropy ${z1}`);
      assert.ok(Math.abs(ours.z2 - z2) <= tolerance, `${name}, contrast ${contrast}: z2 ${ours.z2} vs astropy ${z2}`);
      const finite = [...values].filter(Number.isFinite);
      if (ours.z1 > Math.min(...finite) && ours.z2 < Math.max(...finite)) fitted++;
    }
  }
  assert.ok(fitted >= 4, `only ${fitted} cases had both limits from the fit`);
});

test('on whole noise images, grid sampling agrees with astropy\'s own sampling within sampling noise', async (t) => {
  if (skipUnless(t, astropyPython() !== null, ASTROPY_MISSING)) return;
  const dir = await tempDir(t);
  const sizes: Array<[number, number, number]> = [[640, 480, 1], [829, 309, 2], [1024, 1024, 3]];
  const images = sizes.map(([w, h, seed]) => gaussianImage(w, h, seed));
  // contrast 1: the limits come from the fitted slope (about ±1.4σ), a stable statistic.
  // contrast 0.25 (the default): they are the extremes of ~1000 samples, which scatter by ~0.5σ.
  for (const [contrast, tolerance] of [[1, 0.15 * SIGMA], [0.25, 1.2 * SIGMA]] as const) {
    const theirs = await astropyLimits(dir, images, 'default', contrast);
    for (const [i, [w, h]] of sizes.entries()) {
      const ours = zscale(arrayGrid(w, h, images[i]!), { contrast });
      const [z1, z2] = theirs[i]!;
      assert.ok(Math.abs(ours.z1 - z1) < tolerance, `${w}x${h} contrast ${contrast}: z1 ${ours.z1} vs astropy ${z1}`);
      assert.ok(Math.abs(ours.z2 - z2) < tolerance, `${w}x${h} contrast ${contrast}: z2 ${ours.z2} vs astropy ${z2}`);
    }
  }
});

test('the sample grid covers the whole image, even where a flat stride would fall on one column', () => {
  // 1000 × 1000: astropy's flat stride is 1000, so all its samples are in column 0.
  const width = 1000;
  const height = 1000;
  const image = arrayGrid(width, height, Float64Array.from({ length: width * height }, (_, i) => i));
  const samples = gridSamples(image, 1000);
  const columns = new Set([...samples].map((v) => v % width));
  const rows = new Set([...samples].map((v) => Math.floor(v / width)));
  assert.ok(samples.length >= 900 && samples.length <= 1100, `samples ${samples.length}`);
  assert.ok(columns.size >= 30 && rows.size >= 30, `${columns.size} columns, ${rows.size} rows`);
  assert.ok(Math.min(...columns) < 50 && Math.max(...columns) > width - 50);
  assert.ok(Math.min(...rows) < 50 && Math.max(...rows) > height - 50);
  // A wide image gets more columns than rows.
  const wide = gridSamples(arrayGrid(8000, 1000, new Float64Array(8_000_000)), 1000);
  assert.ok(wide.length >= 900 && wide.length <= 1100);
  // An image smaller than the sample count is sampled whole.
  assert.equal(gridSamples(arrayGrid(20, 10, new Float64Array(200)), 1000).length, 200);
});

test('degenerate inputs: no finite pixel, fewer than 5 samples, a constant image', () => {
  assert.deepEqual(zscaleFromSamples([]), { z1: 0, z2: 0, samples: 0 });
  assert.deepEqual(zscaleFromSamples([Number.NaN, Infinity, -Infinity]), { z1: 0, z2: 0, samples: 0 });
  assert.deepEqual(zscaleFromSamples([5, Number.NaN, 2]), { z1: 2, z2: 5, samples: 2 });
  assert.deepEqual(zscaleFromSamples(new Float64Array(100).fill(7)), { z1: 7, z2: 7, samples: 100 });
});

test('a lower contrast widens the limits (up to the sample extremes)', () => {
  const values = gaussianImage(1000, 1, 9);
  const narrow = zscaleFromSamples(values, { contrast: 1 });
  const wide = zscaleFromSamples(values, { contrast: 0.1 });
  assert.ok(narrow.z1 > wide.z1 && narrow.z2 < wide.z2, `${JSON.stringify(narrow)} vs ${JSON.stringify(wide)}`);
  const range = narrow.z2 - narrow.z1;
  assert.ok(range > 2 * SIGMA && range < 3.5 * SIGMA, `contrast 1 gives about ±1.4σ: ${JSON.stringify(narrow)}`);
});
