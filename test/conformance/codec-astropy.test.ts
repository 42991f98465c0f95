// Needs astropy (Debian python3-astropy) and fitsverify (Debian fitsverify); each test says so
// and is skipped where the tool is absent. .ci/run installs both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp.js';
import { ASTROPY_MISSING, astropyPython, FITSVERIFY_MISSING, fitsverify, runFitsverify, runPython, skipUnless } from '../helpers/tools.js';
import { assertSameCardsAsAstropy } from '../helpers/astropy-cards.js';
import { smallMef } from '../helpers/small-fits.js';
import { runCli } from '../helpers/cli.js';

const EDGE_CASES = String.raw`
import sys
import numpy as np
from astropy.io import fits
h = fits.Header()
h['STR'] = ('hello', 'a comment')
h['QUOTE'] = ("it's", 'escaped quote')
h['LEAD'] = '  leading spaces'
h['EMPTY'] = ''
h['LOGT'] = True
h['LOGF'] = (False, 'false')
h['INT'] = 42
h['NEG'] = (-7, 'negative')
h['REAL'] = 3.14159
h['SMALL'] = 1.5e-10
h['BIG'] = 6.02e23
h['MJD-OBS'] = (61055.17538722223, 'Modified JD at start of obs [UTC]')
h['CPLX'] = (1 + 2j)
h['UNDEF'] = (None, 'undefined value')
h['LONGSTR'] = ('x' * 100 + " it's the end", 'long string')
h['HIERARCH AZCAM-HEAD'] = ('OK', 'AzCam Header flag')
h.add_comment('a comment card')
h.add_history('history here')
h.add_blank('blank keyword card')
p = fits.PrimaryHDU(header=h)
im = fits.ImageHDU(np.arange(12, dtype=np.uint16).reshape(3, 4), name='IM1')
f = fits.ImageHDU(np.linspace(-1, 1, 20, dtype=np.float32).reshape(4, 5), name='MERGED')
t = fits.BinTableHDU.from_columns([
    fits.Column(name='Keyword', format='20A', array=np.array(['MOD10/TEMPA', 'BACKPLANE_TEMP'])),
    fits.Column(name='Value', format='20A', array=np.array(['-106.0', '23.819']))], name='CONPARS')
fits.HDUList([p, im, f, t]).writeto(sys.argv[1], overwrite=True, checksum=True)
`;

test('inspect --json agrees card for card with astropy on a file astropy wrote (standard edge cases)', async (t) => {
  if (skipUnless(t, astropyPython() !== null, ASTROPY_MISSING)) return;
  const dir = await tempDir(t);
  const path = join(dir, 'astropy.fits');
  runPython(EDGE_CASES, [path]);
  const compared = await assertSameCardsAsAstropy([path]);
  assert.ok(compared > 50);
  const verify = await runCli(['verify', path]);
  assert.equal(verify.code, 0, verify.stdout);
  assert.match(verify.stdout, /checksums OK in 4 of 4 HDUs/);
});

test('astropy reads our files with the same cards and accepts our checksums', async (t) => {
  if (skipUnless(t, astropyPython() !== null, ASTROPY_MISSING)) return;
  const dir = await tempDir(t);
  const path = join(dir, 'ours.fits');
  await writeFile(path, await smallMef({ checksums: true }));
  await assertSameCardsAsAstropy([path]);
});

test('fitsverify finds no error and no warning in a file we wrote', async (t) => {
  if (skipUnless(t, fitsverify() !== null, FITSVERIFY_MISSING)) return;
  const dir = await tempDir(t);
  const path = join(dir, 'ours.fits');
  await writeFile(path, await smallMef({ checksums: true }));
  const result = runFitsverify(path);
  assert.deepEqual([result.errors, result.warnings], [0, 0], result.output);
});
