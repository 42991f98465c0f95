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
 * Memory: the four amplifiers' stored bytes (the output copies them too) and two chunks of
 * float32 rows; the 98 MB MERGED of a full frame is never whole in memory, and there is no
 * full-size float64 intermediate.
 */
import {
  addSums, Header, onesComplementSum, readAhead, sumOfHalves, storedValueReader, TruncatedFitsError, type Card, type DataChunk, type Hdu, type ReadPiece,
} from '../fits/index.js';
import type { RawFile } from './raw-file.js';
import { histogramStats, regionStats, type RegionStats } from './overscan.js';
import { MERGED_QUADRANTS } from '../mods/merged.js';
import { acquireArena, releaseArena, type KernelArena, MAX_PLACE_PIXELS } from '../wasm/kernels.js';

export const BIAS_COLUMN_SKIP = 2;
export const BIAS_ROW_SKIP = 2;

export interface MergedImage {
  width: number;
  height: number;
  /** Length of the data unit without padding: width × height × 4. */
  byteLength: number;
  /**
   * The big-endian float32 pixels, first FITS row first, a few rows at a time with their
   * ones'-complement sum. The chunks take two buffers in turn (the writer writes one while the
   * next is made): each is valid until the one after the next is asked for.
   */
  chunks: () => Iterable<DataChunk>;
  /** Bias statistics per MODS quadrant Q1..Q4. */
  quadrantStats: [RegionStats, RegionStats, RegionStats, RegionStats];
  /**
   * The stored data units of IM1..IM4 as read for the merge (padded to whole blocks) with their
   * ones'-complement sums, so that the output copies exactly the bytes the merge saw without
   * reading or summing them again.
   */
  storedData: Map<Hdu, { bytes: Buffer; datasum: number }>;
  /** Gives the memory back for the next file; the chunks and `storedData` are then invalid. */
  release: () => void;
}

export class MergeError extends Error {}

/** Bytes per chunk of the merged image. */
const CHUNK_BYTES = 1 << 20;

/** Chunks are made in two buffers in turn: one is made while the other is being written. */
const CHUNK_BUFFERS = 2;

/** WebAssembly memory is at most 4 GiB; far beyond any MODS frame. */
const MAX_ARENA_BYTES = 2 ** 31;

/** Rows of the merged image per output chunk: about 1 MB, few enough write calls and little memory. */
function chunkRows(xtrim: number, ny: number): number {
  return Math.max(1, Math.min(2 * ny, Math.floor(CHUNK_BYTES / (4 * 2 * xtrim))));
}

/** The merge's arena: the amplifiers' stored data units (read straight into it) and two output chunks. */
export function mergeArenaBytes(dataUnitBytes: number[], xtrim: number, ny: number): number {
  return dataUnitBytes.reduce((n, bytes) => n + bytes + 16, CHUNK_BUFFERS * (chunkRows(xtrim, ny) * 2 * xtrim * 4 + 16));
}

/**
 * The arena of the largest MODS frame (raw-format.md §2: four 4178 × 1544 16-bit amplifiers, 32
 * overscan columns): what a processing thread reserves when it starts.
 */
export const FULL_FRAME_ARENA_BYTES = mergeArenaBytes(Array<number>(4).fill(Math.ceil((4178 * 1544 * 2) / 2880) * 2880), 4178 - 32, 1544);

/**
 * Reads IM1..IM4 and measures their overscan; the merged pixels are computed later, chunk by
 * chunk, as they are written. Geometry (nx, ny, OVRSCAN1) from IM1, as the reference.
 */
