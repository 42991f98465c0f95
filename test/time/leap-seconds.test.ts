import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  addLeapSecond,
  calendarToMjd,
  defaultLeapSeconds,
  leapSecondWarning,
  loadLeapSeconds,
  taiMinusUtc,
  utcDayLengthSeconds,
} from '../../src/time/index.js';
import { assertThrowsCode } from './helpers.js';

const mjd = (iso: string): number => {
  const [y, m, d] = iso.split('-').map(Number);
  return calendarToMjd({ year: y ?? 0, month: m ?? 0, day: d ?? 0 });
};

describe('leap-second table', () => {
  const table = defaultLeapSeconds();

  it('loads data/leap-seconds.json: 28 steps from 1972 to 2017, valid through 2027-06-28', () => {
    assert.equal(table.entries.length, 28);
    assert.deepEqual(table.entries[0], { date: '1972-01-01', mjd: 41317, taiMinusUtc: 10 });
    assert.deepEqual(table.entries.at(-1), { date: '2017-01-01', mjd: 57754, taiMinusUtc: 37 });
    assert.equal(table.validUntil, '2027-06-28');
    assert.equal(defaultLeapSeconds(), table, 'read once and cached');
  });

  it('gives ERFA eraDat known answers (2003-06-01: 32 s, 2008-01-17: 33 s, 2017-09-01: 37 s)', () => {
    assert.equal(taiMinusUtc(table, mjd('2003-06-01')), 32);
    assert.equal(taiMinusUtc(table, mjd('2008-01-17')), 33);
    assert.equal(taiMinusUtc(table, mjd('2017-09-01')), 37);
  });

  it('steps from 36 s to 37 s at 2017-01-01 0h UTC, after the 86401-second 2016-12-31', () => {
    assert.equal(taiMinusUtc(table, mjd('2016-12-31')), 36);
    assert.equal(taiMinusUtc(table, mjd('2016-12-31') + 86400.5 / 86401), 36);
    assert.equal(taiMinusUtc(table, mjd('2017-01-01')), 37);
    assert.equal(utcDayLengthSeconds(table, mjd('2016-12-31')), 86401);
    assert.equal(utcDayLengthSeconds(table, mjd('2017-01-01')), 86400);
    assert.equal(utcDayLengthSeconds(table, mjd('2015-06-30')), 86401);
  });

  it('refuses dates before 1972 (UTC had fractional offsets then)', () => {
    assertThrowsCode(() => taiMinusUtc(table, mjd('1971-12-31')), 'time-range', /1971-12-31.*1972-01-01/);
  });

  it('warns, without throwing, for dates after valid_until', () => {
    assert.equal(leapSecondWarning(table, mjd('2027-06-28') + 0.99), undefined);
    const w = leapSecondWarning(table, mjd('2027-06-29'));
    assert.match(w ?? '', /known complete only through 2027-06-28/);
    assert.match(w ?? '', /2027-06-29.*37 s/);
    assert.match(w ?? '', /data\/leap-seconds\.json/);
    assert.equal(taiMinusUtc(table, mjd('2035-01-01')), 37);
  });

  it('takes an added leap second from a table built in the test, leaving the original alone', () => {
    const extended = addLeapSecond(table, '2026-07-01');
    assert.equal(taiMinusUtc(extended, mjd('2026-06-30')), 37);
    assert.equal(taiMinusUtc(extended, mjd('2026-07-01')), 38);
    assert.equal(utcDayLengthSeconds(extended, mjd('2026-06-30')), 86401);
    assert.equal(extended.validUntil, '2027-06-28');
    assert.equal(taiMinusUtc(table, mjd('2026-07-01')), 37);
    const negative = addLeapSecond(table, '2028-01-01', -1);
    assert.equal(utcDayLengthSeconds(negative, mjd('2027-12-31')), 86399);
    assert.equal(negative.validUntil, '2028-01-01');
  });

  it('rejects malformed tables with a time-data error naming the entry', () => {
    const doc = JSON.parse(
      readFileSync(new URL('../../data/leap-seconds.json', import.meta.url), 'utf8'),
    ) as { entries: Array<Record<string, unknown>>; valid_until?: string };
    const clone = (): typeof doc => structuredClone(doc);

    const wrongMjd = clone();
    (wrongMjd.entries[3] as Record<string, unknown>)['mjd'] = 42049;
    assertThrowsCode(() => loadLeapSeconds(wrongMjd), 'time-data', /entries\[3\]\.mjd is 42049 but 1974-01-01 is MJD 42048/);

    const unsorted = clone();
    unsorted.entries.reverse();
    assertThrowsCode(() => loadLeapSeconds(unsorted), 'time-data', /is not after/);

    const noValidity = clone();
    delete noValidity.valid_until;
    assertThrowsCode(() => loadLeapSeconds(noValidity), 'time-data', /valid_until should be a string/);

    assertThrowsCode(() => loadLeapSeconds({ entries: [] }), 'time-data', /entries is empty/);
    assertThrowsCode(() => loadLeapSeconds([]), 'time-data', /should be an object/);
    assertThrowsCode(
      () => loadLeapSeconds({ valid_until: '2020-01-01', entries: [{ date: '2020-13-01', mjd: 0, tai_minus_utc: 1 }] }),
      'time-data',
      /entries\[0\]\.date "2020-13-01"/,
    );
  });
});
