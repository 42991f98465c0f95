/**
 * `dataman compare` on pairs made by dataman's own processing: each §9 row with a card rule is
 * recognised by its rule (A made from B by doing what the reference does), and deliberate faults
 * (a wrong DETSEC, a changed keyword or pixel, a missing HDU, a truncated file) are unexpected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, truncate, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareAll, comparePair, DELIBERATE_DIFFERENCES, type FileOutcome, type PairReport } from '../../src/compare/index.js';
import { tempDir } from '../helpers/temp.js';
import { runCli } from '../helpers/cli.js';
import { derive, hdu, processed, setValue, type EditableHdu } from './fixtures.js';

const AMPS = ['IM1', 'IM2', 'IM3', 'IM4'];

/** Rows whose card rule a test below exercises; checked against the table at the end. */
const ROWS_TESTED = new Set<number>();

function kinds(report: PairReport): string[] {
  return report.findings.map((f) => `${f.hdu} ${f.keyword ?? '-'} ${f.classification.kind === 'deliberate' ? `row ${f.classification.row}` : f.classification.kind}`);
}
const unexpected = (r: PairReport) => r.findings.filter((f) => f.classification.kind === 'unexpected');
const rowsOf = (r: PairReport) => new Set(r.findings.flatMap((f) => (f.classification.kind === 'deliberate' ? [f.classification.row] : [])));

/** The reference's sections (raw-format.md §8.2), written out here independently of src/compare. */
function referenceSections(h: EditableHdu[]) {
  const p = hdu(h, 'PRIMARY').header;
  const im1 = hdu(h, 'IM1').header;
  const c0 = p.number('REF-PIX1')!, r0 = p.number('REF-PIX2')!;
  const nc = im1.number('NAXIS1')!, nr = im1.number('NAXIS2')!, ncb = im1.number('OVRSCAN1')!;
  const left = `${c0 - nc + ncb + 1}:${c0}`, right = `${c0 + nc + ncb}:${c0 + 1}`;
  const lower = `${r0 - nr + 1}:${r0}`, upper = `${r0 + 1}:${r0 + nr}`;
  return {
    detsec: { IM1: `[${left},${lower}]`, IM2: `[${right},${lower}]`, IM3: `[${left},${upper}]`, IM4: `[${right},${upper}]` } as Record<string, string>,
    ltv1: c0 + nc - ncb + 1, ltv2: -r0,
    ccdroi: `[${c0 - nc + ncb + 1}:${c0 + nc - ncb},${r0 - nr + 1}:${r0 + nr}]`,
  };
}

test('compare: a pair that differs only in bookkeeping is expected-only; the same file twice is identical', async (t) => {
  const dir = await tempDir(t);
  const b = await processed(dir, { roi: '1k' });
  const a = await derive(b.outPath, join(dir, 'a.fits'), () => {});
  const r = await comparePair('x', a, b.outPath);
  assert.equal(r.verdict, 'expected', kinds(r).join('\n'));
  assert.ok(r.findings.every((f) => f.classification.kind === 'bookkeeping' && ['CHECKSUM', 'DATASUM'].includes(f.keyword!)), kinds(r).join('\n'));
  assert.equal(r.pixels.length, 5);
  assert.ok(r.pixels.every((p) => p.equal));
  assert.equal((await comparePair('x', b.outPath, b.outPath)).verdict, 'identical');
});

