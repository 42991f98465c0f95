import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseDeclination,
  parseRightAscension,
  parseSexagesimalDegrees,
  parseUtcObs,
  resolveUtcInstant,
  TimeParseError,
} from '../../src/time/index.js';
import { assertClose } from './helpers.js';

/** Angles parse to within a few units of the last place of the text's arithmetic. */
const ANGLE_TOL = 1e-13;

function expectParseError(fn: () => unknown, what: string, text: string, expected: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TimeParseError, `TimeParseError, got ${String(err)}`);
    assert.equal(err.code, 'time-parse');
    assert.equal(err.text, text);
    assert.ok(err.message.startsWith(`${what} ${JSON.stringify(text)} is not valid: expected `), err.message);
    assert.match(err.expected, expected);
    return true;
  });
}

describe('TELRA', () => {
  it('reads hh:mm:ss.sss as hours', () => {
    assertClose(parseRightAscension('04:03:16.946'), 4 + 3 / 60 + 16.946 / 3600, ANGLE_TOL, '04:03:16.946');
    assertClose(parseRightAscension('23:59:59.999'), 24 - 0.001 / 3600, ANGLE_TOL, '23:59:59.999');
    assertClose(parseRightAscension('12 30 00'), 12.5, ANGLE_TOL, 'space-separated');
    assertClose(parseRightAscension('12:30'), 12.5, ANGLE_TOL, 'hh:mm');
  });

  it('reads plain decimal hours, as text (also exponent form) or as a number', () => {
    assert.equal(parseRightAscension('4.5'), 4.5);
    assert.equal(parseRightAscension('1.337481353441951e+01'), 13.37481353441951);
    assert.equal(parseRightAscension(4.5), 4.5);
  });

  it('rejects texts that are not a right ascension, naming them', () => {
    expectParseError(() => parseRightAscension('24:00:00'), 'TELRA', '24:00:00', /\[0, 24\)/);
    expectParseError(() => parseRightAscension('04:61:00'), 'TELRA', '04:61:00', /below 60/);
    expectParseError(() => parseRightAscension('NOCOMM'), 'TELRA', 'NOCOMM', /hh:mm:ss/);
    expectParseError(() => parseRightAscension('-01:00:00'), 'TELRA', '-01:00:00', /hh:mm:ss/);
    expectParseError(() => parseRightAscension(''), 'TELRA', '', /hh:mm:ss/);
  });
});

describe('TELDEC', () => {
  it('reads ±dd:mm:ss.ss as degrees', () => {
    assert.equal(parseDeclination('+31:30:00.00'), 31.5);
    assertClose(parseDeclination('-54:19:09.76'), -(54 + 19 / 60 + 9.76 / 3600), ANGLE_TOL, '-54:19:09.76');
    assert.equal(parseDeclination('+90:00:00'), 90);
  });

  it('keeps the sign of -00:xx declinations (the sign belongs to the whole angle)', () => {
    assert.equal(parseDeclination('-00:30:00'), -0.5);
    assert.equal(parseDeclination('+00:30:00'), 0.5);
    assert.equal(parseDeclination('00:30:00'), 0.5);
    assertClose(parseDeclination('-00:28:47.59'), -(28 / 60 + 47.59 / 3600), ANGLE_TOL, '-00:28:47.59');
    assertClose(parseDeclination('-00:00:00.01'), -0.01 / 3600, ANGLE_TOL, '-00:00:00.01');
  });

  it('reads plain decimal degrees', () => {
    assert.equal(parseDeclination('-0.5'), -0.5);
    assert.equal(parseDeclination(-12.25), -12.25);
  });

  it('rejects texts that are not a declination, naming them', () => {
    expectParseError(() => parseDeclination('-90:00:01'), 'TELDEC', '-90:00:01', /\[-90, 90\]/);
    expectParseError(() => parseDeclination('+31:3O:00'), 'TELDEC', '+31:3O:00', /±dd:mm:ss/);
    expectParseError(() => parseDeclination('+31:30:60'), 'TELDEC', '+31:30:60', /below 60/);
    expectParseError(() => parseDeclination('--31:30:00'), 'TELDEC', '--31:30:00', /±dd:mm:ss/);
  });
});

