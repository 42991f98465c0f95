import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRaw } from '../../src/simulate/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { skipUnless } from '../helpers/tools.js';
import { cliScript } from '../helpers/cli-child.js';

async function rawFiles(dir: string, specs: Array<{ seq: number; roi?: string; broken?: string[] }>): Promise<string[]> {
  const paths: string[] = [];
  for (const s of specs) {
    const raw = generateRaw({ roi: s.roi ?? '1k', seq: s.seq, ...(s.broken ? { broken: s.broken } : {}) });
    const path = join(dir, raw.name);
    await writeFile(path, raw.bytes);
    paths.push(path);
  }
  return paths;
}

test('--jobs 2 --json: one object per file in the order given; a bad file in the middle fails alone, named, exit 1', async (t) => {
  const dir = await tempDir(t);
  // The first file is the largest: the workers finish the later ones first.
  const [big, second] = await rawFiles(dir, [{ seq: 1, roi: '3k' }, { seq: 2, broken: ['no-conpars'] }]);
  const bad = join(dir, 'mods1b.20260115.0003.fits');
  await writeFile(bad, 'This is bad data');
  const [fourth, fifth] = await rawFiles(dir, [{ seq: 4 }, { seq: 5 }]);
  const out = join(dir, 'out');
  await mkdir(out);
  const run = await runCli(['process', big!, second!, bad, fourth!, fifth!, '--out', out, '--jobs', '2', '--json']);
  assert.equal(run.code, 1, run.stderr);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  assert.deepEqual(lines.map((l) => l.path), [big, second, bad, fourth, fifth]);
  assert.deepEqual(lines.map((l) => l.ok), [true, true, false, true, true]);
  assert.equal(lines[2]!.output, join(out, 'mods1b.20260115.0003.fits'));
  assert.match(lines[2]!.error.message, /0003\.fits, HDU 0, byte 0: does not start with SIMPLE = T/);
  assert.equal(typeof lines[2]!.error.code, 'string');
  const ok = lines[1]!;
  assert.equal(ok.output, join(out, 'mods1b.20260115.0002.fits'));
  assert.deepEqual(ok.steps.applied, ['UNIQNAME', 'fixDETSEC', 'fixDateTime', 'fixTemps', 'fixMisc', 'makeOTM']);
  assert.deepEqual(ok.steps.skipped, []);
  assert.deepEqual(ok.warnings, ['fixTemps: no CONPARS table: CCDTEMP, BASETEMP and ARCHTEMP set to -999.9']);
  assert.ok(ok.size > 0 && ok.timeMs > 0);
  assert.deepEqual((await readdir(out)).sort(), ['mods1b.20260115.0001.fits', 'mods1b.20260115.0002.fits', 'mods1b.20260115.0004.fits', 'mods1b.20260115.0005.fits']);
  const verify = await runCli(['verify', ...(await readdir(out)).map((n) => join(out, n))]);
  assert.equal(verify.code, 0, verify.stdout);
});

test('--json reports skipped steps with their reasons and disabled steps', async (t) => {
  const dir = await tempDir(t);
  const [raw] = await rawFiles(dir, [{ seq: 1, broken: ['missing-keywords'] }]);
  const run = await runCli(['process', raw!, '--out', join(dir, 'a.fits'), '--json', '--steps', 'fixDateTime,makeOTM']);
  const line = JSON.parse(run.stdout) as Record<string, any>;
  assert.deepEqual(line.steps.disabled, ['fixDETSEC', 'fixTemps', 'fixMisc']);
  for (const s of line.steps.skipped) assert.ok(typeof s.reason === 'string' && s.reason.length > 0, JSON.stringify(s));
  assert.equal(line.steps.applied.length + line.steps.skipped.length, 3);
});

test('the text output keeps the order given whatever --jobs, and --jobs must be a positive integer', async (t) => {
  const dir = await tempDir(t);
  const raws = await rawFiles(dir, [{ seq: 1, roi: '3k' }, { seq: 2 }, { seq: 3 }]);
  const firstWords = (stdout: string) => stdout.split('\n').filter((l) => /^(OK|FAIL) /.test(l)).map((l) => l.split(' ').slice(0, 2).join(' '));
  for (const jobs of ['1', '3']) {
    const out = join(dir, `out-${jobs}`);
    await mkdir(out);
    const run = await runCli(['process', ...raws, '--out', out, '--jobs', jobs]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.deepEqual(firstWords(run.stdout), raws.map((r) => `OK ${r}`));
  }
  const bad = await runCli(['process', raws[1]!, '--out', join(dir, 'x.fits'), '--jobs', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--jobs must be a positive integer, got "0"/);
});

test('redirected output carries no progress and no control codes', async (t) => {
  const dir = await tempDir(t);
  const raws = await rawFiles(dir, [{ seq: 1 }, { seq: 2 }, { seq: 3 }]);
  await mkdir(join(dir, 'out'));
  const run = spawnSync(process.execPath, [...cliScript(dir), 'process', ...raws, '--out', join(dir, 'out'), '--jobs', '2'], { encoding: 'utf8', cwd: dir });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.split('\n').filter((l) => l.startsWith('OK ')).length, 3);
  assert.equal(run.stderr, '');
  assert.doesNotMatch(run.stdout, /[\r\x1b]/);
});

test('on a terminal, standard error shows files done, MB/s and the time left', async (t) => {
  if (skipUnless(t, existsSync('/usr/bin/script'), 'util-linux script(1) is not installed: no pseudo-terminal to run under')) return;
  const dir = await tempDir(t);
  const raws = await rawFiles(dir, [{ seq: 1 }, { seq: 2 }]);
  await mkdir(join(dir, 'out'));
  const command = [process.execPath, ...cliScript(dir), 'process', ...raws, '--out', join(dir, 'out'), '--jobs', '2'].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const run = spawnSync('/usr/bin/script', ['-qec', command, '/dev/null'], { encoding: 'utf8', cwd: dir });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /\r\x1b\[K2\/2 files, \d+ MB\/s, \d+ s left/);
  assert.match(run.stdout, /OK .*0002\.fits/);
});

test('two raw files with the same name would race for one output: the later one is refused, named', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'a'));
  await mkdir(join(dir, 'b'));
  const [first] = await rawFiles(join(dir, 'a'), [{ seq: 1 }]);
  const [second] = await rawFiles(join(dir, 'b'), [{ seq: 1 }]);
  await mkdir(join(dir, 'out'));
  const run = await runCli(['process', first!, second!, '--out', join(dir, 'out'), '--jobs', '2']);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /^OK .*a\/mods1b\.20260115\.0001\.fits -> /m);
  assert.match(run.stdout, /^FAIL .*b\/mods1b\.20260115\.0001\.fits: same output .*out\/mods1b\.20260115\.0001\.fits as .*a\/mods1b\.20260115\.0001\.fits, given earlier$/m);
});
