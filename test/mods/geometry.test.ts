import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  DETECTOR_2026, DETECTOR_DEC2025, MERGED_QUADRANTS, float32Decimal, mergedBoxToRaw, mergedToRaw, parseBinning, presetGeometry,
  quadrantBox, rawToMerged, resolveRoiPreset,
} from '../../src/mods/index.js';

describe('ROI presets and NAXIS (docs/raw-format.md §3)', () => {
  test('every preset name resolves, case-insensitively', () => {
    const names: Record<string, string> = {
      off: 'full', full: 'full', '8kx3k': 'full', '3k': '3k', '3kx3k': '3k', '1k': '1k', '1KX1K': '1k', '4k': '4k', '4kx3k': '4k',
    };
    for (const [name, preset] of Object.entries(names)) assert.equal(resolveRoiPreset(name), preset, name);
    assert.equal(resolveRoiPreset('2k'), undefined);
  });

  test('IMx NAXIS1 × NAXIS2, BIASSEC and DATASEC per preset match the table', () => {
    const table: Array<[string, number, number, string, string]> = [
      ['full', 4178, 1544, '[4147:4178,1:1544]', '[1:4146,1:1544]'],
      ['3k', 1576, 1544, '[1545:1576,1:1544]', '[1:1544,1:1544]'],
      ['1k', 544, 512, '[513:544,1:512]', '[1:512,1:512]'],
      ['4k', 2080, 1544, '[2049:2080,1:1544]', '[1:2048,1:1544]'],
    ];
    for (const [roi, n1, n2, biassec, datasec] of table) {
      const g = presetGeometry(roi);
      assert.deepEqual([g.naxis1, g.naxis2], [n1, n2], roi);
      for (const e of g.extensions) {
        assert.equal(e.BIASSEC, biassec, roi);
        assert.equal(e.DATASEC, datasec, roi);
        assert.equal(e.TRIMSEC, datasec, roi);
      }
    }
  });

  test('pre-2026 full frame is 4176 × 1544 per amplifier', () => {
    const g = presetGeometry('full', { col: 1, row: 1 }, DETECTOR_DEC2025);
    assert.deepEqual([g.naxis1, g.naxis2, g.detsize], [4176, 1544, '[1:8288,1:3088]']);
  });

  test('binning divides the data, never the 32 overscan columns', () => {
    const cases: Array<[string, string, number, number]> = [
      ['full', '2x2', 2073 + 32, 772],
      ['full', '1x2', 4146 + 32, 772],
      ['full', '3x3', 1382 + 32, 514],
      ['1k', '2x2', 256 + 32, 256],
      ['1k', '4x1', 128 + 32, 512],
      ['3k', '8x8', 193 + 32, 193],
    ];
    for (const [roi, bin, n1, n2] of cases) {
      const b = parseBinning(bin)!;
      const g = presetGeometry(roi, b);
      assert.deepEqual([g.naxis1, g.naxis2], [n1, n2], `${roi} ${bin}`);
      assert.equal(g.ccdsum, `${b.col} ${b.row}`);
      assert.equal(g.extensions[0]!.BIASSEC, `[${n1 - 31}:${n1},1:${n2}]`);
    }
  });

  test('parseBinning accepts CxR only', () => {
    assert.deepEqual(parseBinning('2x2'), { col: 2, row: 2 });
    assert.deepEqual(parseBinning('1X4'), { col: 1, row: 4 });
    for (const bad of ['2', '0x1', '2x', 'x2', '2*2', '17x1']) assert.equal(parseBinning(bad), undefined, bad);
  });
});

