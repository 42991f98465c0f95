import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bufferSource, decodeImage, findHdu, memorySink, readHdus, TruncatedFitsError, verifyFile, writeFits, type Hdu, type HduOutput } from '../../src/fits/index.js';
import { processFile } from '../../src/steps/pipeline.js';
import { tempDir } from '../helpers/temp.js';
import { generateAndProcess, messages, testOptions } from '../helpers/processing.js';

// The MODS readout geometry of raw-format.md §3 (2026 detector), written out here rather than
// taken from src/: [preset, x1, x2, y1, y2] of the ROI in unbinned detector pixels.
const ROIS: Array<[string, number, number, number, number]> = [
  ['full', 1, 8292, 1, 3088], ['3k', 2603, 5690, 1, 3088], ['1k', 3635, 4658, 1033, 2056], ['4k', 2099, 6194, 1, 3088],
];
const SENSORS: Record<string, [string, string]> = {
  MODS1B: ['MOD10/TEMPB', 'MOD10/TEMPA'], MODS1R: ['MOD10/TEMPB', 'MOD10/TEMPA'],
  MODS2B: ['MOD10/TEMPA', 'MOD10/TEMPB'], MODS2R: ['MOD10/TEMPA', 'MOD10/TEMPB'],
};

function sections([, x1, x2, y1, y2]: (typeof ROIS)[number]): string[] {
  return [`[${x1}:4146,${y1}:1544]`, `[${x2}:4147,${y1}:1544]`, `[${x1}:4146,1545:${y2}]`, `[${x2}:4147,1545:${y2}]`];
}

const image = (hdus: Hdu[], n: number) => findHdu(hdus, `IM${n}`)!.header;

describe('processing every instrument and ROI (1x1)', () => {
  for (const instrument of ['MODS1B', 'MODS1R', 'MODS2B', 'MODS2R']) {
    for (const roi of ROIS) {
      // A full frame per instrument would be slow; full frames are covered for one instrument.
      if (roi[0] === 'full' && instrument !== 'MODS2R') continue;
      test(`${instrument} ${roi[0]}: sections, temperatures, keywords, MERGED geometry, checksums`, async (t) => {
        const dir = await tempDir(t);
        const p = await generateAndProcess(dir, { instrument, roi: roi[0], seed: 11 });
        assert.deepEqual(p.hdus.map((h) => h.extname ?? 'PRIMARY'), ['PRIMARY', 'IM1', 'IM2', 'IM3', 'IM4', 'CONPARS', 'MERGED']);
        const expected = sections(roi);
        for (let n = 1; n <= 4; n++) {
          assert.equal(image(p.hdus, n).string('DETSEC'), expected[n - 1], `IM${n} DETSEC`);
          assert.equal(image(p.hdus, n).string('CCDSEC'), expected[n - 1], `IM${n} CCDSEC`);
        }
        const [, x1, x2, y1, y2] = roi;
        const naxis1 = (x2 - x1 + 1) / 2 + 32;
        for (const n of [2, 4]) assert.equal(image(p.hdus, n).number('LTV1'), 4146 + naxis1 - 32 + 1);
        for (const n of [3, 4]) assert.equal(image(p.hdus, n).number('LTV2'), -1544);
        const primary = p.hdus[0]!.header;
        assert.equal(primary.string('CCDROI'), `[${x1}:${x2},${y1}:${y2}]`);
        const rows = new Map(p.raw.conparsRows);
        const [ccd, base] = SENSORS[instrument]!;
        assert.equal(primary.number('CCDTEMP'), Number(rows.get(ccd)));
        assert.equal(primary.number('BASETEMP'), Number(rows.get(base)));
        assert.equal(primary.number('ARCHTEMP'), Number(rows.get('BACKPLANE_TEMP')));
        assert.equal(primary.has('NEXTEND'), false);
        assert.equal(primary.string('IMAGETYP'), p.raw.summary.imageType.toUpperCase());
        assert.equal(primary.string('UNIQNAME'), `${instrument.toLowerCase()}.20260114.220000.fits`);
        const merged = findHdu(p.hdus, 'MERGED')!;
        assert.deepEqual(merged.axes, [x2 - x1 + 1, y2 - y1 + 1]);
        assert.equal(merged.bitpix, -32);
        assert.deepEqual(messages(p.result), []);
        assert.equal((await verifyFile(bufferSource(p.bytes))).ok, true);
      });
    }
  }
});

