/**
 * Fuzzing the structural reader (`readStructure`) and the readers built on it (`readHdus`,
 * `verifyFile`, `readImage`, `readTable`) with truncated, mutated, random and hostile files.
 * Every input ends in a result or a `FitsError`; nothing allocates what a header merely claims.
 *
 * CI: `npm test -- test/fuzz` (fixed seed, bounded runs, a few seconds).
 * Long run (no 180 s cap per file, unlike `npm test`; see fuzz-options.ts):
 *   DATAMAN_FUZZ_RUNS=200000 node --import tsx --test --test-reporter=spec test/fuzz/*.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BadHeaderError, bufferSource, FitsError, Header, memorySink, NotFitsError, readHdus, readImage, readStructure, readTable,
  TruncatedFitsError, verifyFile, writeFits, type ByteSource, type Card, type HduOutput,
} from '../../src/fits/index.js';
import { generateRaw } from '../../src/simulate/index.js';
import { smallMef } from '../helpers/small-fits.js';
import { expectResultOrAsync, fuzzParameters, memoryInUse } from './fuzz-options.js';
import { applyMutations, mapHeaders, mutationArbitrary, type HeaderMap } from './mutate.js';
import { cardText, standardKeyword } from './arbitraries.js';

const BLOCK = 2880;

/** A valid file, its HDU boundaries and its header map. */
interface Sample {
  name: string;
  bytes: Buffer;
  /** Lengths at which a cut file is a complete (shorter) FITS file. */
  boundaries: Set<number>;
  headers: HeaderMap[];
}

async function sample(name: string, bytes: Buffer): Promise<Sample> {
  const s = await readStructure(bufferSource(bytes));
  assert.equal(s.complete, true);
  const boundaries = new Set(s.hdus.map((h) => h.dataOffset + h.dataPaddedBytes));
  return { name, bytes, boundaries, headers: mapHeaders(bytes, s.hdus.map((h) => ({ offset: h.headerOffset, bytes: h.headerBytes }))) };
}

let samples: Promise<Sample[]> | undefined;
/** The small test MEF (14,400 bytes) and a synthetic 1k-ROI raw file (2.3 MB, headers of 6 HDUs). */
function validFiles(): Promise<Sample[]> {
  samples ??= Promise.all([
    smallMef().then((b) => sample('small MEF', b)),
    sample('1k raw', generateRaw({ roi: '1k' }).bytes),
  ]);
  return samples;
}

/**
 * Reads whatever can be read: structure, then (when complete) every HDU, checksums and data
 * units. Each reader ends in a result or a FitsError.
 */
async function readEverything(bytes: Buffer): Promise<void> {
  const source = bufferSource(bytes, 'fuzz.fits');
  const s = await expectResultOrAsync([FitsError], () => readStructure(source));
  if (!s.ok) {
    await assert.rejects(readHdus(source), FitsError);
    return;
  }
  const structure = s.value;
  assert.equal(structure.complete, structure.truncation === undefined);
  if (!structure.complete) {
    assert.ok(structure.truncation instanceof TruncatedFitsError);
    await assert.rejects(readHdus(source), TruncatedFitsError);
  }
  await expectResultOrAsync([FitsError], () => verifyFile(source));
  if (!structure.complete) return;
  for (const hdu of structure.hdus) {
    assert.ok(hdu.dataOffset + hdu.dataPaddedBytes <= bytes.length);
    if (hdu.type === 'BINTABLE') {
      const t = await expectResultOrAsync([FitsError], () => readTable(source, hdu));
      if (t.ok) assert.equal(t.value.rows.length, hdu.axes[1] ?? 0);
    } else if ((hdu.type === 'IMAGE' || hdu.type === 'PRIMARY') && hdu.dataBytes > 0) {
      await expectResultOrAsync([FitsError], () => readImage(source, hdu));
    }
  }
}

