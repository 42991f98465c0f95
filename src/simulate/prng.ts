/**
 * A small seeded pseudo-random generator (xoshiro128**, Blackman & Vigna 2018) and Gaussian
 * deviates by the Box–Muller transform. Same seed, same sequence, on every platform.
 *
 * References: D. Blackman, S. Vigna, "Scrambled linear pseudorandom number generators" (2018),
 * https://prng.di.unimi.it/xoshiro128starstar.c ; G. E. P. Box, M. E. Muller, Ann. Math. Stat.
 * 29, 610 (1958).
 */

export interface Prng {
  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** A uniform double in [0, 1). */
  next(): number;
  /** A uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number;
  /** A standard normal deviate (mean 0, σ 1). */
  gaussian(): number;
  /** The state, for hot loops that inline the generator (see `fillUint32`). */
  readonly state: Uint32Array;
}

const TWO_PI = 2 * Math.PI;
const INV_2_32 = 1 / 4294967296;

/** splitmix32: spreads a 32-bit seed over the 128-bit state (never all zero). */
function seedState(seed: number): Uint32Array {
  const s = new Uint32Array(4);
  let x = seed >>> 0;
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    s[i] = (z ^ (z >>> 16)) >>> 0;
  }
  if (s[0] === 0 && s[1] === 0 && s[2] === 0 && s[3] === 0) s[0] = 1;
  return s;
}

/** A xoshiro128** generator seeded with any number (its low 32 bits are used). */
export function createPrng(seed: number): Prng {
  const s = seedState(seed);
  let spare: number | undefined;
  const nextUint32 = (): number => {
    const s0 = s[0]!, s1 = s[1]!, s2 = s[2]!, s3 = s[3]!;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    s[1] = s1 ^ n2;
    s[0] = s0 ^ n3;
    s[2] = n2 ^ t;
    s[3] = (n3 << 11) | (n3 >>> 21);
    return result;
  };
  const next = (): number => nextUint32() * INV_2_32;
  return {
    state: s,
    nextUint32,
    next,
    int(lo, hi) {
      return lo + Math.floor(next() * (hi - lo + 1));
    },
    gaussian() {
      if (spare !== undefined) {
        const z = spare;
        spare = undefined;
        return z;
      }
      // Box–Muller; u1 in (0, 1] so that the logarithm is finite.
      const u1 = (nextUint32() + 1) * INV_2_32;
      const u2 = next();
      const r = Math.sqrt(-2 * Math.log(u1));
      spare = r * Math.sin(TWO_PI * u2);
      return r * Math.cos(TWO_PI * u2);
    },
  };
}

/**
 * Fills `out` with the next `out.length` outputs of the generator, advancing its state: the
 * same numbers `nextUint32()` would give, without a call per number (the pixel loops need tens
 * of millions).
 */
export function fillUint32(prng: Prng, out: Uint32Array): void {
  const s = prng.state;
  let s0 = s[0]!, s1 = s[1]!, s2 = s[2]!, s3 = s[3]!;
  for (let i = 0; i < out.length; i++) {
    const m = Math.imul(s1, 5);
    out[i] = Math.imul((m << 7) | (m >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
  }
  s[0] = s0; s[1] = s1; s[2] = s2; s[3] = s3;
}
