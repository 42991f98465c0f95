/**
 * Fuzzing the processing pipeline: a synthetic 1k-ROI raw file (2.3 MB) with random header
 * mutations is opened, processed and written (to memory, with checksums). Every input ends in a
 * result or a `DatamanError` — never another exception type, never a hang.
 *
 * CI: `npm test -- test/fuzz` (fixed seed, bounded runs: this file runs a tenth of
 * DATAMAN_FUZZ_RUNS, about 30 files, ~1 s).
 * Long run (no 180 s cap per file, unlike `npm test`; see fuzz-options.ts):
 *   DATAMAN_FUZZ_RUNS=200000 node --import tsx --test --test-reporter=spec test/fuzz/*.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DatamanError } from '../../src/errors.js';
import { bufferSource, formatReal, memorySink, readStructure, verifyFile, writeFits } from '../../src/fits/index.js';
import { generateRaw } from '../../src/simulate/index.js';
import { openRawFile } from '../../src/steps/raw-file.js';
import { processRaw } from '../../src/steps/pipeline.js';
import { testOptions } from '../helpers/processing.js';
import { expectResultOrAsync, fuzzParameters } from './fuzz-options.js';
import { applyMutations, mapHeaders, mutationArbitrary, type HeaderMap, type Mutation } from './mutate.js';
import { cardText } from './arbitraries.js';

let raw: Promise<{ bytes: Buffer; headers: HeaderMap[] }> | undefined;
function rawFile() {
  raw ??= (async () => {
    const bytes = generateRaw({ roi: '1k' }).bytes;
    const s = await readStructure(bufferSource(bytes));
    return { bytes, headers: mapHeaders(bytes, s.hdus.map((h) => ({ offset: h.headerOffset, bytes: h.headerBytes }))) };
  })();
  return raw;
}

/** Opens, processes and writes one file; returns what became of it. */
async function processBytes(bytes: Buffer): Promise<'processed' | string> {
  const source = bufferSource(bytes, 'mods1b.20260115.0001.fits');
  const r = await expectResultOrAsync([DatamanError], async () => {
    const opened = await openRawFile(source);
    const processed = await processRaw(opened, testOptions());
    const sink = memorySink();
    await writeFits(sink, processed.outputs, { checksums: { timestamp: '2026-01-15T05:00:00' } });
    return { processed, out: sink.bytes() };
  });
  if (!r.ok) return (r.error as DatamanError).code;
  // What was written is a whole FITS file whose checksums hold.
  const report = await verifyFile(bufferSource(r.value.out));
  assert.equal(report.ok, true, report.problems.map((p) => p.message).join('; '));
  assert.equal(r.value.processed.outcomes.length, 6);
  return 'processed';
}

test('the unmutated 1k raw file processes with every step applied', async () => {
  const { bytes } = await rawFile();
  assert.equal(await processBytes(bytes), 'processed');
});

/** Mutations for processing: mostly value replacements, so that most files still open. */
function processingMutations(headers: HeaderMap[]): fc.Arbitrary<Mutation[]> {
  const replaceValue = fc.record({
    kind: fc.constant('value' as const),
    hdu: fc.nat(headers.length - 1),
    card: fc.nat(300),
    targeted: fc.boolean(),
    text: fc.oneof(cardText(70), fc.constantFrom("'", "''", '0', '-1', 'T', '', '1E400', "'1 1'", "'nan'")),
  });
  return fc.array(fc.oneof({ weight: 2, arbitrary: mutationArbitrary(headers.length) }, { weight: 1, arbitrary: replaceValue }), { minLength: 1, maxLength: 3 });
}

test('a 1k raw file with mutated headers is processed or fails with a DatamanError, nothing else', async () => {
  const { bytes, headers } = await rawFile();
  await fc.assert(
    fc.asyncProperty(processingMutations(headers), async (mutations) => {
      await processBytes(applyMutations(bytes, headers, mutations));
    }),
    fuzzParameters(0.1),
  );
});

test('a 1k raw file with random byte flips in its headers is processed or fails with a DatamanError', async () => {
  const { bytes, headers } = await rawFile();
  const flip = fc.record({
    kind: fc.constant('flip' as const),
    hdu: fc.nat(headers.length - 1),
    at: fc.nat(64 * 1024),
    value: fc.integer({ min: 0, max: 255 }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(flip, { minLength: 1, maxLength: 8 }), async (mutations) => {
      await processBytes(applyMutations(bytes, headers, mutations));
    }),
    fuzzParameters(0.05),
  );
});

// Regression: a non-integer OVRSCAN1 (31.5) made processRaw throw "internal: median rank beyond the histogram".
test('a 1k raw file whose IM1 OVRSCAN1 is any number is processed or fails with a DatamanError', async () => {
  const { bytes, headers } = await rawFile();
  const im1 = headers[1]!;
  const card = im1.cards.findIndex((c) => c.keyword === 'OVRSCAN1');
  assert.ok(card >= 0);
  const overscan = fc.oneof(
    fc.integer({ min: -10, max: 600 }).map(String),
    fc.integer({ min: -100, max: 6000 }).map((tenths) => formatReal(tenths / 10)),
    fc.double({ min: -10, max: 600, noNaN: true }).map((x) => formatReal(x)),
  );
  await fc.assert(
    fc.asyncProperty(overscan, async (text) => {
      await processBytes(applyMutations(bytes, headers, [{ kind: 'value', hdu: 1, card, targeted: false, text }]));
    }),
    fuzzParameters(0.1),
  );
});