test('a valid file cut at any length is incomplete except at HDU boundaries, and never throws but when empty', async () => {
  const files = await validFiles();
  await fc.assert(
    fc.asyncProperty(fc.nat(files.length - 1), fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(BLOCK), async (which, fraction, near) => {
      const file = files[which]!;
      // Half the cuts land anywhere, half near a block or HDU boundary, where off-by-ones live.
      const boundaries = [...file.boundaries, ...file.headers.map((h) => h.offset), ...file.headers.map((h) => h.offset + h.bytes)];
      const length = near % 2 === 0
        ? Math.floor(fraction * file.bytes.length)
        : Math.min(file.bytes.length, Math.max(0, boundaries[near % boundaries.length]! + ((near >> 1) % 161) - 80));
      const cut = file.bytes.subarray(0, length);
      if (length === 0) {
        await assert.rejects(readStructure(bufferSource(cut)), NotFitsError);
        return;
      }
      const s = await readStructure(bufferSource(cut));
      assert.equal(s.complete, file.boundaries.has(length), `${file.name} cut at ${length}`);
      assert.equal(s.fileLength, length);
      if (s.complete) assert.equal(s.impliedLength, length);
      else assert.ok(s.truncation instanceof TruncatedFitsError);
    }),
    fuzzParameters(),
  );
});

test('mutated headers of valid files end in a result or a FitsError, whatever is read from them', async () => {
  const files = await validFiles();
  await fc.assert(
    fc.asyncProperty(
      fc.nat(files.length - 1).chain((which) => fc.tuple(fc.constant(which), fc.array(mutationArbitrary(files[which]!.headers.length), { minLength: 1, maxLength: 6 }))),
      async ([which, mutations]) => {
        const file = files[which]!;
        await readEverything(applyMutations(file.bytes, file.headers, mutations));
      },
    ),
    fuzzParameters(0.5),
  );
});

test('random bytes are NotFitsError unless they start like SIMPLE, and a result or FitsError even then', async () => {
  const garbage = fc.oneof(
    fc.uint8Array({ maxLength: 3 * BLOCK }),
    fc.tuple(fc.constantFrom('SIMPLE  =                    T', 'SIMPLE  = T', 'S', 'SIMPLE  =                    F', 'XTENSION= \'IMAGE   \''), fc.uint8Array({ maxLength: 2 * BLOCK }))
      .map(([head, tail]) => Buffer.concat([Buffer.from(head, 'latin1'), tail])),
    fc.tuple(fc.nat(40), cardText(80 * 40)).map(([n, text]) => Buffer.from(`SIMPLE  =                    T${' '.repeat(50)}${text}`.slice(0, 80 * (n + 1)), 'latin1')),
  );
  await fc.assert(
    fc.asyncProperty(garbage, async (bytes) => {
      const buffer = Buffer.from(bytes);
      if (buffer.length === 0 || buffer[0] !== 0x53 /* S */) {
        await assert.rejects(readStructure(bufferSource(buffer)), NotFitsError);
      }
      await readEverything(buffer);
    }),
    fuzzParameters(),
  );
});

/** Wraps a source to record the longest read asked of it. */
function recordingSource(bytes: Buffer): ByteSource & { longestRead: number } {
  const inner = bufferSource(bytes);
  const source = {
    path: undefined,
    longestRead: 0,
    size: () => inner.size(),
    read: (offset: number, length: number, into?: Buffer) => {
      source.longestRead = Math.max(source.longestRead, length);
      return inner.read(offset, length, into);
    },
    close: () => inner.close(),
  };
  return source;
}

const card = (keyword: string, kind: Card['kind'], value: Card['value']): Card => ({ keyword, kind, value, comment: undefined });

