/**
 * The 200 astropy 5.2.1 reference cases (test/time/fixtures/time-lbt.json, made with
 * astropy 5.2.1 and pyerfa 2.0.0.1): final keywords within 5 µs, and each stage checked on its
 * own so that a failure points at the stage that broke.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { defaultLeapSeconds, observationTimes, type ObservationTimes, type Site } from '../../src/time/index.js';

interface Vector {
  DATE_OBS_in: string;
  UTC_OBS: string;
  TELRA: string;
  TELDEC: string;
  DATE_OBS_out: string;
  MJD_OBS: number;
  HJD_OBS: number;
  BJD_OBS: number;
  tt_minus_utc_s: number;
  tdb_minus_tt_s: number;
  ltt_helio_s: number;
  ltt_bary_s: number;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/time-lbt.json', import.meta.url), 'utf8')) as {
  site: { lat_deg: number; lon_deg: number; height_m: number };
  cases: Vector[];
};
const site: Site = {
  latitudeDeg: fixture.site.lat_deg,
  longitudeDeg: fixture.site.lon_deg,
  heightM: fixture.site.height_m,
};
const leapSeconds = defaultLeapSeconds();

const results: Array<{ v: Vector; r: ObservationTimes }> = fixture.cases.map((v) => ({
  v,
  r: observationTimes({ dateObs: v.DATE_OBS_in, utcObs: v.UTC_OBS, ra: v.TELRA, dec: v.TELDEC, site, leapSeconds }),
}));

/** Tolerances, each with its reason. */
const TOL = {
  /** Required of the final keywords (behaviour.md §4): 5 µs. */
  keywordS: 5e-6,
  /** TT−UTC is 37 + 32.184 s; the vectors carry astropy's two-part round-off (~1e-11 s). */
  ttMinusUtcS: 1e-9,
  /** TDB−TT: same series, same topocentric terms: agreement to round-off. */
  tdbMinusTtS: 1e-8,
  /** Light times: astropy used IERS-B UT1−UTC before 2023, we use UTC (≤ 0.4 µs). */
  lightTimeS: 1e-6,
};

function largest(t: TestContext, label: string, values: number[], unit: string, scale: number): number {
  const worst = Math.max(...values.map(Math.abs));
  const text = `largest |Δ| ${label}: ${(worst * scale).toPrecision(3)} ${unit} over ${values.length} cases`;
  t.diagnostic(text);
  console.log(text);
  return worst;
}

describe('astropy reference vectors (200 cases, LBT, 2016–2035)', () => {
  it('has all 200 cases', () => {
    assert.equal(results.length, 200);
  });

  it('writes DATE-OBS as date + "T" + UTC-OBS for every case', () => {
    for (const { v, r } of results) assert.equal(r.dateObsIso, v.DATE_OBS_out, `${v.DATE_OBS_in} ${v.UTC_OBS}`);
  });

  it('gives TT−UTC as astropy does (leap seconds right)', (t) => {
    const d = results.map(({ v, r }) => r.stages.ttMinusUtcS - v.tt_minus_utc_s);
    assert.ok(largest(t, 'TT-UTC', d, 's', 1) < TOL.ttMinusUtcS);
  });

  it('gives TDB−TT with the topocentric terms as astropy does, to 1e-8 s', (t) => {
    const d = results.map(({ v, r }) => r.stages.tdbMinusTtS - v.tdb_minus_tt_s);
    assert.ok(largest(t, 'TDB-TT', d, 's', 1) < TOL.tdbMinusTtS);
  });

  it('gives the heliocentric light travel time within 1 µs', (t) => {
    const d = results.map(({ v, r }) => (r.stages.lttHelioS ?? Number.NaN) - v.ltt_helio_s);
    assert.ok(largest(t, 'light time, heliocentric', d, 'µs', 1e6) < TOL.lightTimeS);
  });

  it('gives the barycentric light travel time within 1 µs', (t) => {
    const d = results.map(({ v, r }) => (r.stages.lttBaryS ?? Number.NaN) - v.ltt_bary_s);
    assert.ok(largest(t, 'light time, barycentric', d, 'µs', 1e6) < TOL.lightTimeS);
  });

  it('gives MJD-OBS within 5 µs (in fact to the bit)', (t) => {
    const d = results.map(({ v, r }) => (r.mjdUtc - v.MJD_OBS) * 86400);
    assert.ok(largest(t, 'MJD-OBS', d, 'µs', 1e6) < TOL.keywordS);
    assert.ok(results.every(({ v, r }) => r.mjdUtc === v.MJD_OBS), 'MJD-OBS identical to astropy');
  });

  it('gives HJD-OBS within 5 µs', (t) => {
    const d = results.map(({ v, r }) => ((r.hjd ?? Number.NaN) - v.HJD_OBS) * 86400);
    assert.ok(largest(t, 'HJD-OBS', d, 'µs', 1e6) < TOL.keywordS);
  });

  it('gives BJD-OBS within 5 µs', (t) => {
    const d = results.map(({ v, r }) => ((r.bjd ?? Number.NaN) - v.BJD_OBS) * 86400);
    assert.ok(largest(t, 'BJD-OBS', d, 'µs', 1e6) < TOL.keywordS);
  });

  it('warns about nothing for these cases except dates past the leap-second table', () => {
    for (const { v, r } of results) {
      const late = v.DATE_OBS_in > leapSeconds.validUntil;
      assert.equal(r.warnings.length, late ? 1 : 0, `${v.DATE_OBS_in}: ${r.warnings.join('; ')}`);
    }
  });
});