describe('TELALT/TELAZ style angles', () => {
  it('reads ±ddd:mm:ss in degrees with no range limit', () => {
    assert.equal(parseSexagesimalDegrees('+00:00:00.00'), 0);
    assertClose(parseSexagesimalDegrees('+123:45:06.000'), 123 + 45 / 60 + 6 / 3600, ANGLE_TOL, 'az');
    assert.equal(parseSexagesimalDegrees('-00:30:00'), -0.5);
    assert.equal(parseSexagesimalDegrees('1.337481353441951e+01'), 13.37481353441951);
    expectParseError(() => parseSexagesimalDegrees('abc', 'TELAZ'), 'TELAZ', 'abc', /ddd:mm:ss/);
  });
});

describe('UTC-OBS', () => {
  const jan15 = { year: 2026, month: 1, day: 15 };

  it('reads hh:mm:ss.sss, keeping the fraction digits as written', () => {
    assert.deepEqual(parseUtcObs('04:12:33.456'), {
      hour: 4,
      minute: 12,
      second: 33,
      fractionDigits: '456',
      azcamCarry: false,
    });
    assert.equal(parseUtcObs('04:12:33').fractionDigits, '');
    assert.equal(parseUtcObs('04:12:33.1').fractionDigits, '1');
  });

  it('reads the azcam ".1000" fraction as one more second and carries it (:33.1000 → :34.000)', () => {
    const fields = parseUtcObs('04:12:33.1000');
    assert.deepEqual(fields, { hour: 4, minute: 12, second: 33, fractionDigits: '000', azcamCarry: true });
    const t = resolveUtcInstant(jan15, fields);
    assert.equal(t.timeText, '04:12:34.000');
    assert.equal(t.secondsOfDay, 4 * 3600 + 12 * 60 + 34);
    assert.deepEqual(t.date, jan15);
    assert.equal(t.azcamCarry, true);
  });

  it('carries the extra second into minutes and hours', () => {
    assert.equal(resolveUtcInstant(jan15, parseUtcObs('04:12:59.1000')).timeText, '04:13:00.000');
    assert.equal(resolveUtcInstant(jan15, parseUtcObs('04:59:59.1000')).timeText, '05:00:00.000');
  });

  it('carries the extra second across midnight into the next date, month and year', () => {
    const a = resolveUtcInstant(jan15, parseUtcObs('23:59:59.1000'));
    assert.deepEqual([a.date, a.timeText, a.secondsOfDay, a.mjdDay], [{ year: 2026, month: 1, day: 16 }, '00:00:00.000', 0, 61056]);
    const b = resolveUtcInstant({ year: 2026, month: 12, day: 31 }, parseUtcObs('23:59:59.1000'));
    assert.deepEqual([b.date, b.timeText], [{ year: 2027, month: 1, day: 1 }, '00:00:00.000']);
    const c = resolveUtcInstant({ year: 2024, month: 2, day: 28 }, parseUtcObs('23:59:59.1000'));
    assert.deepEqual(c.date, { year: 2024, month: 2, day: 29 });
  });

  it('lands in the leap second 23:59:60 on a day that has one', () => {
    const leapDay = { year: 2016, month: 12, day: 31 };
    const a = resolveUtcInstant(leapDay, parseUtcObs('23:59:59.1000'), 86401);
    assert.deepEqual([a.date, a.timeText, a.secondsOfDay], [leapDay, '23:59:60.000', 86400]);
    const b = resolveUtcInstant(leapDay, parseUtcObs('23:59:60.500'), 86401);
    assert.deepEqual([b.timeText, b.secondsOfDay], ['23:59:60.500', 86400.5]);
    const c = resolveUtcInstant(leapDay, parseUtcObs('23:59:60.1000'), 86401);
    assert.deepEqual([c.date, c.timeText], [{ year: 2017, month: 1, day: 1 }, '00:00:00.000']);
  });

  it('rejects a second 60 outside a leap second', () => {
    expectParseError(() => resolveUtcInstant(jan15, parseUtcObs('23:59:60.500'), 86400, '23:59:60.500'), 'UTC-OBS', '23:59:60.500', /leap second/);
    expectParseError(() => resolveUtcInstant(jan15, parseUtcObs('12:00:60.000'), 86401, '12:00:60.000'), 'UTC-OBS', '12:00:60.000', /leap second/);
  });

  it('rejects malformed texts with a time-parse error naming them', () => {
    for (const text of ['4:12:33.456', '24:00:00.000', '04:60:00.000', '04:12:61.000', '04:12:33,456', '04:12', '', 'T04:12:33']) {
      expectParseError(() => parseUtcObs(text), 'UTC-OBS', text, /hh:mm:ss\.sss/);
    }
  });
});