test('headers claiming huge data units are BadHeaderError or incomplete, and nothing of that size is read or allocated', async () => {
  const dimension: fc.Arbitrary<bigint> = fc.oneof(
    fc.nat(10).map(BigInt),
    fc.bigInt({ min: 0n, max: 10n ** 30n }),
    fc.constantFrom(2n ** 31n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 10n ** 18n, 99999999999999999999n),
  );
  const hdu = fc.record({
    extension: fc.boolean(),
    bitpix: fc.constantFrom(8, 16, 32, 64, -32, -64),
    axes: fc.array(dimension, { minLength: 1, maxLength: 4 }),
    pcount: fc.oneof(fc.constant(0n), dimension),
    gcount: fc.oneof(fc.constant(1n), dimension),
    dataBlocks: fc.nat(3),
  });
  const baseline = memoryInUse();
  let peak = 0;
  await fc.assert(
    fc.asyncProperty(hdu, async ({ extension, bitpix, axes, pcount, gcount, dataBlocks }) => {
      const int = (v: bigint) => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
      const h = new Header();
      if (extension) h.push(card('XTENSION', 'string', 'IMAGE'));
      else h.push(card('SIMPLE', 'logical', true));
      h.push(card('BITPIX', 'integer', bitpix));
      h.push(card('NAXIS', 'integer', axes.length));
      axes.forEach((n, i) => h.push(card(`NAXIS${i + 1}`, 'integer', int(n))));
      if (extension) {
        h.push(card('PCOUNT', 'integer', int(pcount)));
        h.push(card('GCOUNT', 'integer', int(gcount)));
      }
      const primary = extension ? new Header([], undefined) : undefined;
      if (primary) for (const c of [card('SIMPLE', 'logical', true), card('BITPIX', 'integer', 8), card('NAXIS', 'integer', 0), card('EXTEND', 'logical', true)]) primary.push(c);
      const bytes = Buffer.concat([...(primary ? [primary.toBuffer()] : []), h.toBuffer(), Buffer.alloc(dataBlocks * BLOCK)]);
      // The size of the data unit by the Standard (§4.4.1.1, §7.1.1), in exact arithmetic.
      const elements = axes.reduce((a, b) => a * b, 1n);
      const ext = extension ? (BigInt(Math.abs(bitpix)) / 8n) * gcount * (pcount + elements) : (BigInt(Math.abs(bitpix)) / 8n) * elements;
      const unsafe = [...axes, ...(extension ? [pcount, gcount] : [])].some((v) => v > BigInt(Number.MAX_SAFE_INTEGER)) ||
        ext > BigInt(Number.MAX_SAFE_INTEGER);
      const source = recordingSource(bytes);
      const r = await expectResultOrAsync([FitsError], () => readStructure(source));
      if (unsafe) {
        assert.ok(!r.ok && r.error instanceof BadHeaderError, `expected BadHeaderError, got ${r.ok ? 'a result' : r.error.message}`);
      } else {
        assert.ok(r.ok, `a plausible header was refused: ${r.ok ? '' : r.error.message}`);
        const padded = (ext + 2879n) / 2880n * 2880n;
        const headerEnd = BigInt(bytes.length - dataBlocks * BLOCK);
        // Zero blocks after the header are data when the header wants data, else an unfilled next header.
        const complete = padded === BigInt(dataBlocks * BLOCK) || (padded === 0n && dataBlocks === 0);
        assert.equal(r.value.complete, complete, `data ${ext} bytes, ${dataBlocks} blocks present`);
        if (!complete) assert.ok(BigInt(r.value.impliedLength) >= headerEnd);
      }
      await expectResultOrAsync([FitsError], () => verifyFile(source));
      assert.ok(source.longestRead <= Math.max(bytes.length, 64 * 1024), `a read of ${source.longestRead} bytes from a ${bytes.length}-byte file`);
      peak = Math.max(peak, memoryInUse() - baseline);
    }),
    fuzzParameters(),
  );
  // A memory bound, not a timing: an attempt to allocate what such a header claims would show here.
  assert.ok(peak < 64 * 1024 * 1024, `memory grew by ${Math.round(peak / 1024 / 1024)} MB`);
});

/* ---------------------------------------------------------------------------------------------
 * Structurally valid random files: the readers must agree with the Standard's size formula.
 */

interface ColumnSpec { type: string; repeat: number }
const WIDTH: Record<string, number> = { A: 1, L: 1, B: 1, I: 2, J: 4, K: 8, E: 4, D: 8, C: 8, M: 16, P: 8, Q: 16 };
const columnWidth = (c: ColumnSpec) => (c.type === 'X' ? Math.ceil(c.repeat / 8) : c.repeat * WIDTH[c.type]!);

