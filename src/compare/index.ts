/** `dataman compare`: the reference's processed files against dataman's (behaviour.md §2.5, §9). */
import { pairInputs, type Pairing } from './pairing.js';
import { comparePair, NotComparableError } from './compare-pair.js';
import type { FileOutcome } from './report.js';

export { pairInputs, type Pairing } from './pairing.js';
export { comparePair, NotComparableError, PIXEL_HDUS, type PairReport, type Finding } from './compare-pair.js';
export * from './report.js';
export { DELIBERATE_DIFFERENCES, type DeliberateDifference } from './deliberate-differences.js';
export { BOOKKEEPING } from './classify.js';

/**
 * Compares every pair in turn (one at a time: the disk is the limit, and memory stays that of
 * one chunk), handing each outcome to `onFile` as soon as it is known. A pair that is not FITS is
 * an `error` outcome; any other failure (an unreadable file) ends the run.
 */
export async function compareAll(pairing: Pairing, onFile: (outcome: FileOutcome, bytes: number) => void): Promise<void> {
  for (const p of pairing.pairs) {
    try {
      onFile({ kind: 'pair', report: await comparePair(p.name, p.a, p.b) }, p.bytes);
    } catch (err) {
      if (!(err instanceof NotComparableError)) throw err;
      onFile({ kind: 'error', name: p.name, message: err.message }, p.bytes);
    }
  }
  for (const name of pairing.onlyInA) onFile({ kind: 'only-in-a', name, path: name }, 0);
  for (const name of pairing.onlyInB) onFile({ kind: 'only-in-b', name, path: name }, 0);
}

export async function pairAndCompare(a: string, b: string, onFile: (outcome: FileOutcome, bytes: number) => void): Promise<Pairing> {
  const pairing = await pairInputs(a, b);
  await compareAll(pairing, onFile);
  return pairing;
}
