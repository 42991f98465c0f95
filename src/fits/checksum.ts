/**
 * The FITS checksum convention (Seaman, Pence & Rots 2012; FITS Standard 4.0 §4.4.2.7 and
 * Appendix J): 32-bit ones'-complement sums of big-endian words, DATASUM as a decimal string,
 * CHECKSUM as the 16-character ASCII encoding of the complemented HDU sum.
 */
import { KernelArena } from '../wasm/kernels.js';

/**
 * Ones'-complement sum of `bytes` (a multiple of 4 long) added to `sum`. Sums the high and low
 * 16-bit halves separately and folds the carries at the end, as CFITSIO does: exact in doubles
 * for any input up to 2^36 bytes.
 */
export function onesComplementSum(bytes: Uint8Array, sum = 0): number {
  if (bytes.length % 4 !== 0) throw new RangeError(`checksum input must be a multiple of 4 bytes, got ${bytes.length}`);
  let hi = sum >>> 16;
  let lo = sum & 0xffff;
  const n = bytes.length;
  if (n >= KERNEL_MIN_BYTES) {
    // Large inputs through the SIMD kernel, a cache-sized piece at a time copied into its memory.
    kernel ??= kernelPiece();
    for (let at = 0; at < n; at += KERNEL_PIECE_BYTES) {
      const part = bytes.subarray(at, Math.min(n, at + KERNEL_PIECE_BYTES));
      kernel.piece.set(part);
      const [h, l] = kernel.arena.halves(kernel.piece.subarray(0, part.length));
      hi += h;
      lo += l;
    }
    return fold(hi, lo);
  }
  if (bytes.byteOffset % 4 === 0 && LITTLE_ENDIAN) {
    // Fast path, two bytes per lane: each 32-bit load is split into bytes 0 and 2 and bytes 1
    // and 3, summed as 16-bit lanes of int32 accumulators for blocks short enough that no lane
    // can overflow (256 × 255 < 2^16), then unpacked into exact per-byte totals.
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, n / 4);
    let b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    for (let start = 0; start < words.length; start += 256) {
      const end = Math.min(words.length, start + 256);
      let even = 0, odd = 0;
      for (let i = start; i < end; i++) {
        const w = words[i]!;
        even = (even + (w & 0x00ff00ff)) | 0;
        odd = (odd + ((w >>> 8) & 0x00ff00ff)) | 0;
      }
      b0 += even & 0xffff;
      b2 += even >>> 16;
      b1 += odd & 0xffff;
      b3 += odd >>> 16;
    }
    // The little-endian load put the big-endian word's first byte in b0.
    hi += b0 * 256 + b1;
    lo += b2 * 256 + b3;
    return fold(hi, lo);
  }
  for (let i = 0; i < n; i += 4) {
    hi += (bytes[i]! << 8) | bytes[i + 1]!;
    lo += (bytes[i + 2]! << 8) | bytes[i + 3]!;
  }
  return fold(hi, lo);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Inputs from this size go through the SIMD kernel, in pieces of this size (kept in cache). */
const KERNEL_MIN_BYTES = 64 * 1024;
const KERNEL_PIECE_BYTES = 256 * 1024;
let kernel: { arena: KernelArena; piece: Buffer } | undefined;

function kernelPiece(): { arena: KernelArena; piece: Buffer } {
  const arena = new KernelArena(KERNEL_PIECE_BYTES);
  return { arena, piece: arena.take(KERNEL_PIECE_BYTES) };
}

function fold(hi: number, lo: number): number {
  // Carry each half into the other until neither overflows 16 bits.
  while (hi > 0xffff || lo > 0xffff) {
    const hiCarry = Math.floor(hi / 0x10000);
    const loCarry = Math.floor(lo / 0x10000);
    hi = (hi % 0x10000) + loCarry;
    lo = (lo % 0x10000) + hiCarry;
  }
  return ((hi << 16) | lo) >>> 0;
}

/**
 * The ones'-complement sum of big-endian 32-bit words from the totals of their high and low
 * 16-bit halves (each exact, below 2^53): for producers that sum as they write.
 */
export function sumOfHalves(hi: number, lo: number): number {
  return fold(hi, lo);
}

/** Ones'-complement addition of two 32-bit sums. */
export function addSums(a: number, b: number): number {
  return fold((a >>> 16) + (b >>> 16), (a & 0xffff) + (b & 0xffff));
}

const EXCLUDED = new Set([0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60]);

/**
 * Encodes a 32-bit value as the 16 ASCII characters of the convention (alphanumerics only),
 * complementing it first when `complement` is set (as for CHECKSUM).
 */
export function encodeChecksum(value: number, complement = true): string {
  const v = complement ? ~value >>> 0 : value >>> 0;
  const ascii = new Array<number>(16);
  for (let i = 0; i < 4; i++) {
    const byte = (v >>> (24 - 8 * i)) & 0xff;
    const quotient = (byte >> 2) + 0x30;
    const remainder = byte & 3;
    const ch = [quotient + remainder, quotient, quotient, quotient];
    // Nudge pairs away from punctuation while keeping their sum.
    for (let changed = true; changed; ) {
      changed = false;
      for (let j = 0; j < 4; j += 2) {
        if (EXCLUDED.has(ch[j]!) || EXCLUDED.has(ch[j + 1]!)) {
          ch[j]! += 1;
          ch[j + 1]! -= 1;
          changed = true;
        }
      }
    }
    for (let j = 0; j < 4; j++) ascii[4 * j + i] = ch[j]!;
  }
  // The encoded string is rotated one place to the right.
  const rotated = [ascii[15]!, ...ascii.slice(0, 15)];
  return String.fromCharCode(...rotated);
}

/** The all-ones sum a correctly stamped HDU adds up to (negative zero). */
export const CHECKSUM_OK = 0xffffffff;
