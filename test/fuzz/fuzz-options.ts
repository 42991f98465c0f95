/**
 * Shared settings of the fuzz suite (test/fuzz/*.test.ts): a fixed seed and bounded run counts,
 * so that CI runs the same inputs every time and finishes in seconds.
 *
 *   npm test -- test/fuzz        # CI: fixed seed, default runs (part of plain `npm test` too)
 *
 * The long run goes through node directly: `npm test` stops any test file after 180 s
 * (scripts/run-tests.mjs, --test-timeout), and a long run takes longer than that.
 *
 *   DATAMAN_FUZZ_RUNS=200000 node --import tsx --test --test-reporter=spec test/fuzz/*.test.ts
 *   DATAMAN_FUZZ_RUNS=200000 DATAMAN_FUZZ_SEED=7 node --import tsx --test --test-reporter=spec test/fuzz/*.test.ts
 *
 * DATAMAN_FUZZ_RUNS is the number of runs of each cheap property (default 300); a costly
 * property runs a fixed fraction of it (its `weight`), at least once. DATAMAN_FUZZ_SEED is a
 * 32-bit integer (default 0x4d4f4453, "MODS"). A failure prints fast-check's counterexample
 * with the seed and path that replay it.
 */
import assert from 'node:assert/strict';
import type { Parameters } from 'fast-check';

const DEFAULT_RUNS = 300;
const DEFAULT_SEED = 0x4d4f4453;

function envInteger(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(text)}`);
  return n;
}

/** Runs of a cheap property. */
export const FUZZ_RUNS = envInteger('DATAMAN_FUZZ_RUNS', DEFAULT_RUNS);
export const FUZZ_SEED = envInteger('DATAMAN_FUZZ_SEED', DEFAULT_SEED) | 0;

/**
 * fast-check parameters for one property: the fixed seed and `weight × DATAMAN_FUZZ_RUNS` runs
 * (weight 1 for a property that costs well under a millisecond a run).
 */
export function fuzzParameters<T>(weight = 1): Parameters<T> {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(FUZZ_RUNS * weight)) };
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Runs `fn`; an exception must be an instance of one of `allowed`, otherwise it is rethrown with
 * its own stack (a crash, which the property reports with the input that caused it).
 */
export function expectResultOr<R>(allowed: readonly ErrorClass[], fn: () => R): { ok: true; value: R } | { ok: false; error: Error } {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (allowed.some((c) => err instanceof c)) return { ok: false, error: err as Error };
    throw unexpected(err, allowed);
  }
}

/** `expectResultOr` for async work. */
export async function expectResultOrAsync<R>(
  allowed: readonly ErrorClass[], fn: () => Promise<R>,
): Promise<{ ok: true; value: R } | { ok: false; error: Error }> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (allowed.some((c) => err instanceof c)) return { ok: false, error: err as Error };
    throw unexpected(err, allowed);
  }
}

function unexpected(err: unknown, allowed: readonly ErrorClass[]): Error {
  const name = err instanceof Error ? err.constructor.name : typeof err;
  const wrapped = new assert.AssertionError({
    message: `expected a result or ${allowed.map((c) => c.name).join(' / ')}, got ${name}: ${err instanceof Error ? err.message : String(err)}`,
  });
  if (err instanceof Error) wrapped.stack = `${wrapped.message}\n--- original stack ---\n${err.stack ?? ''}`;
  return wrapped;
}

/** Text of printable ASCII only (0x20–0x7e), as FITS headers allow. */
export const PRINTABLE = /^[\x20-\x7e]*$/;

/** Heap plus array-buffer memory in bytes: what an attempted huge allocation would show in. */
export function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
