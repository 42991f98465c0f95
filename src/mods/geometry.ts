/**
 * MODS CCD readout geometry: detector format, ROI presets, binning, the per-amplifier image
 * size, and the section/transformation values azcam writes into IM1..IM4.
 *
 * The values reproduce azcam's FocalPlane arithmetic (azcam `image_focalplane.py` `set_roi`,
 * `set_amp_positions`; `image_headers.py` `_write_extension_header`, `_write_wcs_keywords`),
 * including its quirks for sub-frame ROIs: DETSEC/CCDSEC start at the ROI start but end at
 * the amplifier's full extent, and LTV1/LTV2 follow DETSEC. dataMan's fixDETSEC corrects them
 * later; the raw files must carry azcam's values.
 *
 * References: docs/raw-format.md §3 (format, presets, NAXIS rule), §5.2 (section table and the
 * real 1Kx1K example), §8.2 otmProc (MERGED quadrants, see merged.ts).
 */

/** A readout region in unbinned detector pixels, 1-based and inclusive. */
export interface Roi {
  x1: number;
  x2: number;
  y1: number;
  y2: number;
}

/** Column (serial, x) and row (parallel, y) binning factors. */
export interface Binning {
  col: number;
  row: number;
}

export type RoiPreset = 'full' | '3k' | '1k' | '4k';

/** The configured CCD format of one azcam-mods era. */
export interface DetectorFormat {
  name: 'current' | 'dec2025';
  /** Visible columns of the whole CCD (all amplifiers). */
  cols: number;
  /** Visible rows of the whole CCD. */
  rows: number;
  /** Overscan columns per amplifier (no prescan, no row overscan). */
  overscanCols: number;
  /** REF-PIX1, REF-PIX2. */
  refPix: readonly [number, number];
  /** ROI presets of `MODS.set_roiByName` (`mods.py`, `ccdroi.tab`). */
  presets: Readonly<Record<RoiPreset, Roi>>;
}

/** The format since azcam-mods 1.1.9 (2026-01-02): 8292 × 3088, REF-PIX (4146, 1544). */
export const DETECTOR_2026: DetectorFormat = Object.freeze({
  name: 'current',
  cols: 8292,
  rows: 3088,
  overscanCols: 32,
  refPix: [4146, 1544] as const,
  presets: Object.freeze({
    full: { x1: 1, x2: 8292, y1: 1, y2: 3088 },
    '3k': { x1: 2603, x2: 5690, y1: 1, y2: 3088 },
    '1k': { x1: 3635, x2: 4658, y1: 1033, y2: 2056 },
    '4k': { x1: 2099, x2: 6194, y1: 1, y2: 3088 },
  }),
});

/** The format before 2026-01-02 (a 2-pixel short read per line): 8288 × 3088, REF-PIX (4144, 1544). */
export const DETECTOR_DEC2025: DetectorFormat = Object.freeze({
  name: 'dec2025',
  cols: 8288,
  rows: 3088,
  overscanCols: 32,
  refPix: [4144, 1544] as const,
  presets: Object.freeze({
    full: { x1: 1, x2: 8288, y1: 1, y2: 3088 },
    '3k': { x1: 2601, x2: 5688, y1: 1, y2: 3088 },
    '1k': { x1: 3633, x2: 4656, y1: 1033, y2: 2056 },
    '4k': { x1: 2097, x2: 6192, y1: 1, y2: 3088 },
  }),
});

export function detectorFormat(name: 'current' | 'dec2025'): DetectorFormat {
  return name === 'dec2025' ? DETECTOR_DEC2025 : DETECTOR_2026;
}

const ROI_NAMES: Readonly<Record<string, RoiPreset>> = {
  off: 'full', full: 'full', '8kx3k': 'full',
  '3k': '3k', '3kx3k': '3k',
  '1k': '1k', '1kx1k': '1k',
  '4k': '4k', '4kx3k': '4k',
};

/** All preset names `set_roiByName` accepts (case-insensitive). */
export const ROI_PRESET_NAMES: readonly string[] = Object.freeze(Object.keys(ROI_NAMES));

/** The preset for a name such as `1kx1k` or `OFF`, or undefined. */
export function resolveRoiPreset(name: string): RoiPreset | undefined {
  return ROI_NAMES[name.toLowerCase()];
}

