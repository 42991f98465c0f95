/**
 * dataMan's MERGED image: how the four trimmed raw extensions IM1..IM4 are placed as the MODS
 * quadrants Q1..Q4 (otmProc, docs/raw-format.md §8.2), as data plus coordinate conversions.
 *
 * MERGED is 2·xtrim × 2·ny pixels, xtrim = NAXIS1 − OVRSCAN1 and ny = NAXIS2 of IM1. FITS row 1
 * is the bottom. Q1 lower-left, Q2 lower-right, Q3 upper-left, Q4 upper-right. Every quadrant
 * is its source flipped up/down; Q2 and Q4 are also flipped left/right.
 */

export type QuadrantNumber = 1 | 2 | 3 | 4;

export interface MergedQuadrant {
  quadrant: QuadrantNumber;
  /** Raw extension position n of IMn (HDU n), whatever its EXTNAME. */
  source: 1 | 2 | 3 | 4;
  flipRows: boolean;
  flipCols: boolean;
  /** 0: rows 1..ny; 1: rows ny+1..2ny. */
  rowBlock: 0 | 1;
  /** 0: cols 1..xtrim; 1: cols xtrim+1..2·xtrim. */
  colBlock: 0 | 1;
  /** MODSQUAD value dataMan appends to the source extension (verbatim, "cols" sic). */
  modsquad: string;
}

export const MERGED_QUADRANTS: readonly MergedQuadrant[] = Object.freeze([
  { quadrant: 1, source: 3, flipRows: true, flipCols: false, rowBlock: 0, colBlock: 0, modsquad: 'Q1 flip cols' },
  { quadrant: 2, source: 4, flipRows: true, flipCols: true, rowBlock: 0, colBlock: 1, modsquad: 'Q2 flip rows and cols' },
  { quadrant: 3, source: 1, flipRows: true, flipCols: false, rowBlock: 1, colBlock: 0, modsquad: 'Q3 flip cols' },
  { quadrant: 4, source: 2, flipRows: true, flipCols: true, rowBlock: 1, colBlock: 1, modsquad: 'Q4 flip rows and cols' },
] satisfies MergedQuadrant[]);

/** Trimmed size of one quadrant: data columns (`xtrim`) and rows (`ny`). */
export interface QuadrantSize {
  xtrim: number;
  ny: number;
}

/** A 1-based inclusive pixel box. */
export interface PixelBox {
  x1: number;
  x2: number;
  y1: number;
  y2: number;
}

export function quadrantBySource(ext: number): MergedQuadrant {
  const q = MERGED_QUADRANTS.find((m) => m.source === ext);
  if (q === undefined) throw new RangeError(`raw extension must be 1..4, got ${ext}`);
  return q;
}

export function quadrantByNumber(quadrant: number): MergedQuadrant {
  const q = MERGED_QUADRANTS.find((m) => m.quadrant === quadrant);
  if (q === undefined) throw new RangeError(`quadrant must be 1..4, got ${quadrant}`);
  return q;
}

/** Where a quadrant lies in MERGED (1-based inclusive FITS pixels). */
export function quadrantBox(quadrant: number, size: QuadrantSize): PixelBox {
  const q = quadrantByNumber(quadrant);
  return {
    x1: q.colBlock * size.xtrim + 1,
    x2: (q.colBlock + 1) * size.xtrim,
    y1: q.rowBlock * size.ny + 1,
    y2: (q.rowBlock + 1) * size.ny,
  };
}

/** A raw data pixel (1-based; `x` ≤ xtrim) → its MERGED pixel (1-based). */
export function rawToMerged(ext: number, x: number, y: number, size: QuadrantSize): { x: number; y: number } {
  const q = quadrantBySource(ext);
  checkInside(x, y, size);
  const qx = q.flipCols ? size.xtrim + 1 - x : x;
  const qy = q.flipRows ? size.ny + 1 - y : y;
  return { x: q.colBlock * size.xtrim + qx, y: q.rowBlock * size.ny + qy };
}

/** A MERGED pixel (1-based) → the raw extension and data pixel it comes from. */
export function mergedToRaw(x: number, y: number, size: QuadrantSize): { ext: number; quadrant: QuadrantNumber; x: number; y: number } {
  if (x < 1 || y < 1 || x > 2 * size.xtrim || y > 2 * size.ny) {
    throw new RangeError(`MERGED pixel (${x}, ${y}) is outside 1..${2 * size.xtrim} × 1..${2 * size.ny}`);
  }
  const colBlock = x > size.xtrim ? 1 : 0;
  const rowBlock = y > size.ny ? 1 : 0;
  const q = MERGED_QUADRANTS.find((m) => m.colBlock === colBlock && m.rowBlock === rowBlock)!;
  const qx = x - colBlock * size.xtrim;
  const qy = y - rowBlock * size.ny;
  return {
    ext: q.source,
    quadrant: q.quadrant,
    x: q.flipCols ? size.xtrim + 1 - qx : qx,
    y: q.flipRows ? size.ny + 1 - qy : qy,
  };
}

/** A MERGED box inside one quadrant → the raw box in its source extension. */
export function mergedBoxToRaw(box: PixelBox, size: QuadrantSize): { ext: number; quadrant: QuadrantNumber; box: PixelBox } {
  const a = mergedToRaw(box.x1, box.y1, size);
  const b = mergedToRaw(box.x2, box.y2, size);
  if (a.ext !== b.ext) throw new RangeError('box spans two quadrants');
  return {
    ext: a.ext,
    quadrant: a.quadrant,
    box: { x1: Math.min(a.x, b.x), x2: Math.max(a.x, b.x), y1: Math.min(a.y, b.y), y2: Math.max(a.y, b.y) },
  };
}

function checkInside(x: number, y: number, size: QuadrantSize): void {
  if (x < 1 || y < 1 || x > size.xtrim || y > size.ny) {
    throw new RangeError(`raw data pixel (${x}, ${y}) is outside 1..${size.xtrim} × 1..${size.ny}`);
  }
}
