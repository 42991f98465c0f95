import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  defaultLeapSeconds,
  dtdb,
  dtdbObserver,
  LBT_SITE,
  loadDtdbTable,
  taiFromUtc,
  ttFromTai,
  utcFromTai,
  utcMjd,
  utcTwoPartJd,
} from '../../src/time/index.js';
import { assertClose, assertThrowsCode } from './helpers.js';

const table = defaultLeapSeconds();

describe('UTC → TAI → TT', () => {
  it('gives ERFA eraUtctai known answer: UTC 2453750.5 + 0.892100694 → TAI + 0.8924826384444444', () => {
    const utc = { mjdDay: 53750, seconds: 0.892100694 * 86400 };
    const tai = taiFromUtc(table, utc);
    assertClose(tai.seconds / 86400, 0.8924826384444444444, 1e-12, 'TAI fraction (days)');
  });

  it('gives ERFA eraTaiutc known answer: TAI 2453750.5 + 0.892482639 → UTC + 0.8921006945555556', () => {
    const utc = utcFromTai(table, { mjdDay: 53750, seconds: 0.892482639 * 86400 });
    assert.equal(utc.mjdDay, 53750);
    assertClose(utc.seconds / 86400, 0.8921006945555555556, 1e-12, 'UTC fraction (days)');
  });

  it('adds 37 s + 32.184 s in 2026 and 36 s + 32.184 s in 2016', () => {
    const tt = ttFromTai(taiFromUtc(table, { mjdDay: 61055, seconds: 15153.456 }));
    assertClose(tt.seconds - 15153.456, 69.184, 1e-10, 'TT−UTC 2026 (s)');
    const tt16 = ttFromTai(taiFromUtc(table, { mjdDay: 57500, seconds: 100 }));
    assertClose(tt16.seconds - 100, 68.184, 1e-10, 'TT−UTC 2016 (s)');
  });

  it('goes through the 2016-12-31 leap second and back', () => {
    for (const [day, seconds] of [
      [57753, 86399.5],
      [57753, 86400.5],
      [57754, 0.5],
      [57754, 86399.9],
    ] as const) {
      const back = utcFromTai(table, taiFromUtc(table, { mjdDay: day, seconds }));
      assert.equal(back.mjdDay, day);
      assertClose(back.seconds, seconds, 1e-9, `UTC ${day} + ${seconds} s round trip`);
    }
    // 0.5 s into the leap second, TAI is 36.5 s past the next midnight.
    const inLeap = taiFromUtc(table, { mjdDay: 57753, seconds: 86400.5 });
    assertClose(inLeap.seconds - 86400, 36.5, 1e-9, 'TAI in the leap second');
  });

  it('gives the astropy/ERFA quasi-MJD on a leap-second day (86401 s to one day)', () => {
    assert.equal(utcMjd(table, { mjdDay: 57753, seconds: 86400.5 }), 57753 + 86400.5 / 86401);
    assert.equal(utcTwoPartJd(table, { mjdDay: 57753, seconds: 43200.5 }).jd2, 43200.5 / 86401);
    assert.equal(utcMjd(table, { mjdDay: 61055, seconds: 15153.456 }), 61055.175387222225);
  });
});

describe('TDB − TT (dtdb)', () => {
  it('gives ERFA eraDtdb known answer to 1e-15 s', () => {
    // ERFA t_erfa_c.c: eraDtdb(2448939.5, 0.123, 0.76543, 5.0123, 5525.242, 3190.0).
    assertClose(dtdb(2448939.5, 0.123, 0.76543, 5.0123, 5525.242, 3190.0), -0.1280368005936998991e-2, 1e-15, 'dtdb');
  });

  it('at J2000.0, geocentric, is the sum of the t⁰ and JPL periodic terms A·sin(φ) (−99.307 µs)', () => {
    // At t = 0 every t^k group with k > 0, the t² mass term and the topocentric part vanish.
    const doc = JSON.parse(readFileSync(new URL('../../data/erfa/dtdb.json', import.meta.url), 'utf8')) as {
      fairhead_bretagnon: { t0: number[][] };
      jpl_mass_adjustment: { periodic: number[][] };
    };
    const sum = [...doc.fairhead_bretagnon.t0, ...doc.jpl_mass_adjustment.periodic].reduce(
      (s, [a, , phi]) => s + (a ?? 0) * Math.sin(phi ?? 0),
      0,
    );
    const value = dtdb(2451545.0, 0, 0, 0, 0, 0);
    assertClose(value, sum, 1e-15, 'dtdb(J2000)');
    assertClose(value, -99.307e-6, 1e-9, 'dtdb(J2000) (s)');
  });

  it('stays within 40 µs of the two-term approximation 1.657 ms sin g + 14 µs sin 2g over 2000–2040', () => {
    // Explanatory Supplement (1992) eq. 2.222-1; its omitted planetary and lunar terms are
    // ~36 µs at most (largest: 22 µs with Jupiter's period).
    for (let d = 0; d < 40 * 365.25; d += 7.3) {
      const g = ((357.53 + 0.98560028 * d) * Math.PI) / 180;
      const approx = 0.001657 * Math.sin(g) + 0.000014 * Math.sin(2 * g);
      assertClose(dtdb(2451545.0, d, 0, 0, 0, 0), approx, 40e-6, `dtdb(J2000 + ${d} d)`);
    }
  });

  it('adds a diurnal topocentric term of ~1.7 µs amplitude at the LBT', () => {
    const obs = dtdbObserver(LBT_SITE);
    // Independently: N = a/√(1 − e² sin²φ), u = (N + h) cos φ, v = (N(1 − e²) + h) sin φ.
    assertClose(obs.uKm, 5375.1540685627, 1e-9, 'LBT distance from the spin axis (km)');
    assertClose(obs.vKm, 3427.8707372220, 1e-9, 'LBT distance from the equatorial plane (km)');
    const topo: number[] = [];
    for (let ut = 0; ut < 1; ut += 1 / 96) {
      topo.push(dtdb(2461055.5, ut, ut, obs.elongRad, obs.uKm, obs.vKm) - dtdb(2461055.5, ut, ut, 0, 0, 0));
    }
    // The diurnal part is dominated by 0.3177 ns/km · u · sin(local solar angle); the other
    // diurnal term (in tsol + 2·elsun) is 14 ns/1000 km, so the half-range is within 0.1 µs of it.
    const halfRange = (Math.max(...topo) - Math.min(...topo)) / 2;
    assertClose(halfRange, 3.17679e-10 * obs.uKm, 0.1e-6, 'half-range of the topocentric part over a day (s)');
  });

  it('rejects a coefficient table with a missing term', () => {
    const doc = JSON.parse(readFileSync(new URL('../../data/erfa/dtdb.json', import.meta.url), 'utf8')) as {
      fairhead_bretagnon: { t3: unknown[] };
    };
    assert.doesNotThrow(() => loadDtdbTable(structuredClone(doc)));
    doc.fairhead_bretagnon.t3.pop();
    assertThrowsCode(() => loadDtdbTable(doc), 'time-data', /t3 has 19 terms, term_counts says 20/);
  });
});