describe('section values azcam writes (docs/raw-format.md §5.2)', () => {
  test('full frame, current geometry: the §5.2 table', () => {
    const g = presetGeometry('full');
    const rows = g.extensions.map((e) => [
      e.DETSEC, e.CCDSEC, e.CCDSEC1, e.AMPSEC, e.ltm[0], e.ltv[0], e.ltv[1], e.atv[0], e.atv[1], e.crpix[0], e.crpix[1],
      `${e.extPos[0]},${e.extPos[1]}`, `${e.ampPix[0]},${e.ampPix[1]}`,
    ]);
    assert.deepEqual(rows, [
      ['[1:4146,1:1544]', '[1:4146,1:1544]', '[1:4146,1:1544]', '[1:4146,1:1544]', 1, 0, 0, 0, 0, 4145, 1543, '1,1', '1,1'],
      ['[8292:4147,1:1544]', '[8292:4147,1:1544]', '[8292:4146,1:1544]', '[4146:1,1:1544]', -1, 8293, 0, 8293, 0, 4146, 1543, '2,1', '8292,1'],
      ['[1:4146,1545:3088]', '[1:4146,1545:3088]', '[1:4146,1:1544]', '[1:4146,1:1544]', 1, 0, -1544, 0, -1544, 4145, -1, '1,2', '1,1545'],
      ['[8292:4147,1545:3088]', '[8292:4147,1545:3088]', '[8292:4146,1:1544]', '[4146:1,1:1544]', -1, 8293, -1544, 8293, -1544, 4146, -1, '2,2', '8292,1545'],
    ]);
    for (const e of g.extensions) {
      assert.equal(e.DETSIZE, '[1:8292,1:3088]');
      assert.equal(e.CCDSIZE, '[1:8292,1:3088]');
      assert.equal(e.ltm[1], 1);
      assert.equal(e.atm[1], 1);
      assert.equal(e.atm[0], e.ltm[0]);
    }
  });

  test('1Kx1K, Dec-2025 geometry: the real file mods2r.20251210.0009 exactly', () => {
    const g = presetGeometry('1k', { col: 1, row: 1 }, DETECTOR_DEC2025);
    assert.deepEqual(g.extensions.map((e) => e.DETSEC), [
      '[3633:4144,1033:1544]', '[8288:7777,1033:1544]', '[3633:4144,2577:3088]', '[8288:7777,2577:3088]',
    ]);
    assert.deepEqual(g.extensions.map((e) => e.CCDSEC), g.extensions.map((e) => e.DETSEC));
    assert.deepEqual([g.extensions[0]!.BIASSEC, g.extensions[0]!.DATASEC], ['[513:544,1:512]', '[1:512,1:512]']);
  });

  test('1Kx1K, current geometry: the same rule scaled (DETSEC ends at the amplifier edge)', () => {
    const g = presetGeometry('1k');
    assert.deepEqual(g.extensions.map((e) => e.DETSEC), [
      '[3635:4146,1033:1544]', '[8292:7781,1033:1544]', '[3635:4146,2577:3088]', '[8292:7781,2577:3088]',
    ]);
    // LTV follow DETSEC (wrong for ROIs, fixed later by dataMan).
    assert.deepEqual(g.extensions.map((e) => [e.ltv[0], e.ltv[1]]), [[-3634, -1032], [8293, -1032], [-3634, -2576], [8293, -2576]]);
  });

  test('binning: DETSEC stays unbinned, LTM/LTV/CRPIX/CD follow the binning', () => {
    const g = presetGeometry('full', { col: 2, row: 2 });
    const [im1, im2] = g.extensions;
    assert.equal(im1!.DETSEC, '[1:4146,1:1544]');
    assert.equal(im2!.DETSEC, '[8292:4147,1:1544]');
    assert.equal(im1!.CCDSEC1, '[1:2073,1:772]');
    assert.equal(im2!.CCDSEC1, '[4146:2073,1:772]');
    assert.deepEqual([im2!.ltm[0], im2!.ltm[1], im2!.ltv[0]], [-0.5, 0.5, 4146.5]);
    assert.deepEqual([im1!.crpix[0], im1!.crpix[1]], [2072.5, 771.5]);
    assert.equal(float32Decimal(im1!.cd[0]), 0.00055555557); // numpy: np.float32(1/3600) * 2
  });

  test('CD matrix: ±1/3600 as float32, ±0.0 off the diagonal', () => {
    const g = presetGeometry('full');
    const [im1, im2] = g.extensions;
    assert.equal(float32Decimal(im1!.cd[0]), 0.00027777778);
    assert.equal(float32Decimal(im2!.cd[0]), -0.00027777778);
    assert.ok(Object.is(im1!.cd[1], -0));
    assert.ok(Object.is(im2!.cd[2], -0));
  });

  test('the ROI must lie inside the CCD', () => {
    assert.throws(() => presetGeometry('full', { col: 1, row: 1 }, { ...DETECTOR_2026, cols: 8000 }), RangeError);
    assert.throws(() => presetGeometry('2k'), RangeError);
  });
});

