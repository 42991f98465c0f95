/** The light of the default frames: sky lines across the slit, a trace, arcs, flats, biases; blue unlike red. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bufferSource, readHdus } from '../../src/fits/index.js';
import { generateRaw, imageTypeDefaults, type SimulateOptions } from '../../src/simulate/index.js';
import { columnWavelengths } from '../../src/simulate/spectra.js';
import { median, otmMerge, readPlanes, region } from './helpers.js';

async function merged(options: SimulateOptions) {
  const raw = generateRaw(options);
  return { raw, merged: otmMerge((await readPlanes(raw.bytes)).planes, 32).merged };
}

/** Median of each MERGED column over rows [y0, y1). */
function columnMedians(m: { width: number; height: number; values: Float64Array }, y0: number, y1: number): number[] {
  return Array.from({ length: m.width }, (_, x) => median(region(m, x, x + 1, y0, y1)));
}

test('an object frame: bright sky lines cross the whole slit at the same columns, the rest is faint sky', async () => {
  const { merged: m } = await merged({ roi: '1k', instrument: 'mods1r' });
  const low = columnMedians(m, 50, 250);
  const high = columnMedians(m, 800, 1000);
  const lines = low.flatMap((v, x) => (v > 100 ? [x] : []));
  assert.ok(lines.length >= 8, `sky-line columns ${lines.join(', ')}`);
  for (const x of lines) assert.ok(Math.abs(high[x]! - low[x]!) < 0.15 * low[x]! + 10, `column ${x}: ${low[x]} vs ${high[x]}`);
  const sky = median(Float64Array.from(low));
  assert.ok(sky > 2 && sky < 30, `sky continuum ${sky} DN`);
});

test('blue and red see different wavelengths and different sky lines', async () => {
  const blue = columnWavelengths('blue', 8292);
  const red = columnWavelengths('red', 8292);
  assert.ok(blue[0]! < 3300 && blue[8291]! < 6000 && red[0]! > 5000 && red[8291]! > 9500);
  const lineColumns = async (instrument: string) => {
    const { merged: m } = await merged({ roi: 'full', bin: '4x4', instrument });
    return columnMedians(m, 400, 500).flatMap((v, x) => (v > 400 ? [x] : []));
  };
  const [b, r] = await Promise.all([lineColumns('mods1b'), lineColumns('mods1r')]);
  assert.ok(b.length > 0 && r.length > 2 * b.length, `blue ${b.length} line columns, red ${r.length}`);
});

test('arc frames have lamp lines and no trace, flats a smooth bright continuum, biases nothing', async () => {
  const arc = await merged({ roi: '1k', instrument: 'mods1r', imageType: 'comp' });
  const arcColumns = columnMedians(arc.merged, 100, 200);
  const bright = arcColumns.filter((v) => v > 5000).length;
  assert.ok(bright >= 5, `${bright} arc-line columns`);
  assert.ok(median(Float64Array.from(arcColumns)) < 20, 'dark between the lines');
  const traceRow = Math.round(0.62 * arc.merged.height);
  assert.ok(median(region(arc.merged, 0, 1024, traceRow, traceRow + 1)) < 20, 'no target on an arc');

  const flat = await merged({ roi: '1k', imageType: 'flat' });
  const flatColumns = columnMedians(flat.merged, 100, 200);
  assert.ok(Math.min(...flatColumns.slice(100, 900)) > 5000, 'a lamp flat is bright everywhere');

  const bias = await merged({ roi: '1k', imageType: 'bias' });
  assert.ok(Math.abs(median(bias.merged.values)) <= 1);
});

test('exposure time and OBJECT follow the image type; counts scale with the exposure time', async () => {
  const header = async (o: SimulateOptions) => (await readHdus(bufferSource(generateRaw({ roi: '1k', ...o }).bytes)))[0]!.header;
  for (const [imageType, exptime] of [['object', 300], ['std', 30], ['flat', 10], ['comp', 10], ['bias', 0]] as const) {
    const h = await header({ imageType });
    assert.equal(h.value('EXPTIME'), exptime, imageType);
    assert.equal(h.value('OBJECT'), imageTypeDefaults(imageType).object);
  }
  const level = async (exptimeS: number) => median(columnMedians((await merged({ roi: "1k", imageType: "flat", exptimeS })).merged, 100, 200));
  const [a, b] = [await level(2), await level(4)];
  assert.ok(Math.abs(b / a - 2) < 0.05, `flat level ${a} at 2 s, ${b} at 4 s`);
});
