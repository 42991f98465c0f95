/**
 * Block averaging: an image reduced by an integer factor so that its long side fits a maximum
 * size. The mean (not the maximum) of each block: it keeps the sky and bias at their level, so
 * the zscale limits of the full image still fit, and lowers the noise as binning would. Small
 * bright features (a cosmic ray) are diluted; the spectrum, many pixels wide, is not.
 */
import type { PixelGrid } from './pixel-grid.js';

export interface Downsampled {
  width: number;
  height: number;
  /** Block size in source pixels along each axis (1 = not reduced). */
  factor: number;
  /**
   * Block means, first axis fastest, row 0 = the bottom blocks (FITS order). NaN where a block
   * has no finite pixel.
   */
  values: Float32Array;
}

/** Default maximum of the long side of a quick look, pixels. */
export const DEFAULT_MAX_SIZE = 1024;

/** The smallest integer factor that brings the long side of width × height within maxSize. */
export function blockFactor(width: number, height: number, maxSize: number): number {
  if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`maximum size must be a positive integer, got ${maxSize}`);
  return Math.max(1, Math.ceil(Math.max(width, height) / maxSize));
}

/**
 * Block means of `factor` × `factor` source pixels, ignoring NaN and infinities. Blocks at the
 * right and top edges may be partial (the output is ⌈width/factor⌉ × ⌈height/factor⌉).
 *
 * Memory: one source row and one row of sums and counts at a time, plus the output.
 */
export function downsample(image: PixelGrid, maxSize = DEFAULT_MAX_SIZE): Downsampled {
  const blocks = new BlockRows(image, maxSize);
  for (let by = 0; by < blocks.out.height; by++) blocks.make(by);
  return blocks.out;
}

/**
 * `downsample`, giving the event loop back every `sliceMs` of work: a full frame's MERGED (26
 * million pixels, a few hundred ms) made on the service's main thread must not hold up a UDP
 * trigger or a delivery meanwhile.
 */
export async function downsampleYielding(image: PixelGrid, maxSize = DEFAULT_MAX_SIZE, sliceMs = 5): Promise<Downsampled> {
  const blocks = new BlockRows(image, maxSize);
  let sliceStart = performance.now();
  for (let by = 0; by < blocks.out.height; by++) {
    blocks.make(by);
    if (performance.now() - sliceStart >= sliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return blocks.out;
}

/** The output and the row buffers of one downsampling, made one row of blocks at a time. */
class BlockRows {
  readonly out: Downsampled;
  private readonly row: Float64Array;
  private readonly sums: Float64Array;
  private readonly counts: Uint32Array;

  constructor(private readonly image: PixelGrid, maxSize: number) {
    const { width, height } = image;
    const factor = blockFactor(width, height, maxSize);
    const outWidth = Math.ceil(width / factor);
    const outHeight = Math.ceil(height / factor);
    this.out = { width: outWidth, height: outHeight, factor, values: new Float32Array(outWidth * outHeight) };
    this.row = new Float64Array(width);
    this.sums = new Float64Array(outWidth);
    this.counts = new Uint32Array(outWidth);
  }

  /** Row `by` of blocks (from the bottom). */
  make(by: number): void {
    const { image, row, sums, counts } = this;
    const { width, height } = image;
    const { factor, width: outWidth, values } = this.out;
    sums.fill(0);
    counts.fill(0);
    const lastRow = Math.min(height, (by + 1) * factor);
    for (let y = by * factor; y < lastRow; y++) {
      image.row(y, row);
      for (let x = 0, bx = 0, inBlock = 0; x < width; x++) {
        const v = row[x]!;
        if (Number.isFinite(v)) {
          sums[bx]! += v;
          counts[bx]!++;
        }
        if (++inBlock === factor) {
          inBlock = 0;
          bx++;
        }
      }
    }
    const base = by * outWidth;
    for (let bx = 0; bx < outWidth; bx++) values[base + bx] = counts[bx]! > 0 ? sums[bx]! / counts[bx]! : Number.NaN;
  }
}
