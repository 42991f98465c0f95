/**
 * Conformance: HEASARC fitsverify reports no errors and no warnings for generated raw files
 * (as it does for the files azcam writes, docs/raw-format.md §9). Skipped, visibly, when
 * fitsverify is not installed.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitsverify, runFitsverify } from '../helpers/tools.js';
import { writeRaw, type RawWriteOptions } from '../../src/simulate/index.js';

const MISSING = 'fitsverify not installed: apt-get install fitsverify';

async function verify(t: { after(fn: () => Promise<void>): void; skip(m: string): void }, options: RawWriteOptions): Promise<void> {
  if (fitsverify() === null) {
    t.skip(MISSING);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'dataman-fitsverify-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const written = await writeRaw(dir, options);
  const result = runFitsverify(written.path);
  assert.deepEqual({ errors: result.errors, warnings: result.warnings }, { errors: 0, warnings: 0 }, result.output);
}

describe('fitsverify: 0 errors, 0 warnings', () => {
  for (const instrument of ['MODS1B', 'MODS1R', 'MODS2B', 'MODS2R']) {
    for (const roi of ['full', '3k', '1k', '4k']) {
      test(`${instrument} ${roi} 1x1`, (t) => verify(t, { instrument, roi }));
    }
  }
  test('MODS1B full 2x2', (t) => verify(t, { roi: 'full', bin: '2x2' }));
  test('MODS2R 1k 3x1 without the optional blocks', (t) => verify(t, { instrument: 'MODS2R', roi: '1k', bin: '3x1', instrumentBlock: false, telescopeBlock: false }));
  test('Dec-2025 MODS2R 1k with Q extension names', (t) => verify(t, { instrument: 'MODS2R', roi: '1k', detector: 'dec2025', broken: ['q-extnames'] }));
  test('every header-only broken variant together', (t) => verify(t, {
    roi: '1k',
    broken: ['no-conpars', 'imagetyp-upper', 'sexagesimal-altaz', 'nstype-missing', 'utc-fraction-1000', 'nonsider-text', 'lbtwlink-text'],
  }));
});