const extraCard = fc.tuple(standardKeyword, fc.oneof(
  fc.integer().map((v) => ['integer', v] as const),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => ['real', v] as const),
  cardText(100).map((v) => ['string', v] as const),
  fc.boolean().map((v) => ['logical', v] as const),
)).filter(([k]) => !/^(SIMPLE|XTENSION|BITPIX|NAXIS\d*|PCOUNT|GCOUNT|GROUPS|EXTEND|TFIELDS|T(FORM|TYPE)\d+|END|CONTINUE|COMMENT|HISTORY|EXTNAME|BZERO|BSCALE)$/.test(k));

function hduSpecs(gcount: fc.Arbitrary<number>) {
  const image = fc.record({
    kind: fc.constant('image' as const),
    xtension: fc.constantFrom('IMAGE', 'IMAGE', 'FOREIGN', 'A3DTABLE'),
    bitpix: fc.constantFrom(8, 16, 32, 64, -32, -64),
    axes: fc.array(fc.nat(7), { maxLength: 3 }),
    pcount: fc.oneof(fc.constant(0), fc.nat(5)),
    gcount,
    scale: fc.option(fc.tuple(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 }))),
    extra: fc.array(extraCard, { maxLength: 4 }),
  });
  const table = fc.record({
    kind: fc.constant('table' as const),
    columns: fc.array(fc.record({ type: fc.constantFrom('A', 'L', 'X', 'B', 'I', 'J', 'K', 'E', 'D', 'C', 'M', 'P', 'Q'), repeat: fc.nat(4) }), { maxLength: 5 })
      .map((cols) => cols.map((c) => (c.type === 'P' || c.type === 'Q' ? { ...c, repeat: Math.min(c.repeat, 1) } : c))),
    rows: fc.nat(5),
    heap: fc.nat(16),
    gcount,
    extra: fc.array(extraCard, { maxLength: 4 }),
  });
  const primary = fc.record({ bitpix: fc.constantFrom(8, 16, 32, 64, -32, -64), axes: fc.array(fc.nat(7), { maxLength: 3 }) });
  return fc.record({ primary, extensions: fc.array(fc.oneof(image, table), { maxLength: 4 }), checksums: fc.boolean(), fill: fc.nat(255) });
}

type FileSpec = ReturnType<typeof hduSpecs> extends fc.Arbitrary<infer T> ? T : never;

