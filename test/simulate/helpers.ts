/** Shared helpers of the simulate tests: reading images back and an independent otmProc merge. */
import { bufferSource, readHdus, readImage, type Hdu } from '../../src/fits/index.js';

export interface Plane {
  width: number;
  height: number;
  /** Row-major, FITS row 1 first. */
  values: Float64Array;
}

export async function readPlanes(bytes: Buffer): Promise<{ hdus: Hdu[]; planes: Plane[] }> {
  const source = bufferSource(bytes);
  const hdus = await readHdus(source);
  const planes: Plane[] = [];
  for (const hdu of hdus.slice(1, 5)) {
    const img = await readImage(source, hdu);
    planes.push({ width: img.axes[0]!, height: img.axes[1]!, values: img.values });
  }
  return { hdus, planes };
}

export function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** Values of a 0-based half-open region [x0, x1) × [y0, y1). */
export function region(p: Plane, x0: number, x1: number, y0: number, y1: number): Float64Array {
  const out = new Float64Array((x1 - x0) * (y1 - y0));
  let k = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) out[k++] = p.values[y * p.width + x]!;
  return out;
}

/**
 * dataMan's otmProc, written straight from docs/raw-format.md §8.2 and independent of
 * src/mods/merged.ts: bias = median of rows 2..ny-3, columns xtrim+2..nx-1 (0-based); Q1 =
 * flipud(IM3), Q2 = flipud(fliplr(IM4)), Q3 = flipud(IM1), Q4 = flipud(fliplr(IM2)).
 */
export function otmMerge(planes: Plane[], overscan: number): { merged: Plane; bias: number[] } {
  const nx = planes[0]!.width;
  const ny = planes[0]!.height;
  const xtrim = nx - overscan;
  const bias = planes.map((p) => median(region(p, xtrim + 2, nx, 2, ny - 2)));
  const width = 2 * xtrim;
  const height = 2 * ny;
  const values = new Float64Array(width * height);
  const place = (src: number, rowOff: number, colOff: number, flipCols: boolean) => {
    const p = planes[src - 1]!;
    for (let r = 0; r < ny; r++) {
      const srcRow = ny - 1 - r; // flipud
      for (let c = 0; c < xtrim; c++) {
        const srcCol = flipCols ? xtrim - 1 - c : c;
        values[(rowOff + r) * width + colOff + c] = p.values[srcRow * nx + srcCol]! - bias[src - 1]!;
      }
    }
  };
  place(3, 0, 0, false);
  place(4, 0, xtrim, true);
  place(1, ny, 0, false);
  place(2, ny, xtrim, true);
  return { merged: { width, height, values }, bias };
}
