/**
 * makeOTM: the overscan-subtracted, trimmed and merged preview image (the MERGED extension that
 * modsDisp and modsAlign display), as the reference's otmProc builds it (raw-format.md §8.2):
 *
 *   bias_n = median of IMn rows 3..ny−2, columns xtrim+3..nx (1-based; skips 2 rows at each end
 *            and the first 2 of the overscan columns); σ_n = population std of the same region.
 *   MERGED (FITS rows/cols, row 1 at the bottom):
 *     Q1 rows 1..ny,     cols 1..xtrim        ← IM3, rows flipped
 *     Q2 rows 1..ny,     cols xtrim+1..2xtrim ← IM4, rows and columns flipped
 *     Q3 rows ny+1..2ny, cols 1..xtrim        ← IM1, rows flipped
 *     Q4 rows ny+1..2ny, cols xtrim+1..2xtrim ← IM2, rows and columns flipped
 *   pixel = float32(physical − bias_n), computed in double as numpy does.
 *
 * Memory: one amplifier's raw bytes at a time plus the float32 result (98 MB for a full frame);
 * no full-size float64 intermediate.
 */
import { decodeImage, Header, readDataBytes, TruncatedFitsError, wordValuesSum, type Card, type Hdu } from '../fits/index.js';
import type { RawFile } from './raw-file.js';
import { uint16RegionStats, regionStats, type RegionStats } from './overscan.js';
import { MERGED_QUADRANTS } from '../mods/merged.js';

export const BIAS_COLUMN_SKIP = 2;
export const BIAS_ROW_SKIP = 2;

export interface MergedImage {
  width: number;
  height: number;
  /** Big-endian float32 pixels, ready to be a BITPIX −32 data unit. */
  bytes: Buffer;
  /** Ones'-complement sum of `bytes` (the DATASUM of the data unit). */
  datasum: number;
  /** Bias statistics per MODS quadrant Q1..Q4. */
  quadrantStats: [RegionStats, RegionStats, RegionStats, RegionStats];
}

export class MergeError extends Error {}