test('binned 2x2: sections and CCDROI in unbinned detector pixels, CCDXBIN/CCDYBIN from CCDSUM', async (t) => {
  const dir = await tempDir(t);
  const p = await generateAndProcess(dir, { instrument: 'MODS1R', roi: '1k', bin: '2x2' });
  assert.deepEqual(findHdu(p.hdus, 'IM1')!.axes, [288, 256]);
  assert.equal(image(p.hdus, 1).string('DETSEC'), '[3635:4146,1033:1544]');
  assert.equal(image(p.hdus, 4).string('DETSEC'), '[4658:4147,1545:2056]');
  const primary = p.hdus[0]!.header;
  assert.equal(primary.string('CCDROI'), '[3635:4658,1033:2056]');
  assert.deepEqual([primary.number('CCDXBIN'), primary.number('CCDYBIN')], [2, 2]);
  assert.deepEqual(findHdu(p.hdus, 'MERGED')!.axes, [512, 512]);
});

test('the merge puts each fiducial mark in its own corner at its level, bias removed', async (t) => {
  const dir = await tempDir(t);
  for (const sim of [{ roi: '1k' }, { roi: '4k', instrument: 'MODS2B' }, { roi: '1k', bin: '2x2' }, { roi: '3k', bin: '1x2' }]) {
    const p = await generateAndProcess(dir, { ...sim, seed: 5 });
    const merged = findHdu(p.hdus, 'MERGED')!;
    const [width] = merged.axes as [number, number];
    const data = p.bytes.subarray(merged.dataOffset, merged.dataOffset + merged.dataBytes);
    const at = (x: number, y: number) => data.readFloatBE(((y - 1) * width + (x - 1)) * 4);
    for (const mark of p.raw.marks) {
      const inside: number[] = [];
      for (let y = mark.merged.y1; y <= mark.merged.y2; y++) for (let x = mark.merged.x1; x <= mark.merged.x2; x++) inside.push(at(x, y));
      inside.sort((a, b) => a - b);
      const median = inside[Math.floor(inside.length / 2)]!;
      assert.ok(Math.abs(median - mark.level) < 5, `${JSON.stringify(sim)} Q${mark.quadrant}: median ${median}, level ${mark.level}`);
      // Just outside the mark: background, bias removed.
      const beside = at(mark.merged.x2 + 3, mark.merged.y2 + 3);
      assert.ok(Math.abs(beside) < 20, `${JSON.stringify(sim)} Q${mark.quadrant} beside the mark: ${beside}`);
    }
    const primaryBias = [3, 4, 1, 2].map((ext) => p.raw.biasLevels[ext - 1]!);
    primaryBias.forEach((bias, i) => {
      const q = merged.header.number(`Q${i + 1}BIAS`)!;
      assert.ok(Math.abs(q - bias) <= 0.5, `Q${i + 1}BIAS ${q} vs bias ${bias}`);
      const std = merged.header.number(`Q${i + 1}STD`)!;
      assert.ok(std > 1 && std < 2.5, `Q${i + 1}STD ${std}`);
    });
  }
});

