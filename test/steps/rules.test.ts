import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectorSections } from '../../src/steps/fix-detsec.js';
import { regionStats, uint16RegionStats } from '../../src/steps/overscan.js';
import { parseTemperature } from '../../src/steps/fix-temps.js';
import { weatherLink } from '../../src/steps/fix-misc.js';
import type { Card } from '../../src/fits/index.js';

// Per-amplifier geometry of raw-format.md §3 (2026 detector): [ROI name, NAXIS1, NAXIS2, CCDROI].
const ROIS: Array<[string, number, number, string]> = [
  ['full', 4178, 1544, '[1:8292,1:3088]'],
  ['3k', 1576, 1544, '[2603:5690,1:3088]'],
  ['1k', 544, 512, '[3635:4658,1033:2056]'],
  ['4k', 2080, 1544, '[2099:6194,1:3088]'],
];

test('unbinned sections tile the ROI exactly: IM1/IM3 end at REF-PIX1, IM2/IM4 start after it', () => {
  for (const [name, nc, nr, ccdroi] of ROIS) {
    const s = detectorSections(4146, 1544, nc, nr, 32);
    const [x1, x2, y1, y2] = ccdroi.match(/\d+/g)!.map(Number) as [number, number, number, number];
    assert.deepEqual(s.detsec, [
      `[${x1}:4146,${y1}:1544]`, `[${x2}:4147,${y1}:1544]`, `[${x1}:4146,1545:${y2}]`, `[${x2}:4147,1545:${y2}]`,
    ], name);
    // The reference's LTV values (raw-format.md §8.2 table): c0 + nc − ncb + 1 and −r0.
    assert.equal(s.ltv1Flipped, 4146 + nc - 32 + 1, name);
    assert.equal(s.ltv2Upper, -1544, name);
  }
});

test('full frame IM2 is [8292:4147,1:1544], not the reference\'s [8356:4147,…] (behaviour.md §9 row 1)', () => {
  assert.equal(detectorSections(4146, 1544, 4178, 1544, 32).detsec[1], '[8292:4147,1:1544]');
});

test('binned sections are in unbinned detector pixels: a 2x2 1k ROI covers the same detector area', () => {
  // 1k preset binned 2x2: NAXIS1 = floor((1024/2)/2) + 32 = 288, NAXIS2 = 256.
  const s = detectorSections(4146, 1544, 288, 256, 32, 2, 2);
  assert.deepEqual(s.detsec, ['[3635:4146,1033:1544]', '[4658:4147,1033:1544]', '[3635:4146,1545:2056]', '[4658:4147,1545:2056]']);
  // LTV puts the centre of the first binned pixel (detector column 4657.5, row 1545.5) at pixel 1.
  assert.equal(s.ltv1Flipped, 1 + 4657.5 / 2);
  assert.equal(s.ltv2Upper, 1 - 1545.5 / 2);
});

function numpyLike(values: number[]): { median: number; std: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  return { median, std: Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / n) };
}

test('overscan median and population std match a direct computation, odd and even counts', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const [w, h, r0, r1, c0, c1] of [[40, 20, 2, 18, 10, 40], [41, 9, 2, 7, 38, 41], [5, 5, 0, 5, 0, 5]] as const) {
    const pixels = new Uint16Array(w * h).map(() => 1000 + Math.floor(rand() * 12) + (rand() < 0.01 ? 30000 : 0));
    const region: number[] = [];
    for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) region.push(pixels[r * w + c]!);
    const expected = numpyLike(region);
    const fast = uint16RegionStats(pixels, w, r0, r1, c0, c1);
    const generic = regionStats((i) => pixels[i]!, w, r0, r1, c0, c1);
    for (const s of [fast, generic]) {
      assert.equal(s.median, expected.median);
      assert.ok(Math.abs(s.std - expected.std) < 1e-9 * expected.std, `${s.std} vs ${expected.std}`);
      assert.equal(s.count, region.length);
    }
  }
});

test('a median of integers is an integer or a half', () => {
  const pixels = Uint16Array.from([1020, 1021, 1022, 1023]);
  assert.equal(uint16RegionStats(pixels, 4, 0, 1, 0, 4).median, 1021.5);
  assert.equal(uint16RegionStats(pixels, 4, 0, 1, 0, 3).median, 1021);
});

test('CONPARS temperature texts: decimals read, nan/inf/empty/garbage refused with a reason', () => {
  assert.deepEqual(parseTemperature('-106.011'), { value: -106.011 });
  assert.deepEqual(parseTemperature(' 23.819 '), { value: 23.819 });
  assert.deepEqual(parseTemperature('1e2'), { value: 100 });
  for (const bad of ['nan', 'inf', '-Infinity', '', 'abc', '1.2.3']) assert.ok('reason' in parseTemperature(bad), bad);
  assert.deepEqual(parseTemperature(undefined), { reason: 'row missing' });
});

test('LBTWLINK: 1 is Up, other integers Down, anything else Unknown; Up/Down kept on reprocessing', () => {
  const c = (kind: Card['kind'], value: Card['value']): Card => ({ keyword: 'LBTWLINK', kind, value, comment: undefined });
  assert.equal(weatherLink(c('string', '1')), 'Up');
  assert.equal(weatherLink(c('string', '0')), 'Down');
  assert.equal(weatherLink(c('integer', 1)), 'Up');
  assert.equal(weatherLink(c('integer', 7)), 'Down');
  assert.equal(weatherLink(c('string', 'True')), 'Unknown');
  assert.equal(weatherLink(c('string', '')), 'Unknown');
  assert.equal(weatherLink(undefined), 'Unknown');
  assert.equal(weatherLink(c('string', 'Up')), 'Up');
  assert.equal(weatherLink(c('string', 'Down')), 'Down');
});
