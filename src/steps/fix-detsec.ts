/**
 * fixDETSEC: correct DETSEC, CCDSEC (IM1..IM4) and LTV1/LTV2 (IM2..IM4) so that the four
 * amplifiers tile the detector (ds9 "Mosaic IRAF" and its cursor read true CCD pixels).
 *
 * With c0, r0 = REF-PIX1/2 (primary, unbinned), nc, nr = NAXIS1/2 and ncb = OVRSCAN1 of IM1, and
 * binning bx, by, an amplifier covers w = (nc − ncb)·bx detector columns and h = nr·by rows:
 *
 *   IM1 [c0−w+1 : c0,   r0−h+1 : r0]      IM2 [c0+w : c0+1, r0−h+1 : r0]   (x flipped)
 *   IM3 [c0−w+1 : c0,   r0+1 : r0+h]      IM4 [c0+w : c0+1, r0+1 : r0+h]
 *
 * The reference (raw-format.md §8.2) starts IM2/IM4 at c0+nc+ncb, 64 columns too far and
 * inconsistent with its own LTV1; here it is c0+w (behaviour.md §9 rows 1 and 2). Unbinned, LTV1
 * of IM2/IM4 = c0+w+1 and LTV2 of IM3/IM4 = −r0, exactly the reference's values; binned, the
 * LTV put the centre of the first binned pixel at image pixel 1 using the file's own LTM.
 */
import type { RawFile } from './raw-file.js';
import { applied, skipped, type StepOutcome } from './types.js';
import { readBinning } from './binning.js';
import { requireNumbers } from './keywords.js';

export interface DetectorSections {
  detsec: [string, string, string, string];
  /** LTV1 of IM2 and IM4 (x-flipped amplifiers). */
  ltv1Flipped: number;
  /** LTV2 of IM3 and IM4 (upper amplifiers). */
  ltv2Upper: number;
}

export function detectorSections(
  c0: number, r0: number, nc: number, nr: number, ncb: number, bx = 1, by = 1, ltm11Flipped = -1 / bx, ltm22Upper = 1 / by,
): DetectorSections {
  const w = (nc - ncb) * bx;
  const h = nr * by;
  const lower = `${r0 - h + 1}:${r0}`;
  const upper = `${r0 + 1}:${r0 + h}`;
  const left = `${c0 - w + 1}:${c0}`;
  const right = `${c0 + w}:${c0 + 1}`;
  // Centre of the first stored (binned) pixel in detector coordinates, mapped to image pixel 1.
  const firstFlippedColumn = c0 + w - (bx - 1) / 2;
  const firstUpperRow = r0 + 1 + (by - 1) / 2;
  return {
    detsec: [`[${left},${lower}]`, `[${right},${lower}]`, `[${left},${upper}]`, `[${right},${upper}]`],
    ltv1Flipped: tidy(1 - ltm11Flipped * firstFlippedColumn),
    ltv2Upper: tidy(1 - ltm22Upper * firstUpperRow),
  };
}

/** Removes round-off so that integral results are written as integers, as the reference does. */
function tidy(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - r) < 1e-9 ? r : x;
}

export function fixDetsec(raw: RawFile): StepOutcome {
  const [im1, im2, im3, im4] = raw.images;
  const { values, problems } = requireNumbers([
    ['REF-PIX1', raw.primary, 'the primary header'],
    ['REF-PIX2', raw.primary, 'the primary header'],
    ['NAXIS1', im1.header, 'IM1'],
    ['NAXIS2', im1.header, 'IM1'],
    ['OVRSCAN1', im1.header, 'IM1'],
  ]);
  if (problems.length > 0) return skipped('fixDETSEC', problems.join('; '));
  const warnings: string[] = [];
  const binning = readBinning(im1.header, raw.primary);
  if (binning === undefined) warnings.push('CCDSUM missing or unreadable in IM1 and the primary header; assuming 1x1 binning');
  const bx = binning?.columns ?? 1;
  const by = binning?.rows ?? 1;
  const ltm11 = im2.header.number('LTM1_1') ?? -1 / bx;
  const ltm22 = im3.header.number('LTM2_2') ?? 1 / by;
  const s = detectorSections(
    Math.trunc(values['REF-PIX1']), Math.trunc(values['REF-PIX2']), values.NAXIS1, values.NAXIS2, values.OVRSCAN1, bx, by, ltm11, ltm22,
  );
  raw.images.forEach((image, i) => {
    image.header.set('DETSEC', s.detsec[i]!, { comment: 'Corrected DETSEC', kind: 'string' });
    image.header.set('CCDSEC', s.detsec[i]!, { comment: 'Corrected CCDSEC', kind: 'string' });
  });
  const ltvKind = (v: number) => (Number.isInteger(v) ? 'integer' : 'real');
  for (const image of [im2, im4]) image.header.set('LTV1', s.ltv1Flipped, { comment: 'Corrected LTV1', kind: ltvKind(s.ltv1Flipped) });
  for (const image of [im3, im4]) image.header.set('LTV2', s.ltv2Upper, { comment: 'Corrected LTV2', kind: ltvKind(s.ltv2Upper) });
  return applied('fixDETSEC', warnings);
}