test('amplifiers stored as float32 or int32 give the same MERGED as the unsigned 16-bit SIMD kernel', async (t) => {
  const dir = await tempDir(t);
  const p = await generateAndProcess(dir, { roi: '1k', seed: 11 });
  const expected = findHdu(p.hdus, 'MERGED')!;
  const rawHdus = await readHdus(bufferSource(p.raw.bytes));
  for (const bitpix of [-32, 32] as const) {
    // The same physical values, stored another way: float32 as they are, int32 offset by BZERO.
    const outputs: HduOutput[] = rawHdus.map((h) => {
      const data = p.raw.bytes.subarray(h.dataOffset, h.dataOffset + h.dataPaddedBytes);
      if (!/^IM[1-4]$/.test(h.extname ?? '')) return { header: h.header, data: { kind: 'bytes', bytes: data } };
      const values = decodeImage(h, data);
      const header = h.header.clone();
      header.set('BITPIX', bitpix, { kind: 'integer' });
      const stored = Buffer.alloc(values.length * 4);
      if (bitpix === -32) {
        header.delete('BZERO');
        header.delete('BSCALE');
        values.forEach((v, i) => stored.writeFloatBE(v, i * 4));
      } else {
        header.set('BZERO', 1000, { kind: 'integer' });
        values.forEach((v, i) => stored.writeInt32BE(v - 1000, i * 4));
      }
      return { header, data: { kind: 'bytes', bytes: stored } };
    });
    const sink = memorySink();
    await writeFits(sink, outputs);
    const rawPath = join(dir, `bitpix${bitpix}.fits`);
    await writeFile(rawPath, sink.bytes());
    const outPath = join(dir, `bitpix${bitpix}-processed.fits`);
    await processFile(rawPath, outPath, testOptions());
    const bytes = await readFile(outPath);
    const merged = findHdu(await readHdus(bufferSource(bytes)), 'MERGED')!;
    assert.ok(
      bytes.subarray(merged.dataOffset, merged.dataOffset + merged.dataPaddedBytes)
        .equals(p.bytes.subarray(expected.dataOffset, expected.dataOffset + expected.dataPaddedBytes)),
      `BITPIX ${bitpix}: MERGED pixels differ`,
    );
    for (const k of ['Q1BIAS', 'Q2BIAS', 'Q3BIAS', 'Q4BIAS', 'DATASUM']) assert.equal(merged.header.get(k)?.value, expected.header.get(k)?.value, `BITPIX ${bitpix}: ${k}`);
    // The general path sums in another order: the same standard deviation to rounding.
    for (const k of ['Q1STD', 'Q2STD', 'Q3STD', 'Q4STD']) {
      assert.ok(Math.abs(merged.header.number(k)! - expected.header.number(k)!) < 1e-12, `BITPIX ${bitpix}: ${k}`);
    }
    assert.equal((await verifyFile(bufferSource(bytes))).ok, true);
  }
});

test('data units of IM1..IM4 and CONPARS are copied byte for byte; the raw file is untouched', async (t) => {
  const dir = await tempDir(t);
  const p = await generateAndProcess(dir, { roi: '1k' });
  const rawHdus = await readHdus(bufferSource(p.raw.bytes));
  for (const name of ['IM1', 'IM2', 'IM3', 'IM4', 'CONPARS']) {
    const a = findHdu(rawHdus, name)!;
    const b = findHdu(p.hdus, name)!;
    assert.ok(p.raw.bytes.subarray(a.dataOffset, a.dataOffset + a.dataPaddedBytes).equals(p.bytes.subarray(b.dataOffset, b.dataOffset + b.dataPaddedBytes)), name);
  }
  // CONPARS' header is unchanged too (apart from the checksum cards appended at its end).
  const conpars = findHdu(p.hdus, 'CONPARS')!;
  const original = findHdu(rawHdus, 'CONPARS')!;
  assert.deepEqual(conpars.header.cards.slice(0, original.header.cards.length).map((c) => c.image), original.header.cards.map((c) => c.image));
  assert.ok((await readFile(p.rawPath)).equals(p.raw.bytes));
});