/** Parses `CxR` (e.g. `2x2`, `1x4`) into a binning; undefined if malformed or outside 1..16. */
export function parseBinning(text: string): Binning | undefined {
  const m = /^(\d{1,2})[xX](\d{1,2})$/.exec(text.trim());
  if (m === null) return undefined;
  const col = Number(m[1]);
  const row = Number(m[2]);
  if (col < 1 || row < 1 || col > 16 || row > 16) return undefined;
  return { col, row };
}

/** Amplifier orientation (`amp_cfg`): 0 normal, 1 flip x, 2 flip y, 3 flip both. */
export type AmpConfig = 0 | 1 | 2 | 3;

/** The MODS focal plane: four amplifiers, extension n at position EXT_POSITIONS[n-1]. */
export const AMP_CONFIG: readonly AmpConfig[] = Object.freeze([0, 1, 0, 1] as AmpConfig[]);
export const EXT_POSITIONS: readonly (readonly [number, number])[] = Object.freeze([
  [1, 1], [2, 1], [1, 2], [2, 2],
] as const);

/** The header values azcam writes into one IMx extension (HDU 1..4). */
export interface ExtensionGeometry {
  /** Extension number 1..4 (IMAGEID, EXT-NUM, JPG-EXT). */
  ext: number;
  ampConfig: AmpConfig;
  /** EXT-POSX, EXT-POSY. */
  extPos: readonly [number, number];
  DETSIZE: string;
  CCDSIZE: string;
  BIASSEC: string;
  DATASEC: string;
  TRIMSEC: string;
  AMPSEC: string;
  DETSEC: string;
  CCDSEC: string;
  CCDSEC1: string;
  /** LTM1_1, LTM2_2 (float32 in azcam). */
  ltm: readonly [number, number];
  /** LTV1, LTV2 (float32 in azcam). */
  ltv: readonly [number, number];
  /** ATM1_1, ATM2_2 (integers). */
  atm: readonly [number, number];
  /** ATV1, ATV2 (integers). */
  atv: readonly [number, number];
  /** DTM1_1, DTM2_2. */
  dtm: readonly [number, number];
  /** DTV1, DTV2. */
  dtv: readonly [number, number];
  /** CRPIX1, CRPIX2 (double). */
  crpix: readonly [number, number];
  /** CD1_1, CD1_2, CD2_1, CD2_2 (float32 in azcam; ±0.0 kept). */
  cd: readonly [number, number, number, number];
  /** AMP-PIX1, AMP-PIX2. */
  ampPix: readonly [number, number];
}

/** Everything about one readout (detector format × ROI × binning). */
export interface ReadoutGeometry {
  detector: DetectorFormat;
  roi: Roi;
  bin: Binning;
  /** Unbinned visible columns and rows per amplifier (`ampvispix_x/y`): 4146 × 1544. */
  ampVisCols: number;
  ampVisRows: number;
  /** Binned data columns per amplifier (`xdata`); also dataMan's `xtrim`. */
  xdata: number;
  /** Binned rows per amplifier (`ydata`). */
  ydata: number;
  overscanCols: number;
  /** IMx NAXIS1 = xdata + overscan; NAXIS2 = ydata. */
  naxis1: number;
  naxis2: number;
  /** Primary DETSIZE (unbinned CCD size, independent of the ROI). */
  detsize: string;
  /** CCDSUM, `'<col> <row>'`. */
  ccdsum: string;
  extensions: readonly ExtensionGeometry[];
}

const SCALE_DEG_PER_PIXEL = Math.fround(1 / 3600);

function section(x1: number, x2: number, y1: number, y2: number): string {
  return `[${x1}:${x2},${y1}:${y2}]`;
}

/** Python's `'%d' % x` for a float: truncation toward zero. */
function pct(x: number): number {
  return Math.trunc(x) + 0; // + 0 turns -0 into 0
}

