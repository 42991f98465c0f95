import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  calendarToMjd,
  formatIsoDate,
  formatTimeOfDay,
  mjdFromTwoPartJd,
  mjdToCalendar,
  parseIsoDate,
  TimeParseError,
  twoPartJdFromMjd,
} from '../../src/time/index.js';
import { mjdFromParts } from '../../src/time/julian.js';
import { assertThrowsCode } from './helpers.js';

describe('calendar dates and Modified Julian Dates', () => {
  it('gives the MJD of 0h on known dates exactly', () => {
    assert.equal(calendarToMjd({ year: 1858, month: 11, day: 17 }), 0);
    assert.equal(calendarToMjd({ year: 2000, month: 1, day: 1 }), 51544);
    assert.equal(calendarToMjd({ year: 1972, month: 1, day: 1 }), 41317);
    assert.equal(calendarToMjd({ year: 2017, month: 1, day: 1 }), 57754);
    assert.equal(calendarToMjd({ year: 2026, month: 1, day: 15 }), 61055);
    assert.equal(calendarToMjd({ year: 2000, month: 2, day: 29 }), 51603);
    assert.equal(calendarToMjd({ year: 2100, month: 3, day: 1 }), 88128);
  });

  it('turns every day from 1900 to 2100 back into the same calendar date', () => {
    const start = calendarToMjd({ year: 1900, month: 1, day: 1 });
    const end = calendarToMjd({ year: 2100, month: 12, day: 31 });
    let previous = mjdToCalendar(start - 1);
    for (let mjd = start; mjd <= end; mjd++) {
      const date = mjdToCalendar(mjd);
      assert.equal(calendarToMjd(date), mjd);
      const nextDay = date.day === 1 ? previous.day >= 28 : date.day === previous.day + 1;
      assert.ok(nextDay, `${formatIsoDate(previous)} → ${formatIsoDate(date)}`);
      previous = date;
    }
  });

  it('rejects impossible dates with a time-range error', () => {
    assertThrowsCode(() => calendarToMjd({ year: 2026, month: 2, day: 29 }), 'time-range', /2026-2-29/);
    assertThrowsCode(() => calendarToMjd({ year: 2026, month: 13, day: 1 }), 'time-range');
  });

  it('keeps a two-part JD exact and converts it back to MJD', () => {
    const jd = twoPartJdFromMjd(61055, 0.25);
    assert.deepEqual(jd, { jd1: 2461055.5, jd2: 0.25 });
    assert.equal(mjdFromTwoPartJd(jd), 61055.25);
  });

  it('rounds MJD exactly as astropy does, e.g. 2026-01-15T04:12:33.456 → 61055.175387222225', () => {
    // raw-format.md §8.2: the header shows 61055.17538722223 (16 digits of this double).
    const fraction = (60 * (60 * 4 + 12) + 33.456) / 86400;
    assert.equal(mjdFromParts(61055, fraction), 61055.175387222225);
    assert.equal(mjdFromParts(61055, fraction + 1), 61056.175387222225);
    assert.equal(mjdFromParts(61055, 0), 61055);
  });
});

describe('ISO texts', () => {
  it('parses YYYY-MM-DD', () => {
    assert.deepEqual(parseIsoDate('2026-01-15'), { year: 2026, month: 1, day: 15 });
    assert.deepEqual(parseIsoDate(' 2024-02-29 '), { year: 2024, month: 2, day: 29 });
  });

  it('rejects other forms with a time-parse error naming the text and the form expected', () => {
    for (const text of ['2026-1-15', '2026-02-30', '2026-01-15T04:12:33.456', '15/01/2026', '']) {
      assert.throws(
        () => parseIsoDate(text),
        (err: unknown) =>
          err instanceof TimeParseError &&
          err.code === 'time-parse' &&
          err.text === text &&
          err.message.includes(JSON.stringify(text)) &&
          /YYYY-MM-DD/.test(err.message),
      );
    }
  });

  it('formats dates and times of day with the fraction digits as given', () => {
    assert.equal(formatIsoDate({ year: 987, month: 3, day: 4 }), '0987-03-04');
    assert.equal(formatTimeOfDay(4, 2, 3, '456'), '04:02:03.456');
    assert.equal(formatTimeOfDay(4, 2, 3, ''), '04:02:03');
  });
});