/** Writes a file from a spec with the codec's writer; returns it and each HDU's data length by the Standard. */
async function buildFile(spec: FileSpec): Promise<{ bytes: Buffer; dataBytes: number[] }> {
  const outputs: HduOutput[] = [];
  const dataBytes: number[] = [];
  const data = (n: number) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (spec.fill + i * 131) & 0xff;
    return b;
  };
  const push = (h: Header, cards: Card[]) => { for (const c of cards) h.push(c); };
  const product = (axes: number[]) => (axes.length === 0 ? 0 : axes.reduce((a, b) => a * b, 1));

  const p = new Header();
  push(p, [card('SIMPLE', 'logical', true), card('BITPIX', 'integer', spec.primary.bitpix), card('NAXIS', 'integer', spec.primary.axes.length),
    ...spec.primary.axes.map((n, i) => card(`NAXIS${i + 1}`, 'integer', n)), card('EXTEND', 'logical', true)]);
  const primaryBytes = (Math.abs(spec.primary.bitpix) / 8) * product(spec.primary.axes);
  outputs.push({ header: p, data: { kind: 'bytes', bytes: data(primaryBytes) } });
  dataBytes.push(primaryBytes);

  for (const e of spec.extensions) {
    const h = new Header();
    if (e.kind === 'image') {
      push(h, [card('XTENSION', 'string', e.xtension), card('BITPIX', 'integer', e.bitpix), card('NAXIS', 'integer', e.axes.length),
        ...e.axes.map((n, i) => card(`NAXIS${i + 1}`, 'integer', n)), card('PCOUNT', 'integer', e.pcount), card('GCOUNT', 'integer', e.gcount)]);
      if (e.scale) push(h, [card('BZERO', 'real', e.scale[0]), card('BSCALE', 'real', e.scale[1])]);
      push(h, e.extra.map(([k, [kind, v]]) => card(k, kind, v)));
      const n = e.axes.length === 0 && e.pcount === 0 ? 0 : (Math.abs(e.bitpix) / 8) * e.gcount * (e.pcount + product(e.axes));
      outputs.push({ header: h, data: { kind: 'bytes', bytes: data(n) } });
      dataBytes.push(n);
    } else {
      const rowBytes = e.columns.reduce((a, c) => a + columnWidth(c), 0);
      push(h, [card('XTENSION', 'string', 'BINTABLE'), card('BITPIX', 'integer', 8), card('NAXIS', 'integer', 2),
        card('NAXIS1', 'integer', rowBytes), card('NAXIS2', 'integer', e.rows), card('PCOUNT', 'integer', e.heap),
        card('GCOUNT', 'integer', e.gcount), card('TFIELDS', 'integer', e.columns.length),
        ...e.columns.flatMap((c, i) => [card(`TTYPE${i + 1}`, 'string', `C${i + 1}`), card(`TFORM${i + 1}`, 'string', `${c.repeat}${c.type}${c.type === 'P' || c.type === 'Q' ? 'J' : ''}`)])]);
      push(h, e.extra.map(([k, [kind, v]]) => card(k, kind, v)));
      const n = e.gcount * (e.heap + rowBytes * e.rows);
      outputs.push({ header: h, data: { kind: 'bytes', bytes: data(n) } });
      dataBytes.push(n);
    }
  }
  const sink = memorySink();
  await writeFits(sink, outputs, { checksums: spec.checksums ? { timestamp: '2026-01-15T05:00:00' } : undefined });
  return { bytes: sink.bytes(), dataBytes };
}

async function checkValidFile(spec: FileSpec): Promise<void> {
  const { bytes, dataBytes } = await buildFile(spec);
  const source = bufferSource(bytes);
  const s = await readStructure(source);
  assert.equal(s.complete, true);
  assert.equal(s.impliedLength, bytes.length);
  assert.deepEqual(s.hdus.map((h) => h.dataBytes), dataBytes);
  const report = await verifyFile(source);
  assert.equal(report.ok, true, report.problems.map((p) => p.message).join('; '));
  if (spec.checksums) assert.ok(report.hdus.every((h) => h.checksumOk === true && h.datasumOk === true));
  for (const hdu of s.hdus) {
    if (hdu.type === 'BINTABLE') {
      const t = await expectResultOrAsync([FitsError], () => readTable(source, hdu));
      // GCOUNT = 0 leaves no room for the rows NAXIS1 × NAXIS2 describe: a FitsError says so.
      if (hdu.gcount > 0) assert.ok(t.ok, t.ok ? '' : t.error.message);
      if (t.ok) assert.equal(t.value.rows.length, hdu.axes[1]);
    } else if (hdu.type === 'IMAGE' || hdu.type === 'PRIMARY') {
      const image = await expectResultOrAsync([FitsError], () => readImage(source, hdu));
      if (image.ok) assert.equal(image.value.values.length, hdu.axes.length === 0 ? 0 : hdu.axes.reduce((a, b) => a * b, 1));
    }
  }
}

test('random structurally valid files read complete, verify, and decode their images and tables', async () => {
  await fc.assert(fc.asyncProperty(hduSpecs(fc.integer({ min: 1, max: 2 })), checkValidFile), fuzzParameters(0.5));
});

// Regression: GCOUNT = 0 with NAXISn > 0 made readImage and readTable throw RangeError.
test('an IMAGE or BINTABLE extension with GCOUNT = 0 (no data unit) reads as a result or a FitsError', async () => {
  await fc.assert(fc.asyncProperty(hduSpecs(fc.constantFrom(0, 1)), checkValidFile), fuzzParameters(0.5));
});
