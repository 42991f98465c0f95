/**
 * Read access to a 2-D image without copying it: the quick look samples and block-averages the
 * MERGED data unit straight from its big-endian bytes (98 MB for a full frame), so that no
 * second full-size array is ever made.
 */
import { storedValueReader } from '../fits/image.js';

export interface PixelGrid {
  /** NAXIS1: columns. */
  readonly width: number;
  /** NAXIS2: rows. */
  readonly height: number;
  /** The value at 0-based column `x`, row `y`; row 0 is FITS row 1 (the bottom in ds9). */
  at(x: number, y: number): number;
  /** Row `y` into `out` (at least `width` long). */
  row(y: number, out: Float64Array): void;
}

/** A grid over values in memory, first axis fastest (FITS order). */
export function arrayGrid(width: number, height: number, values: ArrayLike<number>): PixelGrid {
  checkSize(width, height, values.length);
  return {
    width,
    height,
    at: (x, y) => values[y * width + x]!,
    row: (y, out) => {
      const start = y * width;
      for (let x = 0; x < width; x++) out[x] = values[start + x]!;
    },
  };
}

/**
 * A grid over a FITS image data unit: big-endian values of BITPIX 8/16/32/64/−32/−64, scaled by
 * BSCALE and BZERO (FITS Standard 4.0 §5.2, §5.3). Decoded on access.
 */
export function fitsBytesGrid(
  width: number, height: number, bytes: Uint8Array, bitpix: number, bzero = 0, bscale = 1,
): PixelGrid {
  const size = Math.abs(bitpix) / 8;
  checkSize(width, height, Math.floor(bytes.byteLength / size));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = storedValueReader(bitpix);
  const scaled = bzero !== 0 || bscale !== 1;
  const value = scaled ? (offset: number) => bzero + bscale * read(view, offset) : (offset: number) => read(view, offset);
  return {
    width,
    height,
    at: (x, y) => value((y * width + x) * size),
    row: (y, out) => {
      let offset = y * width * size;
      for (let x = 0; x < width; x++, offset += size) out[x] = value(offset);
    },
  };
}

function checkSize(width: number, height: number, available: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
  }
  if (available < width * height) throw new RangeError(`${width}x${height} image needs ${width * height} values, got ${available}`);
}