test('MERGED carries the processed primary header, then EXTNAME and the bias statistics', async (t) => {
  const dir = await tempDir(t);
  const p = await generateAndProcess(dir, { roi: '1k' });
  const primary = p.hdus[0]!.header.cards.map((c) => c.keyword).filter((k) => !['SIMPLE', 'BITPIX', 'NAXIS', 'EXTEND', 'CHECKSUM', 'DATASUM'].includes(k));
  const merged = findHdu(p.hdus, 'MERGED')!.header.cards.map((c) => c.keyword);
  assert.deepEqual(merged.slice(0, 7), ['XTENSION', 'BITPIX', 'NAXIS', 'NAXIS1', 'NAXIS2', 'PCOUNT', 'GCOUNT']);
  assert.deepEqual(merged.slice(7, 7 + primary.length), primary);
  assert.deepEqual(merged.slice(7 + primary.length), ['EXTNAME', 'Q1BIAS', 'Q1STD', 'Q2BIAS', 'Q2STD', 'Q3BIAS', 'Q3STD', 'Q4BIAS', 'Q4STD', 'CHECKSUM', 'DATASUM']);
  for (const [n, q] of [[1, 'Q3 flip cols'], [2, 'Q4 flip rows and cols'], [3, 'Q1 flip cols'], [4, 'Q2 flip rows and cols']] as const) {
    assert.equal(image(p.hdus, n).string('MODSQUAD'), q);
  }
  // 209 raw primary cards + UNIQNAME, MJD/HJD/BJD-OBS, ARCHTEMP, ZD, CCDROI, CCDXBIN, CCDYBIN,
  // OBJNAME and 9 target/guide keywords − NEXTEND = 227, plus CHECKSUM and DATASUM.
  assert.equal(p.hdus[0]!.header.cards.length, 227 + 2);
});

test('processing an already processed file gives the same bytes as processing the raw file', async (t) => {
  const dir = await tempDir(t);
  for (const sim of [{ roi: '1k' }, { roi: '1k', broken: ['utc-fraction-1000'], utcStart: '2026-01-15T23:59:59.999Z' }]) {
    const p = await generateAndProcess(dir, sim);
    const again = join(dirname(p.outPath), `again-${p.raw.name}`);
    await processFile(p.outPath, again, testOptions());
    const twice = await readFile(again);
    assert.equal(createHash('sha256').update(twice).digest('hex'), createHash('sha256').update(p.bytes).digest('hex'), JSON.stringify(sim));
  }
});

test('each step can be switched off; a disabled step leaves its keywords alone', async (t) => {
  const dir = await tempDir(t);
  const p = await generateAndProcess(dir, { roi: '1k' }, testOptions({ steps: { fixDETSEC: false, fixDateTime: true, fixTemps: false, fixMisc: false, makeOTM: false } }));
  assert.deepEqual(p.hdus.map((h) => h.extname ?? 'PRIMARY'), ['PRIMARY', 'IM1', 'IM2', 'IM3', 'IM4', 'CONPARS']);
  assert.deepEqual(p.result.outcomes.map((o) => `${o.step}:${o.status}`), ['UNIQNAME:applied', 'fixDETSEC:disabled', 'fixDateTime:applied', 'fixTemps:disabled', 'fixMisc:disabled', 'makeOTM:disabled']);
  const primary = p.hdus[0]!.header;
  assert.equal(primary.number('NEXTEND'), 4);
  assert.equal(primary.number('CCDTEMP'), -999.9);
  // As azcam writes it for a sub-frame ROI: from the ROI start to the amplifier's full extent.
  assert.equal(image(p.hdus, 2).string('DETSEC'), '[8292:7781,1033:1544]');
  assert.equal(primary.string('DATE-OBS'), '2026-01-15T04:12:33.456');
});