test('§9 rows 1 and 3 and 8 by their rules; a DETSEC off by other than the row-1 correction is unexpected', async (t) => {
  const dir = await tempDir(t);
  const b = await processed(dir, { roi: '1k' });
  // Row 1: the reference starts IM2/IM4 at c0+nc+ncb.
  const row1 = await derive(b.outPath, join(dir, 'row1.fits'), (h) => {
    const ref = referenceSections(h);
    for (const im of ['IM2', 'IM4']) for (const k of ['DETSEC', 'CCDSEC']) setValue(hdu(h, im).header, k, ref.detsec[im]!);
  });
  let r = await comparePair('x', row1, b.outPath);
  assert.deepEqual(kinds(r).filter((k) => !/CHECKSUM|DATASUM/.test(k)).sort(), ['IM2 CCDSEC row 1', 'IM2 DETSEC row 1', 'IM4 CCDSEC row 1', 'IM4 DETSEC row 1']);
  assert.equal(r.verdict, 'expected');
  ROWS_TESTED.add(1);
  // The same keyword, off by 10 columns more: not the row-1 correction.
  const wrong = await derive(b.outPath, join(dir, 'wrong-detsec.fits'), (h) => {
    const ref = referenceSections(h);
    setValue(hdu(h, 'IM2').header, 'DETSEC', ref.detsec.IM2!.replace(/^\[(\d+)/, (_m, x: string) => `[${Number(x) + 10}`));
  });
  r = await comparePair('x', wrong, b.outPath);
  assert.equal(r.verdict, 'unexpected');
  assert.deepEqual(unexpected(r).map((f) => `${f.hdu} ${f.keyword}`), ['IM2 DETSEC']);
  // Row 3: the reference left HJD-OBS/BJD-OBS out (site registry offline).
  const row3 = await derive(b.outPath, join(dir, 'row3.fits'), (h) => {
    for (const name of ['PRIMARY', 'MERGED']) for (const k of ['HJD-OBS', 'BJD-OBS']) hdu(h, name).header.delete(k);
  });
  r = await comparePair('x', row3, b.outPath);
  assert.equal(r.verdict, 'expected', kinds(r).join('\n'));
  assert.deepEqual([...rowsOf(r)], [3]);
  assert.equal(r.findings.filter((f) => f.classification.kind === 'deliberate').length, 4);
  ROWS_TESTED.add(3);
  // Row 3 does not excuse a wrong value, only an absent one.
  const wrongHjd = await derive(b.outPath, join(dir, 'wrong-hjd.fits'), (h) => {
    setValue(hdu(h, 'PRIMARY').header, 'HJD-OBS', hdu(h, 'PRIMARY').header.number('HJD-OBS')! + 1e-3);
  });
  assert.deepEqual(unexpected(await comparePair('x', wrongHjd, b.outPath)).map((f) => `${f.hdu} ${f.keyword}`), ['PRIMARY HJD-OBS']);
  // Row 8: the reference processed a processed file: DATE-OBS doubled, a second MERGED.
  const row8 = await derive(b.outPath, join(dir, 'row8.fits'), (h) => {
    for (const name of ['PRIMARY', 'MERGED']) {
      const header = hdu(h, name).header;
      setValue(header, 'DATE-OBS', `${header.string('DATE-OBS')!}T${header.string('UTC-OBS')!.trim()}`);
    }
    const merged = hdu(h, 'MERGED');
    return [...h, { name: 'MERGED', header: merged.header.clone(), data: merged.data }];
  });
  r = await comparePair('x', row8, b.outPath);
  assert.equal(r.verdict, 'expected', kinds(r).join('\n'));
  assert.deepEqual(kinds(r).filter((k) => /row/.test(k)).sort(), ['MERGED DATE-OBS row 8', 'MERGED#2 - row 8', 'PRIMARY DATE-OBS row 8']);
  ROWS_TESTED.add(8);
});

test('§9 row 2: binned sections, CCDROI and LTV as the reference writes them', async (t) => {
  const dir = await tempDir(t);
  const b = await processed(dir, { roi: '1k', bin: '2x2' });
  const a = await derive(b.outPath, join(dir, 'row2.fits'), (h) => {
    const ref = referenceSections(h);
    for (const im of AMPS) for (const k of ['DETSEC', 'CCDSEC']) setValue(hdu(h, im).header, k, ref.detsec[im]!);
    for (const im of ['IM2', 'IM4']) setValue(hdu(h, im).header, 'LTV1', ref.ltv1, 'integer');
    for (const im of ['IM3', 'IM4']) setValue(hdu(h, im).header, 'LTV2', ref.ltv2, 'integer');
    for (const name of ['PRIMARY', 'MERGED']) setValue(hdu(h, name).header, 'CCDROI', ref.ccdroi);
  });
  const r = await comparePair('x', a, b.outPath);
  assert.equal(r.verdict, 'expected', kinds(r).join('\n'));
  assert.deepEqual([...rowsOf(r)], [2]);
  // 8 sections, LTV1 ×2 and LTV2 ×2 where they differ, CCDROI ×2.
  assert.ok(r.findings.filter((f) => f.classification.kind === 'deliberate').length >= 10, kinds(r).join('\n'));
  ROWS_TESTED.add(2);
});

test('§9 row 4: a UTC-OBS fraction of .1000 read as 0.1 s by the reference', async (t) => {
  const dir = await tempDir(t);
  const b = await processed(dir, { roi: '1k', broken: ['utc-fraction-1000'] });
  const a = await derive(b.outPath, join(dir, 'row4.fits'), (h) => {
    for (const name of ['PRIMARY', 'MERGED']) {
      const header = hdu(h, name).header;
      const date = header.string('DATE-OBS')!.split('T')[0]!;
      setValue(header, 'DATE-OBS', `${date}T${header.string('UTC-OBS')!.trim()}`);
      for (const k of ['MJD-OBS', 'HJD-OBS', 'BJD-OBS']) setValue(header, k, header.number(k)! - 0.9 / 86400);
    }
  });
  let r = await comparePair('x', a, b.outPath);
  assert.equal(r.verdict, 'expected', kinds(r).join('\n'));
  assert.deepEqual([...rowsOf(r)], [4]);
  assert.equal(r.findings.filter((f) => f.classification.kind === 'deliberate').length, 8);
  ROWS_TESTED.add(4);
  // A shift of 0.5 s is not the .1000 reading.
  const off = await derive(b.outPath, join(dir, 'off.fits'), (h) => {
    const header = hdu(h, 'PRIMARY').header;
    setValue(header, 'MJD-OBS', header.number('MJD-OBS')! - 0.5 / 86400);
  });
  r = await comparePair('x', off, b.outPath);
  assert.deepEqual(unexpected(r).map((f) => `${f.hdu} ${f.keyword}`), ['PRIMARY MJD-OBS']);
});

test('§9 rows 5 and 6: NSTYPE/NSEPHFIL each on its own, NONSIDER read as a number', async (t) => {
  const dir = await tempDir(t);
  // Raw: NSTYPE missing, NSEPHFIL a real file name; NONSIDER the text '0'.
  const b = await processed(dir, { roi: '1k', broken: ['nonsider-text'] }, (h) => {
    const p = hdu(h, 'PRIMARY').header;
    p.delete('NSTYPE');
    setValue(p, 'NSEPHFIL', 'comet.eph');
  });
  assert.equal(hdu(await readBack(b.outPath), 'PRIMARY').header.string('NSEPHFIL'), 'comet.eph');
  const a = await derive(b.outPath, join(dir, 'rows56.fits'), (h) => {
    for (const name of ['PRIMARY', 'MERGED']) {
      setValue(hdu(h, name).header, 'NSEPHFIL', 'None');
      setValue(hdu(h, name).header, 'NONSIDER', true, 'logical');
    }
  });
  const r = await comparePair('x', a, b.outPath);
  assert.equal(r.verdict, 'expected', kinds(r).join('\n'));
  assert.deepEqual(kinds(r).filter((k) => /row/.test(k)).sort(), ['MERGED NONSIDER row 6', 'MERGED NSEPHFIL row 5', 'PRIMARY NONSIDER row 6', 'PRIMARY NSEPHFIL row 5']);
  ROWS_TESTED.add(5);
  ROWS_TESTED.add(6);
});

test('a changed keyword, a changed pixel, a missing HDU and a truncated file are unexpected, never a crash', async (t) => {
  const dir = await tempDir(t);
  const b = await processed(dir, { roi: '1k' });
  const keyword = await derive(b.outPath, join(dir, 'keyword.fits'), (h) => setValue(hdu(h, 'PRIMARY').header, 'OBJECT', 'Something else'));
  let r = await comparePair('x', keyword, b.outPath);
  assert.deepEqual(unexpected(r).map((f) => `${f.hdu} ${f.keyword}`), ['PRIMARY OBJECT']);

  const pixel = await derive(b.outPath, join(dir, 'pixel.fits'), (h) => {
    const im3 = hdu(h, 'IM3');
    const width = im3.header.number('NAXIS1')!;
    const at = ((7 - 1) * width + (5 - 1)) * 2; // (x 5, y 7), BITPIX 16
    im3.data.writeInt16BE(im3.data.readInt16BE(at) - 3, at);
    const m = hdu(h, 'MERGED');
    m.data.writeFloatBE(m.data.readFloatBE(0) + 0.25, 0);
  });
  r = await comparePair('x', pixel, b.outPath);
  assert.equal(r.verdict, 'unexpected');
  const im3 = r.pixels.find((p) => p.hdu === 'IM3')!;
  assert.equal(im3.equal, false);
  assert.equal(im3.differing, 1);
  assert.deepEqual({ ...im3.largest!, a: undefined, b: undefined }, { difference: 3, x: 5, y: 7, a: undefined, b: undefined });
  assert.equal(r.pixels.find((p) => p.hdu === 'MERGED')!.largest!.x, 1);
  assert.ok(r.pixels.filter((p) => p.hdu !== 'IM3' && p.hdu !== 'MERGED').every((p) => p.equal));

  // The CONPARS table is compared byte by byte.
  const table = await derive(b.outPath, join(dir, 'table.fits'), (h) => { const c = hdu(h, 'CONPARS'); c.data[10] = c.data[10]! ^ 1; });
  r = await comparePair('x', table, b.outPath);
  assert.deepEqual(unexpected(r).map((f) => f.what.split(':')[0]), ['CONPARS']);
  assert.match(unexpected(r)[0]!.what, /^CONPARS: 1 bytes of the data unit differ, largest \|B−A\| 1 at \(11, 1\)/);

  const missing = await derive(b.outPath, join(dir, 'missing.fits'), (h) => h.filter((x) => x.name !== 'CONPARS'));
  r = await comparePair('x', missing, b.outPath);
  assert.deepEqual(unexpected(r).map((f) => f.what), ['HDU CONPARS is in B only']);

  const cut = join(dir, 'cut.fits');
  await copyFile(b.outPath, cut);
  await truncate(cut, Math.floor(b.bytes.length / 3));
  r = await comparePair('x', b.outPath, cut);
  assert.equal(r.verdict, 'unexpected');
  assert.match(unexpected(r)[0]!.what, /^B is truncated/);
});

test('dataman compare: folders, unpaired files, the exit status, --json and a file that is not FITS', async (t) => {
  const dir = await tempDir(t);
  const one = await processed(dir, { roi: '1k', seq: 1 });
  const two = await processed(dir, { roi: '1k', seq: 2 });
  const A = join(dir, 'A'), B = join(dir, 'B');
  await mkdir(A);
  await mkdir(B);
  await derive(one.outPath, join(A, one.raw.name), () => {});
  await copyFile(one.outPath, join(B, one.raw.name));
  await derive(two.outPath, join(A, two.raw.name), () => {});
  await copyFile(two.outPath, join(B, two.raw.name));
  let run = await runCli(['compare', A, B]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /^expected {4}mods1b\.\d{8}\.0001\.fits: bookkeeping ×\d+$/m);
  assert.match(run.stdout, /2 files compared: 0 identical, 2 expected-only, 0 unexpected; unpaired: 0 only in A, 0 only in B — clean/);

  // One file only in A, one only in B, one pair with an unexpected difference.
  await writeFile(join(A, 'mods1b.20260115.0009.fits'), one.bytes);
  await writeFile(join(B, 'mods1b.20260115.0010.fits'), one.bytes);
  await derive(two.outPath, join(A, two.raw.name), (h) => setValue(hdu(h, 'IM1').header, 'GAIN', 9.99, 'real'));
  run = await runCli(['compare', A, B]);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /^UNEXPECTED {2}mods1b\.\d{8}\.0002\.fits: IM1 GAIN: A 9\.99/m);
  assert.match(run.stdout, /^only in A {3}mods1b\.20260115\.0009\.fits/m);
  assert.match(run.stdout, /^only in B {3}mods1b\.20260115\.0010\.fits/m);
  assert.match(run.stdout, /2 files compared: 0 identical, 1 expected-only, 1 unexpected; unpaired: 1 only in A, 1 only in B — NOT clean/);

  run = await runCli(['compare', '--json', A, B]);
  const objects = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(objects.map((o) => o.verdict ?? 'summary'), ['expected', 'unexpected', 'only-in-a', 'only-in-b', 'summary']);
  assert.deepEqual((objects[4]!.summary as Record<string, unknown>).clean, false);
  const gain = (objects[1]!.findings as Array<Record<string, unknown>>).find((f) => f.keyword === 'GAIN')!;
  assert.equal(gain.kind, 'unexpected');

  // Not a FITS file: one line, naming the file and the cause.
  const text = join(dir, 'notes.fits');
  await writeFile(text, 'observing notes, not an image\n'.repeat(200));
  run = await runCli(['compare', text, one.outPath]);
  assert.equal(run.code, 1);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.match(run.stderr, /^dataman: .*notes\.fits: not a FITS file: /);
  // In a folder it is that file's line, and the others are still compared.
  await writeFile(join(A, 'mods1b.20260115.0010.fits'), await readFile(text));
  run = await runCli(['compare', A, B]);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /^ERROR {7}mods1b\.20260115\.0010\.fits: .*not a FITS file/m);
  assert.match(run.stdout, /3 files compared: .*\(1 not readable as FITS\)/);
});