export async function buildMergedImage(raw: RawFile, checkpoint?: () => void): Promise<MergedImage> {
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
  if (xtrim > MAX_PLACE_PIXELS) throw new MergeError(`rows of ${xtrim} data columns, more than the merge handles (${MAX_PLACE_PIXELS}); a MODS amplifier has about 4100`);
  const region: Region = [BIAS_ROW_SKIP, ny - BIAS_ROW_SKIP, xtrim + BIAS_COLUMN_SKIP, nx];
  const width = 2 * xtrim;
  const height = 2 * ny;
  const rowsPerChunk = chunkRows(xtrim, ny);
  const arenaBytes = mergeArenaBytes(raw.images.map((image) => image.dataPaddedBytes), xtrim, ny);
  if (arenaBytes > MAX_ARENA_BYTES) throw new MergeError(`the amplifiers hold ${arenaBytes} bytes, more than the merge handles (${MAX_ARENA_BYTES}); a MODS full frame holds about 52 MB`);
  const arena = acquireArena(arenaBytes);
  const storedData = new Map<Hdu, { bytes: Buffer; datasum: number }>();
  const amplifiers: Amplifier[] = [];
  try {
    // Each amplifier's overscan is measured as soon as it is read, while the next one is read.
    await readAmplifiers(raw, arena, (image, stored) => {
      storedData.set(image, stored);
      amplifiers.push(openAmplifier(image, stored.bytes, nx, region, arena));
      checkpoint?.();
    }, checkpoint);
  } catch (err) {
    releaseArena(arena);
    throw err;
  }
  const placements = MERGED_QUADRANTS.map((q) => ({
    amplifier: amplifiers[q.source - 1]!, rowBlock: q.rowBlock, colOffset: q.colBlock * xtrim, flipCols: q.flipCols,
  }));
  const chunkBuffers = Array.from({ length: CHUNK_BUFFERS }, () => arena.take(rowsPerChunk * width * 4));
  return {
    width,
    height,
    byteLength: width * height * 4,
    chunks: () => mergedChunks({ width, height, ny, xtrim, rowsPerChunk, chunkBuffers, placements }),
    quadrantStats: MERGED_QUADRANTS.map((q) => amplifiers[q.source - 1]!.stats) as MergedImage['quadrantStats'],
    storedData,
    release: () => releaseArena(arena),
  };
}

/** Overscan rows [start, end) and columns [start, end), 0-based. */
type Region = readonly [number, number, number, number];

/** One amplifier ready to give its rows as physical values minus its bias. */
interface Amplifier {
  stats: RegionStats;
  /**
   * Writes source row `row` (0-based from the bottom), bias-subtracted and trimmed to its first
   * `out.length / 4` columns, into `out` as big-endian float32, columns reversed when `flip`.
   * Returns the ones'-complement sum of those bytes.
   */
  placeRow(row: number, out: Buffer, flip: boolean): number;
}

interface Layout {
  width: number;
  height: number;
  ny: number;
  xtrim: number;
  rowsPerChunk: number;
  /** Where the chunks are made, in turn: a chunk is valid until the one after the next is asked for. */
  chunkBuffers: Buffer[];
  placements: Array<{ amplifier: Amplifier; rowBlock: number; colOffset: number; flipCols: boolean }>;
}

/** The MERGED rows (row 1 at the bottom): every quadrant flipped up/down, Q2/Q4 also left/right. */
function* mergedChunks(layout: Layout): Generator<DataChunk> {
  const { width, height, ny, xtrim, rowsPerChunk, chunkBuffers, placements } = layout;
  for (let first = 0, turn = 0; first < height; first += rowsPerChunk, turn = (turn + 1) % chunkBuffers.length) {
    const chunk = chunkBuffers[turn]!;
    const rows = Math.min(rowsPerChunk, height - first);
    let sum = 0;
    for (let i = 0; i < rows; i++) {
      const row = first + i;
      const block = row < ny ? 0 : 1;
      for (const p of placements) {
        if (p.rowBlock !== block) continue;
        const start = 4 * (i * width + p.colOffset);
        sum = addSums(sum, p.amplifier.placeRow(ny - 1 - (row - block * ny), chunk.subarray(start, start + 4 * xtrim), p.flipCols));
      }
    }
    yield { bytes: chunk.subarray(0, rows * width * 4), sum };
  }
}

/**
 * Unsigned 16-bit data (BITPIX 16, BZERO 32768, BSCALE 1: every MODS raw file) go through the
 * SIMD kernel (src/wasm/kernels.wat): stored big-endian words to big-endian float32 of
 * physical − bias, summed as written. Physical and bias are integers or halves, so float32
 * arithmetic gives exactly numpy's double subtraction rounded to float32. Anything else goes
 * through the general decoder.
 */