describe('broken raw files give their documented warning or error, never a crash', () => {
  const cases: Array<[string, Record<string, unknown>, (p: Awaited<ReturnType<typeof generateAndProcess>>) => void]> = [
    ['no CONPARS', { broken: ['no-conpars'] }, (p) => {
      assert.ok(messages(p.result).includes('fixTemps: no CONPARS table: CCDTEMP, BASETEMP and ARCHTEMP set to -999.9'));
      assert.equal(p.hdus[0]!.header.number('CCDTEMP'), -999.9);
      assert.equal(findHdu(p.hdus, 'MERGED')?.extname, 'MERGED');
    }],
    ['REF-PIX1 missing', { missingKeywords: ['REF-PIX1'] }, (p) => {
      assert.ok(messages(p.result).includes('fixDETSEC: REF-PIX1 missing in the primary header'), messages(p.result).join('\n'));
      assert.ok(messages(p.result).some((m) => m.startsWith('fixMisc: CCDROI not set: REF-PIX1 missing')));
    }],
    ['INSTRUME missing', { missingKeywords: ['INSTRUME'] }, (p) => {
      assert.ok(messages(p.result).includes('UNIQNAME: no INSTRUME keyword - corrupt header? UNIQNAME uses modsNx'));
      assert.ok(messages(p.result).some((m) => m.startsWith('fixTemps: INSTRUME missing')));
      assert.match(p.hdus[0]!.header.string('UNIQNAME')!, /^modsNx\./);
    }],
    ['OVRSCAN1 missing', { missingKeywords: ['OVRSCAN1'] }, (p) => {
      assert.ok(messages(p.result).includes('fixDETSEC: OVRSCAN1 missing in IM1'));
      assert.ok(messages(p.result).includes('makeOTM: OVRSCAN1 missing in IM1'));
      assert.equal(findHdu(p.hdus, 'MERGED'), undefined);
    }],
    ['TELRA missing (TCS offline)', { missingKeywords: ['TELRA'] }, (p) => {
      assert.ok(messages(p.result).includes('fixDateTime: TELRA missing: HJD-OBS and BJD-OBS not computed'), messages(p.result).join('\n'));
      assert.equal(p.hdus[0]!.header.has('HJD-OBS'), false);
      assert.equal(typeof p.hdus[0]!.header.number('MJD-OBS'), 'number');
    }],
    ['UTC-OBS missing', { missingKeywords: ['UTC-OBS'] }, (p) => {
      assert.ok(messages(p.result).includes('fixDateTime: UTC-OBS missing'));
      assert.equal(p.hdus[0]!.header.string('DATE-OBS'), '2026-01-15');
    }],
    ['sexagesimal TELALT/TELAZ', { broken: ['sexagesimal-altaz'] }, (p) => {
      const h = p.hdus[0]!.header;
      assert.equal(h.get('TELALT')!.kind, 'real');
      assert.ok(Math.abs(h.number('ZD')! - (90 - h.number('TELALT')!)) < 1e-12);
    }],
    ['NSTYPE missing but NSEPHFIL set', { broken: ['nstype-missing'], keywords: { NSEPHFIL: 'comet.eph' } }, (p) => {
      assert.equal(p.hdus[0]!.header.string('NSTYPE'), 'None');
      assert.equal(p.hdus[0]!.header.string('NSEPHFIL'), 'comet.eph');
    }],
    ['UTC-OBS ending in .1000', { broken: ['utc-fraction-1000'] }, (p) => {
      assert.match(p.hdus[0]!.header.string('DATE-OBS')!, /^2026-01-15T04:12:34\.000$/);
      assert.ok(messages(p.result).some((m) => m.includes('.1000')));
    }],
    ['nan temperature', { broken: ['nan-temperature'] }, (p) => {
      assert.ok(messages(p.result).some((m) => /^fixTemps: (CCD|BASE)TEMP: CONPARS MOD10\/TEMP[AB] value "nan" is not a finite number; set to -999\.9$/.test(m)), messages(p.result).join('\n'));
    }],
    ["NONSIDER = '0' (text)", { broken: ['nonsider-text'] }, (p) => assert.equal(p.hdus[0]!.header.value('NONSIDER'), false)],
    ["LBTWLINK = 'True'", { broken: ['lbtwlink-text'] }, (p) => assert.equal(p.hdus[0]!.header.string('LBTWLINK'), 'Unknown')],
    ['Q1..Q4 extension names (before 2026-01-02)', { broken: ['q-extnames'] }, (p) => {
      assert.deepEqual(p.hdus.map((h) => h.extname ?? 'PRIMARY'), ['PRIMARY', 'Q1', 'Q2', 'Q3', 'Q4', 'CONPARS', 'MERGED']);
      assert.equal(findHdu(p.hdus, 'Q2')!.header.string('DETSEC'), '[4658:4147,1033:1544]');
    }],
  ];
  for (const [what, sim, check] of cases) {
    test(what, async (t) => {
      const dir = await tempDir(t);
      const p = await generateAndProcess(dir, { roi: '1k', ...sim });
      check(p);
      assert.equal((await verifyFile(bufferSource(p.bytes))).ok, true);
    });
  }

  test('a truncated file fails with a typed error naming the file, and leaves no output', async (t) => {
    const dir = await tempDir(t);
    await assert.rejects(generateAndProcess(dir, { roi: '1k', broken: ['truncated'], truncateAt: 100_000 }), (err: unknown) => {
      assert.ok(err instanceof TruncatedFitsError);
      assert.match(err.message, /mods1b\.20260115\.0001\.fits, HDU \d, byte \d+: file is \d+ bytes short/);
      return true;
    });
    const { readdir } = await import('node:fs/promises');
    const [caseDir] = await readdir(dir);
    assert.deepEqual((await readdir(join(dir, caseDir!))).filter((n) => n.startsWith('processed-')), []);
  });
});

