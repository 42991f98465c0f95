// Needs astropy and numpy (Debian python3-astropy): an independent model of the processing
// (processing_oracle.py, written from the spec with astropy/numpy) against ours. Skipped, saying
// so, where astropy is absent; .ci/run installs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findHdu, valueText } from '../../src/fits/index.js';
import { REFERENCE_DEFAULT_SENSORS, REFERENCE_SENSORS } from '../../src/steps/types.js';
import { LBT_SITE } from '../../src/time/index.js';
import { createPrng } from '../../src/simulate/index.js';
import { tempDir } from '../helpers/temp.js';
import { ASTROPY_MISSING, astropyPython, runPython, skipUnless } from '../helpers/tools.js';
import { generateAndProcess, type Processed } from '../helpers/processing.js';

const ORACLE = join(dirname(fileURLToPath(import.meta.url)), 'processing_oracle.py');
const TIME_KEYS = new Set(['MJD-OBS', 'HJD-OBS', 'BJD-OBS']);
const FIVE_MICROSECONDS_IN_DAYS = 5e-6 / 86400;

interface Expectation {
  primary: Record<string, string | number | boolean>;
  images: Array<Record<string, string | number>>;
  merged: Record<string, number>;
  absent: string[];
}

async function compareWithOracle(p: Processed): Promise<{ worstTimeS: number }> {
  const mergedOut = join(dirname(p.outPath), 'oracle-merged.f4');
  const site = { latitude: LBT_SITE.latitudeDeg, longitude: LBT_SITE.longitudeDeg, height: LBT_SITE.heightM };
  const sensors = { ...REFERENCE_SENSORS, default: REFERENCE_DEFAULT_SENSORS };
  const script = await readFile(ORACLE, 'utf8');
  const expected = JSON.parse(runPython(script, [p.rawPath, mergedOut, JSON.stringify(site), JSON.stringify(sensors)])) as Expectation;
  const primary = p.hdus[0]!.header;
  let worstTimeS = 0;
  for (const [key, value] of Object.entries(expected.primary)) {
    const ours = primary.value(key);
    if (TIME_KEYS.has(key)) {
      const diff = Math.abs((ours as number) - (value as number));
      worstTimeS = Math.max(worstTimeS, diff * 86400);
      assert.ok(diff < FIVE_MICROSECONDS_IN_DAYS, `${key}: ours ${valueText(ours ?? null)}, astropy ${value} (${(diff * 86400 * 1e6).toFixed(3)} µs)`);
    } else if (typeof value === 'number') {
      assert.ok(Math.abs((ours as number) - value) <= 1e-12 * Math.max(1, Math.abs(value)), `${key}: ours ${valueText(ours ?? null)}, expected ${value}`);
    } else {
      assert.equal(ours, value, key);
    }
  }
  for (const key of expected.absent) assert.equal(primary.has(key), false, `${key} should be absent`);
  expected.images.forEach((keys, i) => {
    const header = p.hdus[i + 1]!.header;
    for (const [key, value] of Object.entries(keys)) assert.equal(header.value(key), value, `IM${i + 1} ${key}`);
  });
  const merged = findHdu(p.hdus, 'MERGED')!;
  for (const [key, value] of Object.entries(expected.merged)) {
    const ours = key.startsWith('NAXIS') ? merged.header.number(key)! : merged.header.number(key)!;
    const tolerance = key.endsWith('STD') ? 1e-9 * value : 0;
    assert.ok(Math.abs(ours - value) <= tolerance, `MERGED ${key}: ours ${ours}, numpy ${value}`);
  }
  const oracleBytes = await readFile(mergedOut);
  const ours = p.bytes.subarray(merged.dataOffset, merged.dataOffset + merged.dataBytes);
  assert.equal(ours.length, oracleBytes.length);
  assert.ok(ours.equals(oracleBytes), 'MERGED pixels differ from numpy’s float32 result');
  return { worstTimeS };
}

const CASES: Array<[string, Record<string, unknown>]> = [
  ['MODS1B 1k', { instrument: 'MODS1B', roi: '1k' }],
  ['MODS2R 1k binned 2x2', { instrument: 'MODS2R', roi: '1k', bin: '2x2' }],
  ['MODS1R 4k, sexagesimal TELALT/TELAZ', { instrument: 'MODS1R', roi: '4k', broken: ['sexagesimal-altaz'] }],
  ['MODS2B 3k, UTC-OBS .1000 at midnight', { instrument: 'MODS2B', roi: '3k', broken: ['utc-fraction-1000'], utcStart: '2026-03-01T23:59:59.999Z' }],
  ['MODS1B 1k, southern target, NONSIDER as text', { instrument: 'MODS1B', roi: '1k', teldec: '-00:30:00.00', telra: '23:59:59.999', broken: ['nonsider-text'] }],
  ['MODS2R full frame', { instrument: 'MODS2R', roi: 'full' }],
];

for (const [name, sim] of CASES) {
  test(`processing agrees with astropy/numpy: ${name}`, async (t) => {
    if (skipUnless(t, astropyPython() !== null, ASTROPY_MISSING)) return;
    const dir = await tempDir(t);
    const p = await generateAndProcess(dir, sim);
    const { worstTimeS } = await compareWithOracle(p);
    t.diagnostic(`largest time-keyword difference from astropy: ${(worstTimeS * 1e6).toFixed(3)} µs`);
  });
}

test('time keywords agree with astropy within 5 µs on random dates, times and pointings', async (t) => {
  if (skipUnless(t, astropyPython() !== null, ASTROPY_MISSING)) return;
  const dir = await tempDir(t);
  const rand = createPrng(20261124);
  let worst = 0;
  for (let i = 0; i < 6; i++) {
    const start = Date.UTC(2017, 0, 1) + Math.floor(rand.next() * (Date.UTC(2027, 5, 1) - Date.UTC(2017, 0, 1)));
    const ra = rand.next() * 24;
    const dec = -30 + rand.next() * 120;
    const sexagesimal = (v: number, sign: boolean, digits: number) => {
      const s = v < 0 ? '-' : sign ? '+' : '';
      const a = Math.abs(v);
      const h = Math.floor(a);
      const m = Math.floor((a - h) * 60);
      const sec = ((a - h) * 60 - m) * 60;
      return `${s}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${sec.toFixed(digits).padStart(3 + digits, '0')}`;
    };
    const p = await generateAndProcess(dir, {
      roi: '1k', seed: i, utcStart: new Date(start).toISOString(),
      telra: sexagesimal(ra, false, 3), teldec: sexagesimal(Math.min(dec, 89.9), true, 2),
    });
    worst = Math.max(worst, (await compareWithOracle(p)).worstTimeS);
  }
  t.diagnostic(`largest time-keyword difference from astropy over random cases: ${(worst * 1e6).toFixed(3)} µs`);
});