describe('MERGED quadrant mapping (docs/raw-format.md §8.2)', () => {
  const size = { xtrim: 4146, ny: 1544 };

  test('quadrants and sources as data', () => {
    assert.deepEqual(MERGED_QUADRANTS.map((q) => [q.quadrant, q.source, q.flipRows, q.flipCols, q.modsquad]), [
      [1, 3, true, false, 'Q1 flip cols'],
      [2, 4, true, true, 'Q2 flip rows and cols'],
      [3, 1, true, false, 'Q3 flip cols'],
      [4, 2, true, true, 'Q4 flip rows and cols'],
    ]);
    assert.deepEqual(quadrantBox(1, size), { x1: 1, x2: 4146, y1: 1, y2: 1544 });
    assert.deepEqual(quadrantBox(4, size), { x1: 4147, x2: 8292, y1: 1545, y2: 3088 });
  });

  test('MERGED corners come from the expected raw pixels', () => {
    // Q1 lower-left corner = IM3 top row (flipud), first column.
    assert.deepEqual(mergedToRaw(1, 1, size), { ext: 3, quadrant: 1, x: 1, y: 1544 });
    // Q2 lower-right corner = IM4 top row, first column (flipud + fliplr).
    assert.deepEqual(mergedToRaw(8292, 1, size), { ext: 4, quadrant: 2, x: 1, y: 1544 });
    // Q3 upper-left corner = IM1 row 1, column 1.
    assert.deepEqual(mergedToRaw(1, 3088, size), { ext: 1, quadrant: 3, x: 1, y: 1 });
    // Q4 upper-right corner = IM2 row 1, column 1.
    assert.deepEqual(mergedToRaw(8292, 3088, size), { ext: 2, quadrant: 4, x: 1, y: 1 });
    // The amplifier-side columns meet in the middle.
    assert.deepEqual(mergedToRaw(4146, 1, size), { ext: 3, quadrant: 1, x: 4146, y: 1544 });
    assert.deepEqual(mergedToRaw(4147, 1, size), { ext: 4, quadrant: 2, x: 4146, y: 1544 });
  });

  test('rawToMerged inverts mergedToRaw everywhere on a small grid', () => {
    const small = { xtrim: 5, ny: 3 };
    for (let y = 1; y <= 6; y++) {
      for (let x = 1; x <= 10; x++) {
        const r = mergedToRaw(x, y, small);
        assert.deepEqual(rawToMerged(r.ext, r.x, r.y, small), { x, y });
      }
    }
    assert.throws(() => mergedToRaw(11, 1, small), RangeError);
  });

  test('a MERGED box maps to one raw box', () => {
    assert.deepEqual(mergedBoxToRaw({ x1: 17, x2: 24, y1: 17, y2: 24 }, size), {
      ext: 3, quadrant: 1, box: { x1: 17, x2: 24, y1: 1521, y2: 1528 },
    });
    assert.throws(() => mergedBoxToRaw({ x1: 4140, x2: 4150, y1: 1, y2: 2 }, size), RangeError);
  });
});