test('a file that cannot be read (gone since the folders were listed) is an error line of its own; the others are still compared', async (t) => {
  const dir = await tempDir(t);
  const b = await processed(dir, { roi: '1k' });
  const outcomes: FileOutcome[] = [];
  await compareAll({
    folders: true,
    pairs: [
      { name: 'gone.fits', a: join(dir, 'gone-a.fits'), b: join(dir, 'gone-b.fits'), bytes: 0 },
      { name: 'kept.fits', a: b.outPath, b: b.outPath, bytes: 0 },
    ],
    onlyInA: [], onlyInB: [],
  }, (outcome) => outcomes.push(outcome));
  assert.equal(outcomes.length, 2);
  assert.ok(outcomes[0]!.kind === 'error' && /cannot be read: ENOENT/.test(outcomes[0]!.message), JSON.stringify(outcomes[0]));
  assert.ok(outcomes[1]!.kind === 'pair' && outcomes[1]!.report.verdict === 'identical');
});

test('every §9 row with a card rule is exercised above', () => {
  const withRules = DELIBERATE_DIFFERENCES.filter((r) => r.cards !== undefined || r.extraHduInReference !== undefined).map((r) => r.row);
  assert.deepEqual([...ROWS_TESTED].sort((x, y) => x - y), withRules);
});

async function readBack(path: string) {
  const { readEditable } = await import('./fixtures.js');
  return readEditable(path);
}
