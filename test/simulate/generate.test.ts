import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bufferSource, findHdu, readHdus, readStructure, readTable } from '../../src/fits/index.js';
import { DEFAULT_MISSING_KEYWORDS, expectedMarks, generateRaw, markLevel } from '../../src/simulate/index.js';
import { median, otmMerge, readPlanes, region } from './helpers.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('file sizes (docs/raw-format.md §3, with both optional header blocks)', () => {
  for (const [roi, size] of [['full', 51_672_960], ['3k', 19_532_160], ['1k', 2_298_240], ['4k', 25_764_480]] as const) {
    test(`${roi}: ${size} bytes`, () => {
      const raw = generateRaw({ roi });
      assert.equal(raw.bytes.length, size);
      assert.equal(raw.completeLength, size);
      assert.equal(size % 2880, 0);
    });
  }
});

describe('determinism', () => {
  test('the same seed gives identical bytes, another seed different pixels and identical headers', () => {
    const a = generateRaw({ roi: '1k', seed: 7 });
    const b = generateRaw({ roi: '1k', seed: 7 });
    const c = generateRaw({ roi: '1k', seed: 8 });
    assert.equal(sha(a.bytes), sha(b.bytes));
    assert.notEqual(sha(a.bytes), sha(c.bytes));
    const headerEnd = a.layout[1]!.dataOffset;
    assert.equal(sha(a.bytes.subarray(0, headerEnd)), sha(c.bytes.subarray(0, headerEnd)));
  });
});

