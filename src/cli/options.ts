/** Option values shared by several commands. */
import { UsageError } from '../errors.js';

/** A positive integer option, or a `UsageError` naming it. */
export function positiveInteger(option: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${option} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return n;
}
