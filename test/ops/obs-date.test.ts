import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { observingDate } from '../../src/ops/obs-date.js';

const ARIZONA = 'America/Phoenix';
const at = (iso: string) => Date.parse(iso);

describe('observingDate in US/Arizona (raw-format.md §1.2 vectors)', () => {
  test('local 11:59 Jan 15 is the night of Jan 15', () => {
    assert.equal(observingDate(at('2026-01-15T11:59:00-07:00'), ARIZONA), '20260115');
  });
  test('local 12:00 Jan 14 is the night of Jan 15', () => {
    assert.equal(observingDate(at('2026-01-14T12:00:00-07:00'), ARIZONA), '20260115');
  });
  test('local 21:12 Jan 14 (04:12 UTC Jan 15) is the night of Jan 15', () => {
    assert.equal(observingDate(at('2026-01-15T04:12:00Z'), ARIZONA), '20260115');
    assert.equal(observingDate(at('2026-01-14T21:12:00-07:00'), ARIZONA), '20260115');
  });
  test('local 17:00 Jan 14 is the night of Jan 15', () => {
    assert.equal(observingDate(at('2026-01-14T17:00:00-07:00'), ARIZONA), '20260115');
  });
});

describe('observingDate at the window edges', () => {
  test('11:59:59.999 local is still the previous night', () => {
    assert.equal(observingDate(at('2026-01-14T11:59:59.999-07:00'), ARIZONA), '20260114');
  });
  test('12:00:00.000 local starts the next night', () => {
    assert.equal(observingDate(at('2026-01-14T12:00:00.000-07:00'), ARIZONA), '20260115');
  });
  test('16:59:59.999 local belongs to the next UTC date', () => {
    assert.equal(observingDate(at('2026-01-14T16:59:59.999-07:00'), ARIZONA), '20260115');
  });
  test('17:00:00.000 local is UTC midnight: the UTC date, the same night', () => {
    assert.equal(observingDate(at('2026-01-14T17:00:00.000-07:00'), ARIZONA), '20260115');
  });
  test('the whole night from local noon to the next local 11:59 has one date', () => {
    const start = at('2026-01-14T12:00:00-07:00');
    for (let m = 0; m < 24 * 60; m += 7) assert.equal(observingDate(start + m * 60_000, ARIZONA), '20260115', `minute ${m}`);
  });
  test('the date rolls over the end of a month and of a year', () => {
    assert.equal(observingDate(at('2026-01-31T13:00:00-07:00'), ARIZONA), '20260201');
    assert.equal(observingDate(at('2025-12-31T12:30:00-07:00'), ARIZONA), '20260101');
    assert.equal(observingDate(at('2028-02-28T12:30:00-07:00'), ARIZONA), '20280229');
  });
});

describe('observingDate on a UTC host (raw-format.md §11 item 13)', () => {
  test('between 12:00 and 17:00 UTC it is the next UTC date', () => {
    assert.equal(observingDate(at('2026-01-14T11:59:59.999Z'), 'UTC'), '20260114');
    assert.equal(observingDate(at('2026-01-14T12:00:00.000Z'), 'UTC'), '20260115');
    assert.equal(observingDate(at('2026-01-14T16:59:59.999Z'), 'UTC'), '20260115');
    assert.equal(observingDate(at('2026-01-14T17:00:00.000Z'), 'UTC'), '20260114');
  });
  test('so the same instant can carry another date than in Arizona', () => {
    const t = at('2026-01-14T13:00:00Z'); // 06:00 MST
    assert.equal(observingDate(t, ARIZONA), '20260114');
    assert.equal(observingDate(t, 'UTC'), '20260115');
  });
  test('without a zone the host clock decides', () => {
    const host = Intl.DateTimeFormat().resolvedOptions().timeZone;
    for (const iso of ['2026-01-14T11:59:59.999Z', '2026-01-14T12:00:00Z', '2026-01-14T19:30:00Z', '2026-07-01T23:59:59Z']) {
      assert.equal(observingDate(at(iso)), observingDate(at(iso), host), iso);
    }
  });
});
