/** `dataman compare`: the reference's processed files against dataman's (behaviour.md §2.5, §9). */
import type { Pairing } from './pairing.js';
import { comparePair, NotComparableError } from './compare-pair.js';
import type { FileOutcome } from './report.js';

export { pairInputs, type Pairing } from './pairing.js';
export { comparePair, NotComparableError, PIXEL_HDUS, type PairReport, type Finding } from './compare-pair.js';
export * from './report.js';
export { DELIBERATE_DIFFERENCES, type DeliberateDifference } from './deliberate-differences.js';
export { BOOKKEEPING } from './classify.js';

/** Pairs compared at the same time: reads of small files wait on the disk more than on the CPU. */
const PARALLEL_PAIRS = 4;

/**
 * Compares every pair, a few at a time (memory stays that of a few chunks), handing each outcome
 * to `onFile` in name order as soon as it and those before it are known. A pair that cannot be
 * compared (not FITS, unreadable: EACCES, EIO) is an `error` outcome naming why; the rest go on.
 */
export async function compareAll(pairing: Pairing, onFile: (outcome: FileOutcome, bytes: number) => void): Promise<void> {
  const one = async (p: Pairing['pairs'][number]): Promise<FileOutcome> => {
    try {
      return { kind: 'pair', report: await comparePair(p.name, p.a, p.b) };
    } catch (err) {
      if (err instanceof NotComparableError) return { kind: 'error', name: p.name, message: err.message };
      const e = err as NodeJS.ErrnoException;
      if (typeof e?.code !== 'string') throw err; // not a file's problem: a bug, with its stack
      return { kind: 'error', name: p.name, message: `cannot be read: ${e.message}` };
    }
  };
  const pending: Array<Promise<FileOutcome>> = [];
  let next = 0;
  const startNext = () => {
    const p = pairing.pairs[next++]!;
    const promise = one(p);
    promise.catch(() => undefined); // awaited in order below; a later failure must not go unhandled meanwhile
    pending.push(promise);
  };
  try {
    for (let i = 0; i < pairing.pairs.length; i++) {
      while (next < pairing.pairs.length && next < i + PARALLEL_PAIRS) startNext();
      onFile(await pending[i]!, pairing.pairs[i]!.bytes);
    }
  } finally {
    await Promise.allSettled(pending);
  }
  for (const name of pairing.onlyInA) onFile({ kind: 'only-in-a', name, path: name }, 0);
  for (const name of pairing.onlyInB) onFile({ kind: 'only-in-b', name, path: name }, 0);
}