/** Computes the merged image from IM1..IM4; geometry (nx, ny, OVRSCAN1) from IM1, as the reference. */
export async function buildMergedImage(raw: RawFile): Promise<MergedImage> {
  const im1 = raw.images[0];
  const [nx, ny] = im1.axes as [number, number];
  const overscan = im1.header.number('OVRSCAN1');
  if (overscan === undefined) throw new MergeError('OVRSCAN1 missing in IM1');
  if (!Number.isInteger(overscan)) throw new MergeError(`OVRSCAN1 in IM1 is ${overscan}, not a whole number of columns`);
  const xtrim = nx - overscan;
  if (xtrim <= 0 || ny <= 2 * BIAS_ROW_SKIP || overscan <= BIAS_COLUMN_SKIP) {
    throw new MergeError(`image geometry ${nx}x${ny} with OVRSCAN1 = ${overscan} leaves no data or no bias region`);
  }
  for (const image of raw.images) {
    if (image.axes[0] !== nx || image.axes[1] !== ny) {
      throw new MergeError(`${image.extname} is ${image.axes.join('x')}, IM1 is ${nx}x${ny}: the amplifiers must have the same size`);
    }
  }
  const width = 2 * xtrim;
  const height = 2 * ny;
  const merged = new Float32Array(width * height);
  const stats: RegionStats[] = [];
  // One buffer for the stored bytes, reused for each amplifier.
  const stored = Buffer.allocUnsafe(nx * ny * 2);
  for (const q of MERGED_QUADRANTS) {
    const image = raw.images[q.source - 1]!;
    // Every quadrant is flipped up/down (rowBlock/colBlock place it; flipCols flips Q2/Q4).
    const placement = { width, nx, ny, xtrim, rowOffset: q.rowBlock * ny, colOffset: q.colBlock * xtrim, flipCols: q.flipCols };
    stats.push(await placeAmplifier(raw, image, stored, merged, placement));
  }
  // The checksum of the big-endian data is the sum of the native words' values: taken before the swap.
  const datasum = wordValuesSum(new Uint32Array(merged.buffer, merged.byteOffset, merged.length));
  const bytes = Buffer.from(merged.buffer, merged.byteOffset, merged.byteLength);
  if (LITTLE_ENDIAN) bytes.swap32(); // to big-endian, in place
  return { width, height, bytes, datasum, quadrantStats: stats as MergedImage['quadrantStats'] };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface Placement {
  width: number;
  nx: number;
  ny: number;
  xtrim: number;
  rowOffset: number;
  colOffset: number;
  flipCols: boolean;
}

/**
 * Reads one amplifier, measures its overscan and writes its bias-subtracted data columns into
 * `merged`. Unsigned 16-bit data (BITPIX 16, BZERO 32768, BSCALE 1: every MODS raw file) go from
 * the stored big-endian bytes straight to float32 in one pass; anything else through the general
 * decoder.
 */
async function placeAmplifier(raw: RawFile, image: Hdu, stored: Buffer, merged: Float32Array, p: Placement): Promise<RegionStats> {
  const { width, nx, ny, xtrim, rowOffset, colOffset, flipCols } = p;
  const region = [BIAS_ROW_SKIP, ny - BIAS_ROW_SKIP, xtrim + BIAS_COLUMN_SKIP, nx] as const;
  const bzero = image.header.number('BZERO') ?? 0;
  const bscale = image.header.number('BSCALE') ?? 1;
  let stats: RegionStats;
  if (image.bitpix === 16 && bzero === 32768 && bscale === 1 && stored.byteOffset % 2 === 0) {
    await readDataInto(raw, image, stored);
    // Native byte swap, then a signed 16-bit view: physical = stored + 32768. Values and bias
    // are integers or halves, so adding (32768 − bias) gives exactly numpy's double result.
    if (LITTLE_ENDIAN) stored.swap16();
    const words = new Int16Array(stored.buffer, stored.byteOffset, nx * ny);
    stats = storedInt16Stats(words, nx, ...region);
    const offset = 32768 - stats.median;
    for (let r = 0; r < ny; r++) {
      const source = (ny - 1 - r) * nx; // rows flipped
      const target = (rowOffset + r) * width + colOffset;
      if (flipCols) {
        for (let c = 0, k = source + xtrim - 1; c < xtrim; c++, k--) merged[target + c] = words[k]! + offset;
      } else {
        for (let c = 0, k = source; c < xtrim; c++, k++) merged[target + c] = words[k]! + offset;
      }
    }
    return stats;
  }
  const values = decodeImage(image, await readDataBytes(raw.source, image));
  stats = regionStats((i) => values[i]!, nx, ...region);
  for (let r = 0; r < ny; r++) {
    const source = (ny - 1 - r) * nx;
    const target = (rowOffset + r) * width + colOffset;
    for (let c = 0; c < xtrim; c++) merged[target + c] = values[flipCols ? source + xtrim - 1 - c : source + c]! - stats.median;
  }
  return stats;
}

/** Overscan statistics of signed 16-bit words holding unsigned values offset by 32768 (BZERO). */
function storedInt16Stats(words: Int16Array, nx: number, rowStart: number, rowEnd: number, colStart: number, colEnd: number): RegionStats {
  const cols = colEnd - colStart;
  const pixels = new Uint16Array(Math.max(0, rowEnd - rowStart) * cols);
  let k = 0;
  for (let r = rowStart; r < rowEnd; r++) {
    for (let i = r * nx + colStart, end = r * nx + colEnd; i < end; i++) pixels[k++] = words[i]! + 32768;
  }
  return uint16RegionStats(pixels, cols, 0, rowEnd - rowStart, 0, cols);
}

async function readDataInto(raw: RawFile, image: Hdu, into: Buffer): Promise<void> {
  const bytes = await raw.source.read(image.dataOffset, image.dataBytes, into);
  if (bytes.length < image.dataBytes) {
    throw new TruncatedFitsError(`data unit is ${image.dataBytes - bytes.length} bytes short`, {
      path: raw.source.path, hduIndex: image.index, offset: image.dataOffset + bytes.length,
    });
  }
}

/** Keywords that describe the primary HDU's own data and must not be copied into an extension. */
const PRIMARY_ONLY = new Set(['SIMPLE', 'BITPIX', 'NAXIS', 'EXTEND', 'CHECKSUM', 'DATASUM', 'EXTNAME', 'PCOUNT', 'GCOUNT', 'GROUPS']);

/**
 * The MERGED header: XTENSION…GCOUNT for a float32 image, then the processed primary header's
 * cards (as astropy builds an ImageHDU from a primary header), EXTNAME and the bias statistics.
 */
export function mergedHeader(primary: Header, image: MergedImage): Header {
  const card = (keyword: string, kind: Card['kind'], value: Card['value'], comment?: string): Card => ({ keyword, kind, value, comment });
  const h = new Header([
    card('XTENSION', 'string', 'IMAGE', 'Image extension'),
    card('BITPIX', 'integer', -32, 'array data type'),
    card('NAXIS', 'integer', 2, 'number of array dimensions'),
    card('NAXIS1', 'integer', image.width),
    card('NAXIS2', 'integer', image.height),
    card('PCOUNT', 'integer', 0, 'number of parameters'),
    card('GCOUNT', 'integer', 1, 'number of groups'),
    // Copies keep their card images, so they are written exactly as in the primary header.
    ...primary.cards.filter((c) => !PRIMARY_ONLY.has(c.keyword) && !/^NAXIS\d+$/.test(c.keyword)).map((c) => ({ ...c })),
  ]);
  h.set('EXTNAME', 'MERGED', { comment: 'extension name', kind: 'string' });
  image.quadrantStats.forEach((s, i) => {
    h.set(`Q${i + 1}BIAS`, s.median, { comment: `Q${i + 1} median overscan bias [DN]`, kind: 'real' });
    h.set(`Q${i + 1}STD`, s.std, { comment: `Q${i + 1} overscan bias stdev [DN]`, kind: 'real' });
  });
  return h;
}

/** MODSQUAD on IM1..IM4: which MODS quadrant each amplifier maps into (strings verbatim). */
export function markQuadrants(raw: RawFile): void {
  for (const q of MERGED_QUADRANTS) {
    raw.images[q.source - 1]!.header.set('MODSQUAD', q.modsquad, { comment: 'Mapping into MODS CCD', kind: 'string' });
  }
}
