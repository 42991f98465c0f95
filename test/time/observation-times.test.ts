import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  addLeapSecond,
  defaultLeapSeconds,
  LBT_SITE,
  observationTimes,
  type ObservationTimesInput,
  TimeParseError,
  TimeRangeError,
} from '../../src/time/index.js';
import { assertClose } from './helpers.js';

const leapSeconds = defaultLeapSeconds();
const base: ObservationTimesInput = {
  dateObs: '2026-01-15',
  utcObs: '04:12:33.456',
  ra: '04:03:16.946',
  dec: '+31:30:00.00',
  site: LBT_SITE,
  leapSeconds,
};
/** 5 µs in days: the agreement required with the reference. */
const FIVE_US = 5e-6 / 86400;

describe('observation times (fixDateTime)', () => {
  it('reproduces the raw-format.md §8.2 example with the site astropy took from its registry', () => {
    // Example [G]: MJD-OBS 61055.17538722223, HJD-OBS 61055.17900222067, BJD-OBS
    // 61055.17976753325 as the header shows them (16 digits), with EarthLocation.of_site('LBT')
    // = 250.1281° E, 32.7016° N, 2902 m (raw-format.md §11.1).
    const r = observationTimes({ ...base, site: { latitudeDeg: 32.7016, longitudeDeg: 250.1281 - 360, heightM: 2902 } });
    assert.equal(r.dateObsIso, '2026-01-15T04:12:33.456');
    assert.equal(r.mjdUtc.toPrecision(16), '61055.17538722223');
    assertClose(r.hjd ?? NaN, 61055.17900222067, FIVE_US, 'HJD-OBS');
    assertClose(r.bjd ?? NaN, 61055.17976753325, FIVE_US, 'BJD-OBS');
    assert.deepEqual(r.warnings, []);
  });

  it('reports each stage: TT−UTC 69.184 s, TDB−TT in ms, light times of minutes', () => {
    const r = observationTimes(base);
    assert.equal(r.stages.ttMinusUtcS, 69.184);
    assert.ok(Math.abs(r.stages.tdbMinusTtS) < 1.7e-3);
    assertClose(r.stages.lttHelioS ?? NaN, 312.3, 0.1, 'heliocentric light time (s)');
    assertClose(((r.hjd ?? NaN) - r.mjdUtc) * 86400, r.stages.lttHelioS ?? NaN, 1e-6, 'HJD − MJD (s)');
    assertClose(
      ((r.bjd ?? NaN) - r.mjdUtc) * 86400,
      69.184 + r.stages.tdbMinusTtS + (r.stages.lttBaryS ?? NaN),
      1e-6,
      'BJD − MJD (s)',
    );
  });

  it('carries the azcam ".1000" into the next second, warns, and computes from the carried time', () => {
    const r = observationTimes({ ...base, utcObs: '04:12:33.1000' });
    const fixed = observationTimes({ ...base, utcObs: '04:12:34.000' });
    assert.equal(r.dateObsIso, '2026-01-15T04:12:34.000');
    assert.equal(r.mjdUtc, fixed.mjdUtc);
    assert.equal(r.bjd, fixed.bjd);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0] ?? '', /"04:12:33\.1000".*azcam.*2026-01-15T04:12:34\.000/);
  });

  it('carries ".1000" at 23:59:59 across midnight into the next date', () => {
    const r = observationTimes({ ...base, dateObs: '2026-12-31', utcObs: '23:59:59.1000' });
    assert.equal(r.dateObsIso, '2027-01-01T00:00:00.000');
    assert.equal(r.mjdUtc, 61406);
  });

  it('on 2016-12-31 carries ".1000" at 23:59:59 into the leap second 23:59:60', () => {
    const r = observationTimes({ ...base, dateObs: '2016-12-31', utcObs: '23:59:59.1000' });
    assert.equal(r.dateObsIso, '2016-12-31T23:59:60.000');
    assertClose(r.mjdUtc, 57753 + 86400 / 86401, 1e-11, 'quasi-MJD in the leap second');
    assert.equal(r.stages.ttMinusUtcS, 68.184);
    const next = observationTimes({ ...base, dateObs: '2017-01-01', utcObs: '00:00:00.000' });
    // One SI second later in TT, whatever the UTC labels say (plus the change of the light time
    // and TDB−TT over that second).
    const expected =
      1 + ((next.stages.lttBaryS ?? NaN) - (r.stages.lttBaryS ?? NaN)) + (next.stages.tdbMinusTtS - r.stages.tdbMinusTtS);
    assertClose(((next.bjd ?? NaN) - (r.bjd ?? NaN)) * 86400, expected, 1e-6, 'BJD step across the leap second (s)');
  });

  it('reads -00:xx declinations as negative', () => {
    const neg = observationTimes({ ...base, dec: '-00:30:00' });
    const decimal = observationTimes({ ...base, dec: -0.5 });
    const pos = observationTimes({ ...base, dec: '+00:30:00' });
    assert.equal(neg.hjd, decimal.hjd);
    assert.notEqual(neg.hjd, pos.hjd);
  });

  it('leaves out HJD/BJD with a warning naming the missing input', () => {
    const none = observationTimes({ ...base, ra: undefined, dec: undefined });
    assert.equal(none.hjd, undefined);
    assert.equal(none.bjd, undefined);
    assert.equal(none.stages.lttHelioS, undefined);
    assert.equal(none.mjdUtc, observationTimes(base).mjdUtc);
    assert.deepEqual(none.warnings, ['TELRA and TELDEC missing: HJD-OBS and BJD-OBS not computed']);
    assert.deepEqual(observationTimes({ ...base, dec: '  ' }).warnings, [
      'TELDEC missing: HJD-OBS and BJD-OBS not computed',
    ]);
    assert.deepEqual(observationTimes({ ...base, ra: '' }).warnings, ['TELRA missing: HJD-OBS and BJD-OBS not computed']);
  });

  it('keeps MJD-OBS but reports an unreadable TELRA as a typed error and a warning', () => {
    const r = observationTimes({ ...base, ra: 'NOCOMM' });
    assert.equal(r.mjdUtc, observationTimes(base).mjdUtc);
    assert.equal(r.hjd, undefined);
    assert.ok(r.targetError instanceof TimeParseError);
    assert.equal(r.targetError.code, 'time-parse');
    assert.match(r.warnings[0] ?? '', /TELRA "NOCOMM" is not valid.*HJD-OBS and BJD-OBS not computed/);
  });

  it('throws a time-parse error for a malformed DATE-OBS or UTC-OBS', () => {
    for (const [dateObs, utcObs, what] of [
      ['2026-01-15T04:12:33.456', '04:12:33.456', 'DATE-OBS'],
      ['2026-13-01', '04:12:33.456', 'DATE-OBS'],
      ['2026-01-15', '04:12:33:456', 'UTC-OBS'],
      ['2026-01-15', '23:59:60.000', 'UTC-OBS'],
    ] as const) {
      assert.throws(
        () => observationTimes({ ...base, dateObs, utcObs }),
        (err: unknown) => err instanceof TimeParseError && err.message.startsWith(what),
        `${dateObs} ${utcObs}`,
      );
    }
  });

  it('refuses dates before 1972 with a time-range error', () => {
    assert.throws(() => observationTimes({ ...base, dateObs: '1969-07-20' }), TimeRangeError);
  });

  it('uses a leap second added to the table: TT−UTC and BJD move by 1 s, MJD does not', () => {
    const extended = addLeapSecond(leapSeconds, '2026-01-01');
    const before = observationTimes(base);
    const after = observationTimes({ ...base, leapSeconds: extended });
    assert.equal(before.stages.ttMinusUtcS, 69.184);
    assert.equal(after.stages.ttMinusUtcS, 70.184);
    assert.equal(after.mjdUtc, before.mjdUtc);
    const expected =
      1 + ((after.stages.lttBaryS ?? NaN) - (before.stages.lttBaryS ?? NaN)) + (after.stages.tdbMinusTtS - before.stages.tdbMinusTtS);
    assertClose(((after.bjd ?? NaN) - (before.bjd ?? NaN)) * 86400, expected, 1e-6, 'BJD shift (s)');
    assertClose(expected, 1, 1e-4, 'BJD shift, within |v|/c of a second (s)');
    // HJD stays on UTC: it moves only by the change of the light time over that second.
    assertClose(
      ((after.hjd ?? NaN) - (before.hjd ?? NaN)) * 86400,
      (after.stages.lttHelioS ?? NaN) - (before.stages.lttHelioS ?? NaN),
      1e-6,
      'HJD shift (s)',
    );
    // With the added step, 2025-12-31 ends with 23:59:60, which the shipped table refuses.
    const leap = { ...base, dateObs: '2025-12-31', utcObs: '23:59:60.500' };
    assert.equal(observationTimes({ ...leap, leapSeconds: extended }).dateObsIso, '2025-12-31T23:59:60.500');
    assert.throws(() => observationTimes(leap), TimeParseError);
  });

  it('warns, and still computes, after the leap-second table runs out', () => {
    const r = observationTimes({ ...base, dateObs: '2030-06-01' });
    assert.equal(r.stages.ttMinusUtcS, 69.184);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0] ?? '', /known complete only through 2027-06-28/);
  });

  it('includes the ~2 µs topocentric TDB−TT terms of the site', () => {
    const lbt = observationTimes(base);
    const geocentre = observationTimes({ ...base, site: { latitudeDeg: 90, longitudeDeg: 0, heightM: -6356752.314245 } });
    const d = Math.abs(lbt.stages.tdbMinusTtS - geocentre.stages.tdbMinusTtS);
    assert.ok(d > 0.1e-6 && d < 2.1e-6, `topocentric part ${d} s`);
  });
});