/**
 * Computes the readout geometry and azcam's IMx header values.
 *
 * Given: `roi` (unbinned, 1-based inclusive, symmetric about the CCD centre), `bin`,
 * `detector` (default the current format).
 * Returned: sizes (§3: `xdata = floor(((x2-x1+1)/colBin)/2)`, `NAXIS1 = xdata + 32`) and the
 * values of §5.2 for every extension.
 * Notes: azcam keeps DETSEC/CCDSEC/AMPSEC/ATV in unbinned pixels; LTM/LTV/CRPIX/CD and CCDSEC1
 * are binning-aware. Split physical coordinates are off (azcam's default), so LTV follows
 * DETSEC of the whole mosaic.
 */
export function readoutGeometry(roi: Roi, bin: Binning = { col: 1, row: 1 }, detector: DetectorFormat = DETECTOR_2026): ReadoutGeometry {
  if (![roi.x1, roi.x2, roi.y1, roi.y2].every(Number.isInteger) || roi.x1 < 1 || roi.y1 < 1 || roi.x2 > detector.cols ||
    roi.y2 > detector.rows || roi.x2 < roi.x1 || roi.y2 < roi.y1) {
    throw new RangeError(`ROI ${section(roi.x1, roi.x2, roi.y1, roi.y2)} is not inside the ${detector.cols}x${detector.rows} CCD`);
  }
  if (!Number.isInteger(bin.col) || !Number.isInteger(bin.row) || bin.col < 1 || bin.row < 1) {
    throw new RangeError(`binning must be positive integers, got ${bin.col}x${bin.row}`);
  }
  const cb = bin.col;
  const rb = bin.row;
  const ampVisCols = detector.cols / 2;
  const ampVisRows = detector.rows / 2;
  const xdata = Math.floor((roi.x2 - roi.x1 + 1) / cb / 2);
  const ydata = Math.floor((roi.y2 - roi.y1 + 1) / rb / 2);
  if (xdata < 1 || ydata < 1) throw new RangeError(`ROI too small for ${cb}x${rb} binning`);
  const ovr = detector.overscanCols;
  const detsize = section(1, detector.cols, 1, detector.rows);
  const skipX1 = roi.x1 - 1;
  const skipY1 = roi.y1 - 1;
  const skipY2 = Math.max(0, ampVisRows - roi.y2);
  // With two amplifiers along each axis azcam ends DETSEC at the amplifier's full extent.
  const lastCol = ampVisCols;
  const lastRow = ampVisRows;

  const extensions = AMP_CONFIG.map((cfg, i): ExtensionGeometry => {
    const [nx, ny] = EXT_POSITIONS[i]!;
    const flipX = cfg === 1 || cfg === 3;
    const flipY = cfg === 2 || cfg === 3;
    const fx = flipX ? -1 : 1;
    const fy = flipY ? -1 : 1;
    // DETSEC (= CCDSEC: one CCD, detector position 1,1)
    const xLo = (nx - 1) * ampVisCols + roi.x1;
    const xHi = nx * lastCol;
    const yLo = (ny - 1) * ampVisRows + roi.y1;
    const yHi = ny * lastRow;
    const [dx1, dx2] = flipX ? [xHi, xLo] : [xLo, xHi];
    const [dy1, dy2] = flipY ? [yHi, yLo] : [yLo, yHi];
    // CCDSEC1, "binned version of CCDSEC" (azcam's own formulas, quirks included)
    let c1x1: number, c1x2: number, c1y1: number, c1y2: number;
    if (!flipX) {
      c1x1 = skipX1 / cb + 1;
      c1x2 = (ampVisCols - skipX1) / cb;
    } else if (cfg === 1) {
      c1x1 = (nx * ampVisCols - skipX1) / cb;
      c1x2 = ((nx - 1) * ampVisCols - skipX1) / cb;
    } else {
      c1x1 = ((nx - 1) * ampVisCols - skipX1) / cb;
      c1x2 = (nx * ampVisCols - skipX1) / cb;
    }
    if (!flipY) {
      c1y1 = skipY1 / rb + 1;
      c1y2 = (ampVisRows - skipY2) / rb;
    } else {
      c1y1 = (ny * ampVisRows - skipY1) / rb;
      c1y2 = ((ny - 1) * ampVisRows - skipY1) / rb;
    }
    const ccdsec1 = section(...([c1x1, c1x2, c1y1, c1y2].map((v) => pct(Math.max(1, v))) as [number, number, number, number]));
    // AMPSEC: the amplifier's unbinned data, independent of the ROI
    const ampsec = section(flipX ? ampVisCols : 1, flipX ? 1 : ampVisCols, flipY ? ampVisRows : 1, flipY ? 1 : ampVisRows);
    // Transformations (split_physical_coords = 0)
    const ltm: [number, number] = [Math.fround(fx / cb), Math.fround(fy / rb)];
    const ltv: [number, number] = [Math.fround((-fx * dx1 + 1) / cb), Math.fround((-fy * dy1 + 1) / rb)];
    const atv1 = fx === 1 ? -(ampVisCols * (nx - 1)) + 0 : ampVisCols * nx + 1;
    const atv2 = fy === 1 ? -(ampVisRows * (ny - 1)) + 0 : ampVisRows * ny + 1;
    // Amplifier pixel positions and WCS reference pixel
    const sizeX = xdata * cb;
    const sizeY = ydata * rb;
    const fx01 = flipX ? 1 : 0;
    const fy01 = flipY ? 1 : 0;
    const ampPix1 = (nx - 1) * sizeX + fx01 * sizeX + 1 - fx01;
    const ampPix2 = (ny - 1) * sizeY + fy01 * sizeY + 1 - fy01;
    const crpix1 = ((detector.refPix[0] - ampPix1) * fx - skipX1) / cb;
    const crpix2 = ((detector.refPix[1] - ampPix2) * fy - skipY1) / rb;
    const cd11 = Math.fround(Math.fround(SCALE_DEG_PER_PIXEL * cb) * fx);
    const cd12 = Math.fround(SCALE_DEG_PER_PIXEL * rb * -0) * fy;
    const cd21 = Math.fround(SCALE_DEG_PER_PIXEL * cb * 0) * fx;
    const cd22 = Math.fround(Math.fround(SCALE_DEG_PER_PIXEL * rb) * fy);
    return Object.freeze({
      ext: i + 1,
      ampConfig: cfg,
      extPos: [nx, ny] as const,
      DETSIZE: detsize,
      CCDSIZE: detsize,
      BIASSEC: section(xdata + 1, xdata + ovr, 1, ydata),
      DATASEC: section(1, xdata, 1, ydata),
      TRIMSEC: section(1, xdata, 1, ydata),
      AMPSEC: ampsec,
      DETSEC: section(dx1, dx2, dy1, dy2),
      CCDSEC: section(dx1, dx2, dy1, dy2),
      CCDSEC1: ccdsec1,
      ltm,
      ltv,
      atm: [fx, fy] as const,
      atv: [atv1, atv2] as const,
      dtm: [1, 1] as const,
      dtv: [0, 0] as const,
      crpix: [crpix1, crpix2] as const,
      cd: [cd11, cd12, cd21, cd22] as const,
      ampPix: [ampPix1, ampPix2] as const,
    });
  });

  return Object.freeze({
    detector,
    roi: Object.freeze({ ...roi }),
    bin: Object.freeze({ ...bin }),
    ampVisCols,
    ampVisRows,
    xdata,
    ydata,
    overscanCols: ovr,
    naxis1: xdata + ovr,
    naxis2: ydata,
    detsize,
    ccdsum: `${cb} ${rb}`,
    extensions: Object.freeze(extensions),
  });
}

/** The geometry of a named preset (`full`, `1kx1k`, …) with the given binning. */
export function presetGeometry(preset: string, bin: Binning = { col: 1, row: 1 }, detector: DetectorFormat = DETECTOR_2026): ReadoutGeometry {
  const name = resolveRoiPreset(preset);
  if (name === undefined) throw new RangeError(`unknown ROI preset ${JSON.stringify(preset)}; known: ${ROI_PRESET_NAMES.join(', ')}`);
  return readoutGeometry(detector.presets[name], bin, detector);
}

/**
 * The shortest decimal that reads back to the same float32 — how numpy prints a float32, and so
 * how azcam's float32 header values (LTM, LTV, CD) appear in raw files (`0.00027777778`).
 */
export function float32Decimal(x: number): number {
  const f = Math.fround(x);
  if (f === 0 || !Number.isFinite(f)) return f;
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(f.toPrecision(p));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}
