/**
 * Small validators for the YAML configuration: each checks one value and, on failure, says which
 * key was wrong, what was expected and what was found. Hand-written rather than a schema library:
 * the reference files need YAML-1.1-style booleans (`Y`/`N`) mapped explicitly, and the messages
 * are the user interface of a configuration error.
 */
import { ConfigError } from './config-error.js';

export type Raw = Record<string, unknown>;

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list (${safeJson(value)})`;
  if (typeof value === 'object') return 'a mapping';
  return `${safeJson(value)} (${typeof value})`;
}

/** JSON for a message; a YAML alias can make a value refer to itself. */
function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return 'a value that refers to itself (a YAML alias loop)';
  }
}

export class Reader {
  constructor(readonly file: string) {}

  fail(key: string, expected: string, got: unknown): never {
    throw new ConfigError(`${this.file}: ${key}: expected ${expected}, got ${describe(got)}`);
  }

  /** A mapping; rejects keys not in `allowed`. */
  section(value: unknown, key: string, allowed: readonly string[]): Raw {
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) this.fail(key, 'a mapping', value);
    const raw = value as Raw;
    for (const k of Object.keys(raw)) {
      if (!allowed.includes(k)) {
        throw new ConfigError(`${this.file}: unknown key ${key ? `${key}.` : ''}${k} (expected one of: ${allowed.join(', ')})`);
      }
    }
    return raw;
  }

  string(value: unknown, key: string, fallback?: string): string {
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      throw new ConfigError(`${this.file}: ${key} is required`);
    }
    if (typeof value !== 'string' || value.trim() === '') this.fail(key, 'a non-empty string', value);
    return value;
  }

  optionalString(value: unknown, key: string): string | undefined {
    return value === undefined || value === null ? undefined : this.string(value, key);
  }

  integer(value: unknown, key: string, fallback: number | undefined, min: number, max: number): number {
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      throw new ConfigError(`${this.file}: ${key} is required`);
    }
    const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) this.fail(key, `an integer from ${min} to ${max}`, value);
    return n;
  }

  number(value: unknown, key: string, fallback: number, min: number, max: number): number {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) this.fail(key, `a number from ${min} to ${max}`, value);
    return value;
  }

  /**
   * Y/N, yes/no, true/false, on/off (any case) and YAML booleans. The reference's YAML 1.1
   * parser read `Y` as true; a YAML 1.2 parser reads it as the text "Y", and "N" would then be
   * truthy, so the mapping is explicit.
   */
  boolean(value: unknown, key: string, fallback: boolean): boolean {
    if (value === undefined || value === null) return fallback;
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string') {
      const v = value.trim().toLowerCase();
      if (['y', 'yes', 'true', 'on'].includes(v)) return true;
      if (['n', 'no', 'false', 'off'].includes(v)) return false;
    }
    return this.fail(key, 'Y/N, yes/no, true/false or on/off', value);
  }

  stringList(value: unknown, key: string, fallback: string[]): string[] {
    if (value === undefined || value === null) return fallback;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === '')) this.fail(key, 'a list of strings', value);
    return value as string[];
  }
}
