import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { smallMef } from '../helpers/small-fits.js';

test('dataman --help lists the commands', async () => {
  const run = await runCli(['--help']);
  assert.equal(run.code, 0);
  for (const command of ['inspect', 'verify']) assert.match(run.stdout, new RegExp(`^\\s+${command}\\b`, 'm'));
});

test('inspect --json reports typed values, offsets and sizes', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'a.fits');
  await writeFile(path, await smallMef());
  const run = await runCli(['inspect', '--json', path]);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.equal(report.file, path);
  assert.deepEqual(report.hdus.map((h: { type: string; extname: string | null }) => [h.type, h.extname]), [['PRIMARY', null], ['IMAGE', 'IM1'], ['BINTABLE', 'CONPARS']]);
  assert.deepEqual(report.hdus[0].cards[0], { keyword: 'SIMPLE', value: true, comment: 'conforms to FITS standard' });
  assert.deepEqual(report.hdus[1].cards.find((c: { keyword: string }) => c.keyword === 'BZERO'), { keyword: 'BZERO', value: 32768, comment: '' });
  assert.equal(report.hdus[1].dataOffset, 5760);
  assert.equal(report.hdus[1].dataBytes, 120);
});

test('inspect prints the HDU table and every card image', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'a.fits');
  await writeFile(path, await smallMef());
  const run = await runCli(['inspect', path]);
  assert.match(run.stdout, /^1\s+IM1\s+IMAGE\s+10\s+\(10, 6\)\s+BITPIX 16$/m);
  assert.match(run.stdout, /^INSTRUME= 'MODS1B  '           \/ Instrument Name$/m);
});

test('verify flags a file truncated at any byte, and says by how much', async (t) => {
  const dir = await tempDir(t);
  const bytes = await smallMef({ checksums: true });
  const whole = join(dir, 'whole.fits');
  await writeFile(whole, bytes);
  const ok = await runCli(['verify', whole]);
  assert.equal(ok.code, 0, ok.stdout);
  for (const length of [0, 1, 79, 80, 2879, 2881, 5759, 5760 + 119, 8641, 11520, 14399]) {
    const path = join(dir, `cut-${length}.fits`);
    await writeFile(path, bytes.subarray(0, length));
    const run = await runCli(['verify', path]);
    assert.equal(run.code, 1, `length ${length}: ${run.stdout}`);
    assert.match(run.stdout, new RegExp(`^FAIL ${path.replace(/[.]/g, '\\.')}`, 'm'));
    if (length >= 2880 && length % 2880 !== 0) assert.match(run.stdout, /bytes short|inside the header/);
  }
});

test('verify flags a checksum mismatch and still reports the other files', async (t) => {
  const dir = await tempDir(t);
  const bytes = Buffer.from(await smallMef({ checksums: true }));
  const good = join(dir, 'good.fits');
  await writeFile(good, bytes);
  bytes[5760 + 10] = bytes[5760 + 10]! ^ 0xff;
  const bad = join(dir, 'bad.fits');
  await writeFile(bad, bytes);
  const run = await runCli(['verify', bad, good, join(dir, 'missing.fits')]);
  assert.equal(run.code, 1);
  const lines = run.stdout.trim().split('\n');
  assert.ok(lines.some((l) => l.startsWith(`FAIL ${bad}, HDU 1, keyword DATASUM: DATASUM does not match`)), run.stdout);
  assert.ok(lines.some((l) => l.startsWith(`OK ${good}`)));
  assert.ok(lines.some((l) => l.includes('missing.fits') && l.includes('ENOENT')));
});
