import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { earthPositionVelocity, loadEpv00Table } from '../../src/time/index.js';
import { norm } from '../../src/time/vector.js';
import { assertClose, assertThrowsCode } from './helpers.js';

describe('Earth ephemeris (epv00)', () => {
  // ERFA t_erfa_c.c: eraEpv00(2400000.5, 53411.52501161); tolerances are ERFA's
  // (1e-14 au = 1.5 m in position, 1e-15 au/day in velocity).
  const { heliocentric: h, barycentric: b } = earthPositionVelocity(2400000.5, 53411.52501161);

  it('gives ERFA eraEpv00 known answer for the heliocentric position and velocity', () => {
    assertClose(h.position[0], -0.7757238809297706813, 1e-14, 'ph(x) au');
    assertClose(h.position[1], 0.5598052241363340596, 1e-14, 'ph(y) au');
    assertClose(h.position[2], 0.2426998466481686993, 1e-14, 'ph(z) au');
    assertClose(h.velocity[0], -0.1091891824147313846e-1, 1e-15, 'vh(x) au/d');
    assertClose(h.velocity[1], -0.1247187268440845008e-1, 1e-15, 'vh(y) au/d');
    assertClose(h.velocity[2], -0.5407569418065039061e-2, 1e-15, 'vh(z) au/d');
  });

  it('gives ERFA eraEpv00 known answer for the barycentric position and velocity', () => {
    assertClose(b.position[0], -0.7714104440491111971, 1e-14, 'pb(x) au');
    assertClose(b.position[1], 0.5598412061824171323, 1e-14, 'pb(y) au');
    assertClose(b.position[2], 0.24259962777224524, 1e-14, 'pb(z) au');
    assertClose(b.velocity[0], -0.1091874268116823295e-1, 1e-15, 'vb(x) au/d');
    assertClose(b.velocity[1], -0.1246525461732861538e-1, 1e-15, 'vb(y) au/d');
    assertClose(b.velocity[2], -0.5404773180966231279e-2, 1e-15, 'vb(z) au/d');
  });

  it('has the velocity that is the time derivative of the position (to 1e-9 au/d)', () => {
    const step = 0.01; // days
    const before = earthPositionVelocity(2461055.5, -step).barycentric.position;
    const after = earthPositionVelocity(2461055.5, step).barycentric.position;
    const v = earthPositionVelocity(2461055.5, 0).barycentric.velocity;
    for (const i of [0, 1, 2] as const) {
      assertClose((after[i] - before[i]) / (2 * step), v[i], 1e-9, `velocity component ${i}`);
    }
  });

  it('keeps the Earth between perihelion and aphelion distance over 2016–2035', () => {
    // a(1 ∓ e) = 0.98329 / 1.01671 au for the Earth–Moon barycentre; the Earth's monthly
    // motion about it (3.1e-5 au) and planetary perturbations add a little either way.
    for (let jd = 2457388.5; jd < 2464693.5; jd += 13.7) {
      const r = norm(earthPositionVelocity(jd, 0).heliocentric.position);
      assert.ok(r > 0.9832 && r < 1.0168, `|r| = ${r} au at JD ${jd}`);
    }
  });

  it('rejects a coefficient table with a wrong rotation', () => {
    const doc = JSON.parse(readFileSync(new URL('../../data/erfa/epv00.json', import.meta.url), 'utf8')) as {
      rotation_ecliptic_to_bcrs: unknown[];
    };
    doc.rotation_ecliptic_to_bcrs.pop();
    assertThrowsCode(() => loadEpv00Table(doc), 'time-data', /rotation_ecliptic_to_bcrs should have 3 rows/);
  });
});