describe('pixel data', () => {
  test('the overscan of each IMx reads the declared bias level (median within ±0.5 DN)', async () => {
    for (const roi of ['1k', 'full']) {
      const raw = generateRaw({ roi, instrument: 'mods2r' });
      const { planes } = await readPlanes(raw.bytes);
      planes.forEach((p, k) => {
        const xdata = raw.geometry.xdata;
        const whole = median(region(p, xdata, p.width, 0, p.height));
        const dataman = median(region(p, xdata + 2, p.width, 2, p.height - 2));
        assert.ok(Math.abs(whole - raw.biasLevels[k]!) <= 0.5, `${roi} IM${k + 1}: ${whole} vs ${raw.biasLevels[k]}`);
        assert.ok(Math.abs(dataman - raw.biasLevels[k]!) <= 0.5, `${roi} IM${k + 1} (dataMan region): ${dataman}`);
      });
    }
    assert.deepEqual(generateRaw({ roi: '1k' }).biasLevels, [1021, 975, 1003, 988]);
  });

  test('read noise σ ≈ 1.5 DN and values stay within 0..65535', async () => {
    const raw = generateRaw({ roi: '1k' });
    const { planes } = await readPlanes(raw.bytes);
    const p = planes[0]!;
    const os = region(p, raw.geometry.xdata + 2, p.width, 0, p.height);
    const mean = os.reduce((a, b) => a + b, 0) / os.length;
    const sd = Math.sqrt(os.reduce((a, b) => a + (b - mean) ** 2, 0) / os.length);
    assert.ok(sd > 1.3 && sd < 1.8, `σ = ${sd}`);
    for (const plane of planes) for (const v of plane.values) assert.ok(v >= 0 && v <= 65535);
  });

  test('warmOverscan raises the first two overscan columns only', async () => {
    const raw = generateRaw({ roi: '1k', warmOverscan: true, readNoiseDn: 0 });
    const { planes } = await readPlanes(raw.bytes);
    const x = raw.geometry.xdata;
    const p = planes[0]!;
    assert.deepEqual([x, x + 1, x + 2].map((c) => median(region(p, c, c + 1, 0, p.height))), [1025, 1023, 1021]);
    const plain = (await readPlanes(generateRaw({ roi: '1k', readNoiseDn: 0 }).bytes)).planes[0]!;
    assert.deepEqual(median(region(plain, x, x + 2, 0, plain.height)), 1021);
  });

  test('custom bias levels and noise are honoured', async () => {
    const raw = generateRaw({ roi: '1k', biasLevels: [500, 600, 700, 800], readNoiseDn: 0, trace: false });
    const { planes } = await readPlanes(raw.bytes);
    planes.forEach((p, k) => assert.equal(median(region(p, raw.geometry.xdata + 2, p.width, 0, p.height)), 500 + 100 * k));
  });

  for (const bin of ['1x1', '2x2', '8x8', '3x1']) {
    test(`the fiducial marks land at the outer MERGED corners (1k, ${bin})`, async () => {
      const raw = generateRaw({ roi: '1k', bin, instrument: 'mods1r' });
      const { planes } = await readPlanes(raw.bytes);
      const { merged } = otmMerge(planes, 32);
      const marks = expectedMarks({ roi: '1k', bin });
      assert.deepEqual(marks, raw.marks);
      const W = merged.width;
      const H = merged.height;
      const corners = { 1: [1, 1], 2: [W, 1], 3: [1, H], 4: [W, H] } as const;
      for (const m of marks) {
        assert.equal(m.level, markLevel(m.quadrant));
        assert.equal(m.level, 20000 + 1000 * m.quadrant);
        const inside = region(merged, m.merged.x1 - 1, m.merged.x2, m.merged.y1 - 1, m.merged.y2);
        assert.ok(inside.length >= 4);
        for (const v of inside) assert.ok(Math.abs(v - m.level) <= 1, `Q${m.quadrant}: ${v} vs ${m.level}`);
        // Near its own outer corner, and nothing that bright just outside it.
        const [cx, cy] = corners[m.quadrant];
        const dx = Math.min(Math.abs(m.merged.x1 - cx), Math.abs(m.merged.x2 - cx));
        const dy = Math.min(Math.abs(m.merged.y1 - cy), Math.abs(m.merged.y2 - cy));
        assert.ok(dx <= 16 && dy <= 16, `Q${m.quadrant} mark at (${m.merged.x1},${m.merged.y1})`);
        const ring = region(merged, Math.max(0, m.merged.x1 - 3), Math.min(W, m.merged.x2 + 2), Math.max(0, m.merged.y1 - 3),
          Math.min(H, m.merged.y2 + 2));
        const bright = ring.filter((v) => v > 10000).length;
        assert.equal(bright, inside.length, 'the mark is a solid square');
      }
    });
  }

  test('the full-frame marks are 8×8 pixels 16 pixels from each corner', () => {
    assert.deepEqual(expectedMarks({ roi: 'full' }).map((m) => [m.quadrant, m.ext, m.merged]), [
      [1, 3, { x1: 17, x2: 24, y1: 17, y2: 24 }],
      [2, 4, { x1: 8269, x2: 8276, y1: 17, y2: 24 }],
      [3, 1, { x1: 17, x2: 24, y1: 3065, y2: 3072 }],
      [4, 2, { x1: 8269, x2: 8276, y1: 3065, y2: 3072 }],
    ]);
  });

  test('the spectrum trace is one straight horizontal band across MERGED', async () => {
    const raw = generateRaw({ roi: '1k' });
    const { planes } = await readPlanes(raw.bytes);
    const { merged } = otmMerge(planes, 32);
    const peakRow = (x: number) => {
      let best = 0;
      for (let y = 1; y < merged.height; y++) if (merged.values[y * merged.width + x]! > merged.values[best * merged.width + x]!) best = y;
      return best;
    };
    const rows = [100, 400, 600, 900].map(peakRow);
    for (const r of rows) assert.ok(Math.abs(r - rows[0]!) <= 1, `peak rows ${rows.join(',')}`);
    assert.ok(rows[0]! > merged.height / 2, 'in the upper half (Q3/Q4)');
    assert.ok(merged.values[rows[0]! * merged.width + 600]! > 2000);
  });

  test('bias frames have no trace', async () => {
    const raw = generateRaw({ roi: '1k', imageType: 'bias', exptimeS: 0 });
    const { planes } = await readPlanes(raw.bytes);
    const { merged } = otmMerge(planes, 32);
    const markPixels = raw.marks.reduce((n, m) => n + (m.merged.x2 - m.merged.x1 + 1) * (m.merged.y2 - m.merged.y1 + 1), 0);
    assert.equal(merged.values.filter((v) => v > 50).length, markPixels);
  });
});

