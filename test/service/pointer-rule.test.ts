/** The pointer rule (behaviour.md §6 step 3) as a table: pure, no files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareExposures, dateObsMs, decidePointer, exposureKey, rawSequence,
  type CurrentPointer, type ExposureKey, type IncomingExposure,
} from '../../src/service/jobs/pointer-rule.js';

const key = (dateObs: string, name: string): ExposureKey => {
  const k = exposureKey(dateObs, name);
  assert.ok(k, `${dateObs} is a usable DATE-OBS`);
  return k;
};
const seq3 = 'mods1b.20260210.0003.fits';
const seq7 = 'mods1b.20260210.0007.fits';
const seq20 = 'mods1b.20260210.0020.fits';
const uniq = 'mods1b.20260209.201500.fits';
const on = (name: string, dateObs: string): CurrentPointer => ({ kind: 'exposure', name, key: key(dateObs, name) });
const incoming = (name: string, dateObs: string | undefined): IncomingExposure => ({ name, key: dateObs === undefined ? undefined : exposureKey(dateObs, name) });

test('decidePointer: moves unless the delivered exposure started before the one the pointer names', () => {
  const cases: Array<[string, IncomingExposure, CurrentPointer, 'move' | 'keep', RegExp]> = [
    ['an earlier exposure is kept off the pointer', incoming(seq3, '2026-02-10T03:03:00.000'), on(seq20, '2026-02-10T03:20:00.000'), 'keep',
      /^mods1b\.20260210\.0003\.fits \(DATE-OBS 2026-02-10T03:03:00\.000, sequence 3\) is an earlier exposure than mods1b\.20260210\.0020\.fits \(DATE-OBS 2026-02-10T03:20:00\.000, sequence 20\)/],
    ['a later exposure moves it', incoming(seq20, '2026-02-10T03:20:00.000'), on(seq3, '2026-02-10T03:03:00.000'), 'move', /0020\.fits .* is not earlier than .*0003\.fits/],
    ['one millisecond earlier is earlier', incoming(seq20, '2026-02-10T03:03:00.122'), on(seq3, '2026-02-10T03:03:00.123'), 'keep', /earlier exposure/],
    ['below the millisecond is the same time: the sequence decides', incoming(seq3, '2026-02-10T03:03:00.1239'), on(seq7, '2026-02-10T03:03:00.1231'), 'keep', /earlier exposure/],
    ['equal time, lower sequence: kept', incoming(seq3, '2026-02-10T03:03:00.500'), on(seq7, '2026-02-10T03:03:00.500'), 'keep', /sequence 3\) is an earlier exposure/],
    ['equal time, higher sequence: moved', incoming(seq7, '2026-02-10T03:03:00.500'), on(seq3, '2026-02-10T03:03:00.500'), 'move', /not earlier/],
    ['the same file again (a replay, a resumed delivery): moved', incoming(seq7, '2026-02-10T03:03:00.500'), on(seq7, '2026-02-10T03:03:00.500'), 'move', /not earlier/],
    ['equal time, the pointer on a UNIQNAME (no sequence): moved', incoming(seq3, '2026-02-10T03:03:00.500'), on(uniq, '2026-02-10T03:03:00.500'), 'move', /not earlier/],
    ['a unique-name delivery of an earlier exposure: kept', incoming(uniq, '2026-02-10T03:01:00.000'), on(seq3, '2026-02-10T03:03:00.000'), 'keep', /^mods1b\.20260209\.201500\.fits \(DATE-OBS 2026-02-10T03:01:00\.000\) is an earlier/],
    ['a unique-name delivery of a later exposure: moved', incoming(uniq, '2026-02-10T03:05:00.000'), on(seq3, '2026-02-10T03:03:00.000'), 'move', /not earlier/],
    ['no pointer yet', incoming(seq3, '2026-02-10T03:03:00.000'), { kind: 'none' }, 'move', /^no pointer yet; it now names mods1b\.20260210\.0003\.fits \(DATE-OBS/],
    ['the pointer names a file that is gone', incoming(seq3, '2026-02-10T03:03:00.000'), { kind: 'gone', name: seq20 }, 'move', /^the pointer named mods1b\.20260210\.0020\.fits, which is gone; it now names mods1b\.20260210\.0003\.fits/],
    ['the pointer names an unreadable file', incoming(seq3, '2026-02-10T03:03:00.000'), { kind: 'unusable', name: seq20, why: 'which cannot be read (EACCES)' }, 'move', /cannot be read/],
    ['the pointer names a file without DATE-OBS', incoming(seq3, '2026-02-10T03:03:00.000'), { kind: 'unusable', name: seq20, why: 'which has no usable DATE-OBS' }, 'move', /no usable DATE-OBS/],
    ['the pointer names a file that is not FITS', incoming(seq3, '2026-02-10T03:03:00.000'), { kind: 'unusable', name: 'notes.txt', why: 'which is not a FITS file' }, 'move', /notes\.txt, which is not a FITS file/],
    ['the delivered file has no usable DATE-OBS: moved, as the reference', incoming(seq3, undefined), on(seq20, '2026-02-10T03:20:00.000'), 'move', /^mods1b\.20260210\.0003\.fits \(no usable DATE-OBS\) cannot be placed in time/],
  ];
  for (const [what, mine, current, action, reason] of cases) {
    const decision = decidePointer(mine, current);
    assert.equal(decision.action, action, what);
    assert.match(decision.reason, reason, what);
  }
});

test('dateObsMs: the processed DATE-OBS to the millisecond; a date alone or a malformed one is not usable', () => {
  const cases: Array<[string | undefined, number | undefined]> = [
    ['2026-02-10T03:03:00', Date.UTC(2026, 1, 10, 3, 3, 0)],
    ['2026-02-10T03:03:00.5', Date.UTC(2026, 1, 10, 3, 3, 0, 500)],
    ['2026-02-10T03:03:00.123456', Date.UTC(2026, 1, 10, 3, 3, 0, 123)],
    ['2026-02-10T03:03:00.999999', Date.UTC(2026, 1, 10, 3, 3, 0, 999)],
    ['  2026-02-10T03:03:00.100Z ', Date.UTC(2026, 1, 10, 3, 3, 0, 100)],
    ['2016-12-31T23:59:60.500', Date.UTC(2017, 0, 1, 0, 0, 0, 500)],
    ['2026-02-10', undefined],
    ['2026-02-30T03:03:00', undefined],
    ['2026-13-10T03:03:00', undefined],
    ['2026-02-10T24:00:00', undefined],
    ['2026-02-10 03:03:00', undefined],
    ['', undefined],
    [undefined, undefined],
  ];
  for (const [text, ms] of cases) assert.equal(dateObsMs(text), ms, String(text));
});

test('rawSequence: NNNN of a raw name (also with a clash suffix), none for a UNIQNAME or anything else', () => {
  const cases: Array<[string | undefined, number | undefined]> = [
    ['mods1b.20260210.0003.fits', 3],
    ['mods2r.20260210.1234.fits', 1234],
    ['mods1b.20260210.0003-2.fits', 3],
    ['mods1b.20260209.201500.fits', undefined],
    ['mods1b.20260209.201500-2.fits', undefined],
    ['MODS1B.new', undefined],
    [undefined, undefined],
  ];
  for (const [name, seq] of cases) assert.equal(rawSequence(name), seq, String(name));
});

test('exposureKey takes the first name that has a sequence; compareExposures orders by time, then sequence', () => {
  assert.equal(exposureKey('2026-02-10T03:03:00', uniq, seq7)?.sequence, 7);
  assert.equal(exposureKey('2026-02-10T03:03:00', uniq)?.sequence, undefined);
  assert.equal(exposureKey('2026-02-10', seq7), undefined);
  const a = key('2026-02-10T03:03:00.000', seq7);
  assert.ok(compareExposures(a, key('2026-02-10T03:03:00.001', seq3)) < 0);
  assert.ok(compareExposures(a, key('2026-02-10T03:03:00.000', seq3)) > 0);
  assert.equal(compareExposures(a, key('2026-02-10T03:03:00.000', uniq)), 0);
});
