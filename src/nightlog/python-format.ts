/**
 * The part of Python's format-specification mini-language that the OSU night logs use:
 * `[width][.precision]s` and `[width][.precision]f`, applied to the Python values astropy gives
 * for header cards (`str`, `int`, `float`, `bool`, `complex`, `Undefined`).
 *
 * Reference: Python Language Reference, "Format Specification Mini-Language"
 * (https://docs.python.org/3/library/string.html#formatspec); `format(value, spec)` raises
 * `ValueError` ("Unknown format code 's' for object of type 'float'") or `TypeError` where a spec
 * does not fit the value's type — `PyFormatError` here, so that callers can fall back exactly
 * where Python code falls back.
 */
import { type Card, valueText } from '../fits/index.js';

/** A header value as the Python type astropy would give it. */
export type PyValue =
  | { type: 'str'; value: string }
  | { type: 'int'; value: bigint }
  | { type: 'float'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'complex'; re: number; im: number }
  /** astropy's `Undefined`: a card with a value indicator and an empty value field. */
  | { type: 'undefined' };

export const pyStr = (value: string): PyValue => ({ type: 'str', value });

/** Python would raise here (`ValueError`/`TypeError`): the spec does not apply to the value. */
export class PyFormatError extends Error {}

export interface FormatSpec {
  width: number;
  precision: number | undefined;
  type: 's' | 'f';
}

const SPEC = /^(\d*)(?:\.(\d+))?([sf])$/;

/** Parses `20.20s`, `6.1f`, `5s`…; throws `RangeError` for anything else (a programming error). */
export function parseFormatSpec(spec: string): FormatSpec {
  const m = SPEC.exec(spec);
  if (m === null) throw new RangeError(`unsupported format spec ${JSON.stringify(spec)} (only [width][.precision]s|f)`);
  return { width: m[1] === '' ? 0 : Number(m[1]), precision: m[2] === undefined ? undefined : Number(m[2]), type: m[3] as 's' | 'f' };
}

/** The Python value of a header card (astropy's `header[key]`). */
export function pyValueOfCard(card: Card): PyValue {
  const v = card.value;
  switch (card.kind) {
    case 'string':
    case 'commentary':
    case 'unparsed':
      return { type: 'str', value: valueText(v) };
    case 'logical':
      return { type: 'bool', value: v === true };
    case 'integer':
      return { type: 'int', value: typeof v === 'bigint' ? v : BigInt(v as number) };
    case 'real':
      return { type: 'float', value: v as number };
    case 'complex': {
      const c = v as { re: number; im: number };
      return { type: 'complex', re: c.re, im: c.im };
    }
    case 'undefined':
      return { type: 'undefined' };
  }
}

/**
 * `format(value, spec)` as Python computes it, for `s` and `f` specs.
 *
 * Given: `value`, a Python value; `spec`, `[width][.precision](s|f)`.
 *
 * Returned: the formatted text. Strings are cut to `precision` characters and padded on the
 * right to `width`; numbers are rounded to `precision` decimals (default 6) — correctly
 * rounded from the binary value, ties to even, as Python's `float.__format__` — and padded on
 * the left to `width`. `width` is a minimum: a longer number is not cut.
 *
 * Throws `PyFormatError` where Python raises: `s` on anything but `str`, `f` on a `str` or on
 * `Undefined`.
 */
export function pyFormat(value: PyValue, spec: string | FormatSpec): string {
  const s = typeof spec === 'string' ? parseFormatSpec(spec) : spec;
  if (s.type === 's') {
    if (value.type !== 'str') throw new PyFormatError(`Unknown format code 's' for object of type '${pyTypeName(value)}'`);
    const chars = [...value.value];
    const cut = s.precision === undefined ? chars : chars.slice(0, s.precision);
    return cut.join('').padEnd(s.width, ' ');
  }
  const decimals = s.precision ?? 6;
  let text: string;
  switch (value.type) {
    case 'float':
      text = formatFixed(value.value, decimals);
      break;
    case 'int':
      text = formatFixed(Number(value.value), decimals);
      break;
    case 'bool':
      text = formatFixed(value.value ? 1 : 0, decimals);
      break;
    case 'complex': {
      const im = formatFixed(value.im, decimals);
      text = `${formatFixed(value.re, decimals)}${im.startsWith('-') ? '' : '+'}${im}j`;
      break;
    }
    default:
      throw new PyFormatError(`Unknown format code 'f' for object of type '${pyTypeName(value)}'`);
  }
  return text.padStart(s.width, ' ');
}

/**
 * `str(value)` as Python prints it: `True`, `42`, `1.5`, `1e+16`, `(1+2j)`; `''` for
 * `Undefined` (astropy prints that as an empty value).
 */
export function pyToString(value: PyValue): string {
  switch (value.type) {
    case 'str': return value.value;
    case 'int': return value.value.toString();
    case 'float': return pyFloatRepr(value.value);
    case 'bool': return value.value ? 'True' : 'False';
    case 'complex': {
      const part = (x: number) => (Number.isInteger(x) && Math.abs(x) < 1e16 ? String(x) : pyFloatRepr(x));
      const im = `${value.im < 0 || Object.is(value.im, -0) ? '-' : '+'}${part(Math.abs(value.im))}j`;
      return value.re === 0 && !Object.is(value.re, -0) ? `${part(value.im)}j` : `(${part(value.re)}${im})`;
    }
    case 'undefined': return '';
  }
}

function pyTypeName(value: PyValue): string {
  return value.type === 'undefined' ? 'Undefined' : value.type;
}

/**
 * Python's `repr(float)`: the shortest digits that read back to the same double, in fixed
 * notation for decimal exponents −4…15 (always with a fraction, `2.0`), else `d.ddde±XX`.
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest round-trip digits (ECMA-262 §21.1.3.2).
  const [mantissa, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const digits = mantissa.replace('.', '');
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    return `${sign}${int}.${frac === '' ? '0' : frac}`;
  }
  const expOut = `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${expOut}`;
}

const FLOAT_BITS = new DataView(new ArrayBuffer(8));

/**
 * A double in fixed notation with `decimals` digits after the point, exactly as Python's
 * `format(x, '.Nf')`: the exact binary value is rounded, ties to even.
 *
 * Notes: JavaScript's `toFixed` rounds exact ties away from zero (`(1.25).toFixed(1)` is `1.3`,
 * Python gives `1.2`), hence this exact version on BigInts: x = m·2^e, and the decimal digits
 * are round(m·10^N / 2^−e). Negative values keep their sign even when they round to zero
 * (`-0.0`), as Python does. NaN and infinities print as `nan`, `inf`, `-inf`.
 */
export function formatFixed(x: number, decimals: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  FLOAT_BITS.setFloat64(0, x);
  const hi = FLOAT_BITS.getUint32(0);
  const lo = FLOAT_BITS.getUint32(4);
  const negative = hi >>> 31 === 1;
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  // Subnormals have no implicit leading bit and the exponent of the smallest normal.
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (biased === 0 ? 1 : biased) - 1075;
  const scaled = mantissa * 10n ** BigInt(decimals);
  let n: bigint;
  if (exponent >= 0) {
    n = scaled << BigInt(exponent);
  } else {
    const divisor = 1n << BigInt(-exponent);
    const q = scaled / divisor;
    const twice = (scaled % divisor) * 2n;
    n = twice > divisor || (twice === divisor && q % 2n === 1n) ? q + 1n : q;
  }
  const digits = n.toString().padStart(decimals + 1, '0');
  const body = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return negative ? `-${body}` : body;
}