describe('broken variants', () => {
  test('no-conpars: five HDUs, complete', async () => {
    const raw = generateRaw({ roi: '1k', broken: ['no-conpars'] });
    const s = await readStructure(bufferSource(raw.bytes));
    assert.equal(s.complete, true);
    assert.equal(s.hdus.length, 5);
    assert.equal(findHdu(s.hdus, 'CONPARS'), undefined);
    assert.equal(raw.bytes.length, raw.imagesLength);
  });

  test('truncated: readStructure reports an incomplete file, at a given or a seeded byte', async () => {
    const at = generateRaw({ roi: '1k', truncateAt: 100_000 });
    assert.equal(at.bytes.length, 100_000);
    assert.equal((await readStructure(bufferSource(at.bytes))).complete, false);
    const r1 = generateRaw({ roi: '1k', broken: ['truncated'], seed: 3 });
    const r2 = generateRaw({ roi: '1k', broken: ['truncated'], seed: 3 });
    assert.equal(r1.bytes.length, r2.bytes.length);
    assert.ok(r1.bytes.length < r1.completeLength && r1.bytes.length >= 2880);
    const s = await readStructure(bufferSource(r1.bytes));
    assert.equal(s.complete, false);
    assert.ok(s.truncation);
    assert.throws(() => generateRaw({ roi: '1k', truncateAt: 10_000_000 }), /not inside/);
  });

  test('missing-keywords: the default list is absent from every HDU', async () => {
    const hdus = await readHdus(bufferSource(generateRaw({ roi: '1k', broken: ['missing-keywords'] }).bytes));
    for (const k of DEFAULT_MISSING_KEYWORDS) for (const h of hdus) assert.equal(h.header.has(k), false, `${k} in HDU ${h.index}`);
    assert.equal(hdus[1]!.header.cards.length, 72, 'OVRSCAN1 gone');
    assert.equal(hdus[0]!.header.cards.length, 209 - 5);
    const only = await readHdus(bufferSource(generateRaw({ roi: '1k', missingKeywords: ['REF-PIX2'] }).bytes));
    assert.equal(only[0]!.header.has('REF-PIX2'), false);
    assert.equal(only[0]!.header.has('REF-PIX1'), true);
  });

  test('imagetyp-lower is the default; imagetyp-upper writes upper case', async () => {
    const value = async (broken: string[]) => (await readHdus(bufferSource(generateRaw({ roi: '1k', imageType: 'flat', broken }).bytes)))[0]!.header.value('IMAGETYP');
    assert.equal(await value([]), 'flat');
    assert.equal(await value(['imagetyp-lower']), 'flat');
    assert.equal(await value(['imagetyp-upper']), 'FLAT');
  });

  test('sexagesimal-altaz: TELALT/TELAZ as dms strings', async () => {
    const h = (await readHdus(bufferSource(generateRaw({ roi: '1k', broken: ['sexagesimal-altaz'] }).bytes)))[0]!.header;
    assert.match(h.string('TELALT') ?? '', /^[+-]\d\d:\d\d:\d\d\.\d\d$/);
    assert.match(h.string('TELAZ') ?? '', /^[+-]\d{3}:\d\d:\d\d\.\d{3}$/);
    assert.equal(h.get('TELALT')?.comment, 'Telescope Altitude at start of obs [dms]');
  });

  test('blank-nstype is the default; nstype-missing drops NSTYPE only', async () => {
    const blank = (await readHdus(bufferSource(generateRaw({ roi: '1k', broken: ['blank-nstype'] }).bytes)))[0]!.header;
    assert.equal(blank.value('NSTYPE'), '');
    const missing = (await readHdus(bufferSource(generateRaw({ roi: '1k', broken: ['nstype-missing'] }).bytes)))[0]!.header;
    assert.equal(missing.has('NSTYPE'), false);
    assert.equal(missing.value('NSEPHFIL'), '');
  });

  test('utc-fraction-1000: UTC-OBS, TIME-OBS and UT end in .1000', async () => {
    const h = (await readHdus(bufferSource(generateRaw({ roi: '1k', broken: ['utc-fraction-1000'] }).bytes)))[0]!.header;
    for (const k of ['UTC-OBS', 'TIME-OBS', 'UT']) assert.equal(h.value(k), '04:12:33.1000', k);
  });

  test('nan-temperature: the CCD sensor row reads nan (TEMPB on MODS1, TEMPA on MODS2)', async () => {
    for (const [instrument, key] of [['mods1b', 'MOD10/TEMPB'], ['mods2r', 'MOD10/TEMPA']] as const) {
      const raw = generateRaw({ roi: '1k', instrument, broken: ['nan-temperature'] });
      const source = bufferSource(raw.bytes);
      const table = await readTable(source, (await readHdus(source))[5]!);
      const rows = new Map(table.rows.map((r) => [r.Keyword, r.Value]));
      assert.equal(rows.get(key), 'nan');
    }
  });

  test('CONPARS temperatures: MODS1 base on TEMPA, MODS2 swapped; texts can be overridden', async () => {
    const temps = async (instrument: string, conpars = {}) => {
      const raw = generateRaw({ roi: '1k', instrument, conpars });
      const source = bufferSource(raw.bytes);
      const table = await readTable(source, findHdu(await readHdus(source), 'CONPARS')!);
      const rows = new Map(table.rows.map((r) => [r.Keyword, r.Value]));
      return [Number(rows.get('MOD10/TEMPA')), Number(rows.get('MOD10/TEMPB')), Number(rows.get('BACKPLANE_TEMP')), table.rows.length];
    };
    const [a1, b1, bp, n] = await temps('mods1b');
    assert.ok(Math.abs(a1! + 128.1) < 0.05 && Math.abs(b1! + 106.0) < 0.05, `${a1} ${b1}`);
    assert.ok(Math.abs(bp! - 23.8) < 0.05);
    assert.equal(n, 205);
    const [a2, b2] = await temps('mods2b');
    assert.ok(Math.abs(a2! + 106.0) < 0.05 && Math.abs(b2! + 128.1) < 0.05, `${a2} ${b2}`);
    const [, , bpNan] = await temps('mods1b', { backplane: 'nan' });
    assert.ok(Number.isNaN(bpNan));
  });

  test('nonsider-text and lbtwlink-text write text values', async () => {
    const h = (await readHdus(bufferSource(generateRaw({ roi: '1k', broken: ['nonsider-text', 'lbtwlink-text'] }).bytes)))[0]!.header;
    assert.equal(h.get('NONSIDER')?.kind, 'string');
    assert.equal(h.value('NONSIDER'), '0');
    assert.equal(h.value('LBTWLINK'), 'True');
  });

  test('q-extnames: Q1..Q4 instead of IM1..IM4', async () => {
    const hdus = await readHdus(bufferSource(generateRaw({ roi: '1k', broken: ['q-extnames'] }).bytes));
    assert.deepEqual(hdus.map((h) => h.extname), [undefined, 'Q1', 'Q2', 'Q3', 'Q4', 'CONPARS']);
  });

  test('bad options are usage errors naming the option', () => {
    assert.throws(() => generateRaw({ broken: ['melted'] }), /unknown broken variant "melted"/);
    assert.throws(() => generateRaw({ roi: '2k' }), /unknown ROI "2k"/);
    assert.throws(() => generateRaw({ instrument: 'MODS3B' }), /instrument must be one of/);
    assert.throws(() => generateRaw({ bin: '0x2' }), /binning must be CxR/);
    assert.throws(() => generateRaw({ obsDate: '20260230' }), /calendar date/);
    assert.throws(() => generateRaw({ telescopeBlock: false, broken: ['sexagesimal-altaz'] }), /needs the Telescope block/);
    assert.throws(() => generateRaw({ missingKeywords: ['NAXIS1'] }), /mandatory FITS keyword/);
  });
});
