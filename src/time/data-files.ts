/**
 * The one place where the time library reads files: the data tables shipped in the project's
 * `data/` folder. Everything else in `time/` is pure and takes its tables as arguments.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TimeDataError } from './errors.js';

/**
 * URL of a file under the project's `data/` folder.
 *
 * Notes: this module is `src/time/data-files.ts` when run through tsx and
 * `dist/time/data-files.js` after `tsc`; both are two levels below the project root, so the
 * same relative URL works from either.
 */
export function projectDataUrl(relativePath: string): URL {
  return new URL(`../../data/${relativePath}`, import.meta.url);
}

/** Read and parse a JSON file under `data/`; a missing or unparsable file is a `TimeDataError`. */
export function readProjectDataJson(relativePath: string): unknown {
  const url = projectDataUrl(relativePath);
  let text: string;
  try {
    text = readFileSync(url, 'utf8');
  } catch (err) {
    throw new TimeDataError(fileURLToPath(url), 'cannot read the data file', {
      cause: err,
      hint: 'the data/ folder is part of the installation; reinstall dataman',
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new TimeDataError(fileURLToPath(url), 'is not valid JSON', { cause: err });
  }
}

/** Returns a function that computes `make()` on its first call and the same value afterwards. */
export function lazy<T>(make: () => T): () => T {
  let cached: { value: T } | undefined;
  return () => {
    if (cached === undefined) cached = { value: make() };
    return cached.value;
  };
}

/** Small structural checks for the JSON loaders; each throws `TimeDataError` naming `source`. */
export function expectRecord(source: string, value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TimeDataError(source, `${where} should be an object`);
  }
  return value as Record<string, unknown>;
}

export function expectArray(source: string, value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new TimeDataError(source, `${where} should be an array`);
  return value as unknown[];
}

export function expectNumber(source: string, value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TimeDataError(source, `${where} should be a finite number, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function expectString(source: string, value: unknown, where: string): string {
  if (typeof value !== 'string') {
    throw new TimeDataError(source, `${where} should be a string, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A `[amplitude, x, y]` triple of finite numbers (the coefficient layout of the ERFA tables). */
export function expectTriple(source: string, value: unknown, where: string): readonly [number, number, number] {
  const a = expectArray(source, value, where);
  if (a.length !== 3) throw new TimeDataError(source, `${where} should have 3 numbers, has ${a.length}`);
  return [
    expectNumber(source, a[0], `${where}[0]`),
    expectNumber(source, a[1], `${where}[1]`),
    expectNumber(source, a[2], `${where}[2]`),
  ];
}
