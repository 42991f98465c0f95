import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createPrng, fillUint32, parseSexagesimal, sexagesimal, skyPosition } from '../../src/simulate/index.js';

describe('prng', () => {
  test('the same seed gives the same sequence, another seed another', () => {
    const a = createPrng(42);
    const b = createPrng(42);
    const c = createPrng(43);
    const sa = Array.from({ length: 8 }, () => a.nextUint32());
    assert.deepEqual(Array.from({ length: 8 }, () => b.nextUint32()), sa);
    assert.notDeepEqual(Array.from({ length: 8 }, () => c.nextUint32()), sa);
    for (const v of sa) assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** 32);
  });

  test('fillUint32 continues exactly where nextUint32 is', () => {
    const a = createPrng(7);
    const b = createPrng(7);
    a.nextUint32();
    b.nextUint32();
    const bulk = new Uint32Array(1000);
    fillUint32(a, bulk);
    const one = Array.from({ length: 1000 }, () => b.nextUint32());
    assert.deepEqual(Array.from(bulk), one);
    assert.equal(a.nextUint32(), b.nextUint32());
  });

  test('uniform and Gaussian deviates have the expected moments', () => {
    const p = createPrng(1);
    const n = 200_000;
    let su = 0;
    let sg = 0;
    let sg2 = 0;
    for (let k = 0; k < n; k++) {
      const u = p.next();
      assert.ok(u >= 0 && u < 1);
      su += u;
      const z = p.gaussian();
      sg += z;
      sg2 += z * z;
    }
    assert.ok(Math.abs(su / n - 0.5) < 0.005);
    assert.ok(Math.abs(sg / n) < 0.01);
    assert.ok(Math.abs(Math.sqrt(sg2 / n - (sg / n) ** 2) - 1) < 0.01);
    for (let k = 0; k < 1000; k++) {
      const v = p.int(3, 5);
      assert.ok(v === 3 || v === 4 || v === 5);
    }
  });
});

describe('sky and sexagesimal helpers', () => {
  test('sexagesimal formats carry rounding into the minutes and keep the sign', () => {
    assert.equal(sexagesimal(45, { decimals: 2, signed: true }), '+45:00:00.00');
    assert.equal(sexagesimal(123, { width: 3, decimals: 3, signed: true }), '+123:00:00.000');
    assert.equal(sexagesimal(-(11 + 58 / 60 + 39.317 / 3600), { decimals: 3, signed: true }), '-11:58:39.317');
    assert.equal(sexagesimal(1 + 59 / 60 + 59.9996 / 3600, { decimals: 3, signed: false }), '02:00:00.000');
    assert.ok(Math.abs(parseSexagesimal('+57:09:34.34') - (57 + 9 / 60 + 34.34 / 3600)) < 1e-12);
    assert.ok(Number.isNaN(parseSexagesimal('57.5')));
  });

  test('the spec example target is high above the LBT on 2026-01-15 04:12 UTC', () => {
    const p = skyPosition(Date.parse('2026-01-15T04:12:33.456Z'), parseSexagesimal('04:03:16.946'), 31.5);
    // LST ≈ 4.53 h (GMST 11.85 h − 7.326 h), HA ≈ +0.47 h.
    assert.ok(Math.abs(p.lstHours - 4.525) < 0.01, `LST ${p.lstHours}`);
    assert.ok(Math.abs(p.haHours - 0.471) < 0.01, `HA ${p.haHours}`);
    assert.ok(p.altDeg > 80 && p.altDeg < 88, `alt ${p.altDeg}`);
    assert.ok(p.airmass > 1 && p.airmass < 1.02);
  });
});
