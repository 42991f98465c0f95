/**
 * Reads every card of FITS files with astropy and compares them, card for card, with what
 * `dataman inspect --json` reports.
 */
import assert from 'node:assert/strict';
import { runPython } from './tools.js';
import { inspectFile, type CardJson } from '../../src/cli/commands/inspect.js';

const DUMP_CARDS = String.raw`
import sys, json, warnings
from astropy.io import fits
from astropy.io.fits.card import Undefined
warnings.simplefilter('error')  # a checksum mismatch or a non-standard card fails the test
def val(v):
    if v is None or isinstance(v, Undefined) or v is Undefined: return None
    if isinstance(v, bool): return v
    if isinstance(v, complex): return {'re': v.real, 'im': v.imag}
    return v
out = []
for path in sys.argv[1:]:
    with fits.open(path, checksum=True) as hdul:
        hdus = []
        for hdu in hdul:
            hdus.append([[c.keyword, val(c.value), c.comment] for c in hdu.header.cards])
        out.append(hdus)
print(json.dumps(out))
`;

export type AstropyCard = [string, CardJson['value'], string];

export function astropyCards(paths: string[]): AstropyCard[][][] {
  return JSON.parse(runPython(DUMP_CARDS, paths)) as AstropyCard[][][];
}

/** Asserts that inspect --json and astropy agree on every card of every HDU of each file. */
export async function assertSameCardsAsAstropy(paths: string[]): Promise<number> {
  const theirs = astropyCards(paths);
  let compared = 0;
  for (const [f, path] of paths.entries()) {
    const { report } = await inspectFile(path);
    const files = theirs[f]!;
    assert.equal(report.hdus.length, files.length, `${path}: HDU count`);
    for (const [i, hdu] of report.hdus.entries()) {
      const ours = hdu.cards.map((c) => [c.keyword, c.value, c.comment]);
      assert.deepEqual(ours, files[i], `${path} HDU ${i}`);
      compared += ours.length;
    }
  }
  return compared;
}
