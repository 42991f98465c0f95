import type { Header } from '../fits/index.js';

/**
 * Reads the whole-number keywords a step needs (pixel counts and positions); returns the values or the list of keywords that are
 * missing or not numbers, so that the step can say exactly why it was skipped.
 */
export function requireNumbers<K extends string>(
  wanted: Array<[K, Header, string]>,
): { values: Record<K, number>; problems: string[] } {
  const values = {} as Record<K, number>;
  const problems: string[] = [];
  for (const [keyword, header, where] of wanted) {
    const v = header.number(keyword);
    if (v === undefined || !Number.isFinite(v)) {
      problems.push(header.has(keyword) ? `${keyword} in ${where} is not a number` : `${keyword} missing in ${where}`);
    } else if (!Number.isInteger(v)) {
      problems.push(`${keyword} in ${where} is ${v}, not a whole number of pixels`);
    } else {
      values[keyword] = v;
    }
  }
  return { values, problems };
}
