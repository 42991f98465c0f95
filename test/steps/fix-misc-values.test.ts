/**
 * fixMisc's warnings quote the header value that it could not use. A complex card value (FITS
 * §4.2.5, parsed as `{re, im}`) must read `(re, im)` there, as in the file, not `[object Object]`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bufferSource } from '../../src/fits/index.js';
import { generateRaw } from '../../src/simulate/index.js';
import { openRawFile } from '../../src/steps/raw-file.js';
import { fixMisc } from '../../src/steps/fix-misc.js';

test('fixMisc warnings show a complex TELALT, NSTYPE or NONSIDER as (re, im)', async () => {
  const raw = await openRawFile(bufferSource(generateRaw({ roi: '1k' }).bytes, 'complex.fits'));
  raw.primary.set('TELALT', { re: 45, im: 1 });
  raw.primary.set('NSTYPE', { re: 2, im: 0 });
  raw.primary.set('NONSIDER', { re: 0, im: 3.5 });

  const { warnings } = fixMisc(raw);

  assert.ok(warnings.some((w) => w.includes('TELALT "(45, 1)" is not an angle')), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('NSTYPE was not a string ("(2, 0)")')), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('NONSIDER = "(0, 3.5)" is neither a number nor a logical')), warnings.join('\n'));
  assert.ok(!warnings.some((w) => w.includes('[object Object]')), warnings.join('\n'));
});