test('amplifiers too large for the merge skip makeOTM with a reason instead of failing the file', async () => {
  const { generateRaw } = await import('../../src/simulate/index.js');
  const { openRawFile } = await import('../../src/steps/raw-file.js');
  const { buildMergedImage, MergeError } = await import('../../src/steps/merged-preview.js');
  const raw = await openRawFile(bufferSource(generateRaw({ roi: '1k' }).bytes));
  // As a header could claim: four data units of 1 GiB (nothing is read or allocated before the check).
  for (const image of raw.images) Object.assign(image, { dataPaddedBytes: 2 ** 30 });
  await assert.rejects(buildMergedImage(raw), (err: unknown) => err instanceof MergeError && /hold \d+ bytes, more than the merge handles/.test(err.message));
  // Rows wider than one kernel call.
  for (const image of raw.images) Object.assign(image, { axes: [40_032, 20] });
  raw.images[0].header.set('OVRSCAN1', 32, { kind: 'integer' });
  await assert.rejects(buildMergedImage(raw), (err: unknown) => err instanceof MergeError && /rows of 40000 data columns/.test(err.message));
});

test('the arena a processing thread reserves at start is the one a MODS full frame needs', async () => {
  const { FULL_FRAME_ARENA_BYTES, mergeArenaBytes } = await import('../../src/steps/merged-preview.js');
  const { generateRaw } = await import('../../src/simulate/index.js');
  const { readStructure } = await import('../../src/fits/index.js');
  const raw = generateRaw({ roi: 'full', seq: 1 });
  const images = (await readStructure(bufferSource(Buffer.from(raw.bytes)))).hdus.filter((h) => /^IM[1-4]$/.test(h.header.string('EXTNAME')?.trim() ?? ''));
  assert.equal(images.length, 4);
  const [nx, ny] = [images[0]!.header.number('NAXIS1')!, images[0]!.header.number('NAXIS2')!];
  const xtrim = nx - images[0]!.header.number('OVRSCAN1')!;
  assert.equal(FULL_FRAME_ARENA_BYTES, mergeArenaBytes(images.map((h) => h.dataPaddedBytes), xtrim, ny));
});