function openAmplifier(image: Hdu, stored: Buffer, nx: number, region: Region, arena: KernelArena): Amplifier {
  const bzero = image.header.number('BZERO') ?? 0;
  const bscale = image.header.number('BSCALE') ?? 1;
  if (image.bitpix === 16 && bzero === 32768 && bscale === 1) return uint16Amplifier(stored, nx, region, arena);
  return generalAmplifier(image, stored, nx, region, bzero, bscale);
}

function uint16Amplifier(stored: Buffer, nx: number, region: Region, arena: KernelArena): Amplifier {
  const stats = bigEndianUint16Stats(stored, nx, region);
  if (!Number.isInteger(2 * stats.median)) throw new Error(`internal: the median of whole numbers came out as ${stats.median}`);
  return {
    stats,
    placeRow(row, out, flip) {
      const first = 2 * row * nx;
      const [hi, lo] = arena.place(stored.subarray(first, first + out.length / 2), out, flip, stats.median);
      return sumOfHalves(hi, lo);
    },
  };
}

/** Overscan statistics straight from stored big-endian 16-bit words with BZERO 32768. */
function bigEndianUint16Stats(stored: Buffer, nx: number, [rowStart, rowEnd, colStart, colEnd]: Region): RegionStats {
  const histogram = new Uint32Array(65536);
  for (let r = rowStart; r < rowEnd; r++) {
    // stored + 32768 is the unsigned word with its top bit flipped.
    for (let o = 2 * (r * nx + colStart), end = 2 * (r * nx + colEnd); o < end; o += 2) histogram[((stored[o]! << 8) | stored[o + 1]!) ^ 0x8000]! += 1;
  }
  return histogramStats(histogram);
}

function generalAmplifier(image: Hdu, stored: Buffer, nx: number, region: Region, bzero: number, bscale: number): Amplifier {
  const size = Math.abs(image.bitpix) / 8;
  const read = storedValueReader(image.bitpix, image.index);
  const view = new DataView(stored.buffer, stored.byteOffset, stored.byteLength);
  const value = (i: number) => bzero + bscale * read(view, i * size);
  const stats = regionStats(value, nx, ...region);
  return {
    stats,
    placeRow(row, out, flip) {
      const xtrim = out.length / 4;
      const base = row * nx;
      for (let c = 0; c < xtrim; c++) out.writeFloatBE(value(base + (flip ? xtrim - 1 - c : c)) - stats.median, 4 * c);
      return onesComplementSum(out);
    },
  };
}

/** Bytes read at a time: each piece is summed while it is still in cache. */
const READ_PIECE_BYTES = 1 << 20;

/** Reads in flight while the current piece is summed (the thread pool has four threads). */
const READS_AHEAD = 3;

/**
 * Reads the data units of IM1..IM4 with their padding (the output copies them whole) into the
 * arena, in pieces read ahead of the summing, and hands each amplifier with its DATASUM to
 * `done` as soon as its last piece is in.
 */
async function readAmplifiers(raw: RawFile, arena: KernelArena, done: (image: Hdu, stored: { bytes: Buffer; datasum: number }) => void, checkpoint?: () => void): Promise<void> {
  const pieces: Array<ReadPiece & { image: Hdu; bytes: Buffer; last: boolean }> = [];
  for (const image of raw.images) {
    const length = image.dataPaddedBytes; // whole 2880-byte blocks: every piece is whole words
    const bytes = arena.take(length);
    for (let at = 0; at < length; at += READ_PIECE_BYTES) {
      const end = Math.min(at + READ_PIECE_BYTES, length);
      pieces.push({ offset: image.dataOffset + at, into: bytes.subarray(at, end), image, bytes, last: end === length });
    }
  }
  let hi = 0;
  let lo = 0;
  await readAhead(raw.source, pieces, READS_AHEAD, (got, i) => {
    checkpoint?.();
    const piece = pieces[i]!;
    if (got.length < piece.into.length) {
      const short = piece.image.dataOffset + piece.image.dataPaddedBytes - piece.offset - got.length;
      throw new TruncatedFitsError(`data unit is ${short} bytes short`, {
        path: raw.source.path, hduIndex: piece.image.index, offset: piece.offset + got.length,
      });
    }
    const [h, l] = arena.halves(got);
    hi += h;
    lo += l;
    if (piece.last) {
      done(piece.image, { bytes: piece.bytes, datasum: sumOfHalves(hi, lo) });
      hi = 0;
      lo = 0;
    }
  });
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
