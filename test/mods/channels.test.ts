import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CHANNELS, channelById, formatRawName, parseRawName } from '../../src/mods/index.js';

describe('channels', () => {
  test('the four channels carry their instrument id, colour, telescope side and pixel scale', () => {
    const table = CHANNELS.map((c) => [c.id, c.instrument, c.color, c.telescope, c.pixscaleArcsec, c.detector]);
    assert.deepEqual(table, [
      ['mods1b', 'MODS1B', 'blue', 'LBT-SX', 0.12, 'e2v CCD231-68 Blue CCD 1'],
      ['mods1r', 'MODS1R', 'red', 'LBT-SX', 0.123, 'e2v CCD231-68 Red CCD 1'],
      ['mods2b', 'MODS2B', 'blue', 'LBT-DX', 0.12, 'e2v CCD231-68 Blue CCD 2'],
      ['mods2r', 'MODS2R', 'red', 'LBT-DX', 0.123, 'e2v CCD231-68 Red CCD 2'],
    ]);
  });

  test('channelById accepts lower- and upper-case ids and rejects others', () => {
    assert.equal(channelById('MODS2R')?.id, 'mods2r');
    assert.equal(channelById('mods1b')?.instrument, 'MODS1B');
    assert.equal(channelById('mods3b'), undefined);
  });
});

describe('raw file names', () => {
  test('parses <chan>.<YYYYMMDD>.<NNNN>.fits', () => {
    assert.deepEqual(parseRawName('mods2r.20251210.0009.fits'), { chan: 'mods2r', obsDate: '20251210', seq: 9 });
    assert.deepEqual(parseRawName('mods1b.20260115.9999.fits'), { chan: 'mods1b', obsDate: '20260115', seq: 9999 });
  });

  test('rejects anything else', () => {
    for (const bad of [
      'mods1b.20260115.0000.fits', 'mods1b.20260230.0001.fits', 'mods1b.20260115.001.fits', 'MODS1B.20260115.0001.fits',
      'mods1b.20260115.0001.fits.tmp', '/data/mods1b/mods1b.20260115.0001.fits', 'mods1x.20260115.0001.fits', 'mods1b.20260115.0001.fit',
    ]) {
      assert.equal(parseRawName(bad), undefined, bad);
    }
  });

  test('formats with a zero-padded sequence number and round-trips', () => {
    const name = formatRawName('mods1r', '20260115', 42);
    assert.equal(name, 'mods1r.20260115.0042.fits');
    assert.deepEqual(parseRawName(name), { chan: 'mods1r', obsDate: '20260115', seq: 42 });
    assert.throws(() => formatRawName('mods1r', '20260115', 10000), RangeError);
    assert.throws(() => formatRawName('mods1r', '2026011', 1), RangeError);
  });
});
