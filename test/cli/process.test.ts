import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRaw } from '../../src/simulate/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { FITSVERIFY_MISSING, fitsverify, runFitsverify, skipUnless } from '../helpers/tools.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function rawFile(dir: string, options: Record<string, unknown> = {}): Promise<string> {
  const raw = generateRaw({ roi: '1k', ...options });
  const path = join(dir, raw.name);
  await writeFile(path, raw.bytes);
  return path;
}

test('process writes the processed file with checksums and never touches the raw file', async (t) => {
  const dir = await tempDir(t);
  const raw = await rawFile(dir);
  const before = sha(await readFile(raw));
  const out = join(dir, 'out');
  await mkdir(out);
  const run = await runCli(['process', raw, '--out', out]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /^OK .*mods1b\.20260115\.0001\.fits -> .*out\/mods1b\.20260115\.0001\.fits \(6517440 bytes; UNIQNAME, fixDETSEC, fixDateTime, fixTemps, fixMisc, makeOTM\)$/m);
  assert.equal(sha(await readFile(raw)), before);
  const verify = await runCli(['verify', join(out, 'mods1b.20260115.0001.fits')]);
  assert.match(verify.stdout, /checksums OK in 7 of 7 HDUs/);
});

test('process refuses to overwrite without --force, and replaces atomically with it', async (t) => {
  const dir = await tempDir(t);
  const raw = await rawFile(dir);
  const target = join(dir, 'processed.fits');
  await writeFile(target, 'precious');
  const refused = await runCli(['process', raw, '--out', target]);
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /^FAIL .*: .*processed\.fits exists; use --force to replace it$/m);
  assert.equal(await readFile(target, 'utf8'), 'precious');
  const forced = await runCli(['process', raw, '--out', target, '--force']);
  assert.equal(forced.code, 0, forced.stdout);
  assert.equal((await readFile(target)).length, 6517440);
  assert.deepEqual((await readdir(dir)).filter((n) => n.includes('dataman-tmp')), []);
});

test('process prints every warning, goes on after a failed file and exits non-zero', async (t) => {
  const dir = await tempDir(t);
  const good = await rawFile(dir, { broken: ['no-conpars'], seq: 2 });
  const bad = join(dir, 'mods1b.20260115.0003.fits');
  await writeFile(bad, 'This is bad data');
  const out = join(dir, 'out');
  await mkdir(out);
  const run = await runCli(['process', bad, good, '--out', out]);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /^FAIL .*0003\.fits: .*0003\.fits, HDU 0, byte 0: does not start with SIMPLE = T/m);
  assert.match(run.stdout, /^OK .*0002\.fits/m);
  assert.match(run.stdout, /^ {2}warning: fixTemps: no CONPARS table: CCDTEMP, BASETEMP and ARCHTEMP set to -999\.9$/m);
});

test('--steps runs only the named steps; an unknown step is a usage error', async (t) => {
  const dir = await tempDir(t);
  const raw = await rawFile(dir);
  const out = join(dir, 'only-time.fits');
  const run = await runCli(['process', raw, '--out', out, '--steps', 'fixDateTime']);
  assert.equal(run.code, 0, run.stdout);
  assert.match(run.stdout, /\(\d+ bytes; UNIQNAME, fixDateTime\)/);
  const bad = await runCli(['process', raw, '--out', join(dir, 'x.fits'), '--steps', 'fixEverything']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown step fixEverything/);
});

test('processed files of every instrument pass fitsverify with no error and no warning', async (t) => {
  if (skipUnless(t, fitsverify() !== null, FITSVERIFY_MISSING)) return;
  const dir = await tempDir(t);
  const out = join(dir, 'out');
  await mkdir(out);
  for (const [instrument, bin] of [['MODS1B', '1x1'], ['MODS1R', '2x2'], ['MODS2B', '1x1'], ['MODS2R', '1x2']] as const) {
    const raw = await rawFile(dir, { instrument, bin });
    const run = await runCli(['process', raw, '--out', out]);
    assert.equal(run.code, 0, run.stdout);
  }
  for (const name of await readdir(out)) {
    const result = runFitsverify(join(out, name));
    assert.deepEqual([result.errors, result.warnings], [0, 0], `${name}\n${result.output}`);
  }
});
