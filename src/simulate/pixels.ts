/**
 * Pixel data of the four raw extensions: bias + read noise everywhere; in the data columns the
 * light of the exposure (`scene.ts`: sky or lamp lines across the slit, the target's trace) with
 * its photon noise, and four fiducial marks; the 32 overscan columns last (§7).
 *
 * The scene is defined in MERGED coordinates (what dataMan's otmProc builds, §8.2) and mapped
 * back into each IMx through the inverse quadrant mapping, so that a correct merge shows the
 * trace as one straight horizontal band, sky lines as vertical ones, and each mark near the
 * outer corner of its quadrant.
 *
 * Speed: a full frame is 25.8 million pixels. Box–Muller per pixel costs over a second on a
 * small VM, so 65,536 Box–Muller deviates are drawn once per file and each pixel picks one with
 * 16 random bits (two pixels per 32-bit draw); a pixel's noise is that deviate times its σ
 * (read noise and photon noise together). The noise is still Gaussian to the resolution that
 * matters after rounding to whole DN, and stays deterministic for a seed. Rows fully inside
 * the slit (most of them) take mean and σ from per-column arrays; only the slit's ends and the
 * trace's rows evaluate the model per pixel.
 */
import type { ReadoutGeometry } from '../mods/geometry.js';
import { type PixelBox, type QuadrantNumber, mergedBoxToRaw, quadrantBySource } from '../mods/merged.js';
import { type Prng, fillUint32 } from './prng.js';
import type { SceneModel } from './scene.js';

/** A fiducial mark: a solid square `level` DN above bias, near the outer corner of its MERGED quadrant. */
export interface FiducialMark {
  quadrant: QuadrantNumber;
  /** Raw extension (position 1..4) that holds it. */
  ext: number;
  /** DN above the extension's bias level. */
  level: number;
  /** Where it lands in MERGED (1-based inclusive). */
  merged: PixelBox;
  /** Where it is in the raw extension (1-based inclusive data pixels). */
  raw: PixelBox;
}

/** Level of the mark of quadrant q: 20000 + 1000·q DN above bias. */
export function markLevel(quadrant: number): number {
  return 20000 + 1000 * quadrant;
}

/**
 * The four fiducial marks of a readout: 8×8 unbinned pixels (at least 2×2 binned) at 16 unbinned
 * pixels from the outer corner of each MERGED quadrant — Q1 lower-left, Q2 lower-right, Q3
 * upper-left, Q4 upper-right — and where each sits in its raw extension.
 */
export function fiducialMarks(geometry: ReadoutGeometry): FiducialMark[] {
  const size = { xtrim: geometry.xdata, ny: geometry.ydata };
  const w = 2 * size.xtrim;
  const h = 2 * size.ny;
  const sx = Math.max(2, Math.floor(8 / geometry.bin.col));
  const sy = Math.max(2, Math.floor(8 / geometry.bin.row));
  const ox = Math.max(1, Math.floor(16 / geometry.bin.col));
  const oy = Math.max(1, Math.floor(16 / geometry.bin.row));
  const left = { x1: ox + 1, x2: ox + sx };
  const right = { x1: w - ox - sx + 1, x2: w - ox };
  const bottom = { y1: oy + 1, y2: oy + sy };
  const top = { y1: h - oy - sy + 1, y2: h - oy };
  const boxes: Array<[QuadrantNumber, PixelBox]> = [
    [1, { ...left, ...bottom }],
    [2, { ...right, ...bottom }],
    [3, { ...left, ...top }],
    [4, { ...right, ...top }],
  ];
  return boxes.map(([quadrant, merged]) => {
    const raw = mergedBoxToRaw(merged, size);
    if (raw.quadrant !== quadrant) throw new Error(`internal: mark of Q${quadrant} landed in Q${raw.quadrant}`);
    return { quadrant, ext: raw.ext, level: markLevel(quadrant), merged, raw: raw.box };
  });
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A physical value 0..65535 as the 16-bit word whose memory bytes are its BITPIX 16 / BZERO 32768 encoding. */
function word(v: number): number {
  const stored = (v ^ 0x8000) & 0xffff; // v − 32768 in two's complement
  return LITTLE_ENDIAN ? ((stored & 0xff) << 8) | (stored >>> 8) : stored;
}

function clampRound(x: number): number {
  const v = Math.round(x);
  return v < 0 ? 0 : v > 65535 ? 65535 : v;
}

/** Standard normal deviates shared by all extensions of a file. */
export function gaussianTable(prng: Prng, size = 65536): Float64Array {
  const z = new Float64Array(size);
  for (let k = 0; k < size; k++) z[k] = prng.gaussian();
  return z;
}


/** Each value 0..65535 as its stored word: one lookup per pixel instead of the arithmetic. */
let wordTable: Uint16Array | undefined;
function words16(): Uint16Array {
  if (wordTable === undefined) {
    wordTable = new Uint16Array(65536);
    for (let v = 0; v < 65536; v++) wordTable[v] = word(v);
  }
  return wordTable;
}

/** Electrons per DN (the GAIN keyword of the IMx headers): photon noise in DN is √(signal / gain). */
export const GAIN_E_PER_DN = 2.0;

export interface ExtensionPixels {
  /** Raw extension position 1..4. */
  ext: number;
  bias: number;
  readNoiseDn: number;
  /** First two overscan columns 4 and 2 DN high. */
  warmOverscan: boolean;
  /** Normal deviates, length 65536. */
  z: Float64Array;
  /** The light recorded (sky, lamps, target), or undefined for bias only. */
  scene: SceneModel | undefined;
  marks: readonly FiducialMark[];
}

/**
 * Fills one extension's data unit (`naxis1 × naxis2` BITPIX 16 values, no padding) in place:
 * bias + scene + noise (read noise, and photon noise of the scene's light) in the data columns,
 * bias + read noise in the overscan, then the fiducial marks. `out` must start at an even byte
 * offset of its ArrayBuffer (FITS data units start on 2880-byte blocks, so a fresh Buffer always
 * qualifies).
 */
export function fillExtension(out: Uint8Array, geometry: ReadoutGeometry, p: ExtensionPixels, prng: Prng): void {
  const nx = geometry.naxis1;
  const ny = geometry.naxis2;
  const xdata = geometry.xdata;
  const count = nx * ny;
  if (out.length !== count * 2) throw new RangeError(`data unit is ${out.length} bytes, expected ${count * 2}`);
  if (out.byteOffset % 2 !== 0) throw new RangeError('data unit must start at an even byte offset');
  const words = new Uint16Array(out.buffer, out.byteOffset, count);
  const { z, bias } = p;
  const sigma = p.readNoiseDn;
  if (z.length !== 65536) throw new RangeError(`expected 65536 normal deviates, got ${z.length}`);
  const mask = 0xffff;
  // Encoded bias + rounded read noise, one entry per deviate: the dark pixels' fast path.
  const enc = new Uint16Array(z.length);
  for (let k = 0; k < enc.length; k++) enc[k] = word(clampRound(bias + sigma * z[k]!));
  const table = words16();

  // The scene seen by this extension, in raw column order, through the inverse MERGED mapping.
  const q = quadrantBySource(p.ext);
  const mergedRow = (y: number) => q.rowBlock * ny + (q.flipRows ? ny - 1 - y : y);
  const scene = p.scene;
  const slit = new Float64Array(xdata);
  const trace = new Float64Array(xdata);
  // Rows fully inside the slit in fixed point: mean·4096 (+ ½ for rounding) and σ·64 times
  // deviate·64, so that a pixel costs one integer multiply-add (twice as fast as floating point).
  const meanQ = new Int32Array(xdata);
  const sigmaQ = new Int32Array(xdata);
  const zq = fixedPointDeviates(z);
  if (scene !== undefined) {
    for (let x = 0; x < xdata; x++) {
      const mx = q.colBlock * xdata + (q.flipCols ? xdata - 1 - x : x);
      slit[x] = scene.slitColumns[mx]!;
      trace[x] = scene.traceColumns?.[mx] ?? 0;
      // Capped where the pixel saturates anyway, so that the sum stays inside 32 bits.
      meanQ[x] = Math.round(Math.min(bias + slit[x]!, MEAN_CAP) * 4096) + 2048;
      sigmaQ[x] = Math.round(Math.min(Math.sqrt(sigma * sigma + slit[x]! / GAIN_E_PER_DN), SIGMA_CAP) * 64);
    }
  }
  const variance = sigma * sigma;

  const draws = new Uint32Array(Math.ceil(nx / 2));
  // 16 random bits per pixel pick its deviate, two pixels per 32-bit draw: pixel 2k takes the
  // low half of draw k. A 16-bit view reads exactly that on little-endian hosts.
  const idx = LITTLE_ENDIAN ? new Uint16Array(draws.buffer) : new Uint16Array(2 * draws.length);
  for (let y = 0; y < ny; y++) {
    fillUint32(prng, draws);
    if (!LITTLE_ENDIAN) {
      for (let k = 0; k < draws.length; k++) {
        idx[2 * k] = draws[k]! & 0xffff;
        idx[2 * k + 1] = draws[k]! >>> 16;
      }
    }
    const row = y * nx;
    const my = mergedRow(y);
    const inSlit = scene === undefined ? 0 : scene.slitRows[my]!;
    const onTrace = scene === undefined ? 0 : scene.traceRows[my]!;
    let x = 0;
    if (inSlit === 1 && onTrace === 0) {
      // Most rows of an exposure: the slit's light only, mean and σ per column precomputed.
      x = slitRow(words, row, meanQ, sigmaQ, zq, idx, table);
    } else if (inSlit !== 0 || onTrace !== 0) {
      // The slit's ends and the trace's rows: a few per cent of the rows, evaluated per pixel.
      x = modelRow(words, row, { slit, inSlit, trace, onTrace, bias, variance }, z, idx, table);
    }
    // Beyond the slit, and the overscan: bias and read noise only.
    for (; x < nx; x++) words[row + x] = enc[idx[x]!]!;
  }

  // Optionally, the first two overscan columns read a little high (seen in real files;
  // dataMan skips them).
  for (let y = 0; p.warmOverscan && y < ny; y++) {
    const row = y * nx;
    const r = prng.nextUint32();
    words[row + xdata] = word(clampRound(bias + 4 + sigma * z[r & mask]!));
    if (nx > xdata + 1) words[row + xdata + 1] = word(clampRound(bias + 2 + sigma * z[(r >>> 16) & mask]!));
  }

  // The fiducial marks: solid, noise-free bias + level.
  for (const m of p.marks) {
    if (m.ext !== p.ext) continue;
    const w = word(clampRound(bias + m.level));
    for (let y = m.raw.y1; y <= m.raw.y2; y++) {
      words.fill(w, (y - 1) * nx + m.raw.x1 - 1, (y - 1) * nx + m.raw.x2);
    }
  }
}

/** The deviates ·64 as integers, made once per file (the four extensions share the table). */
const fixedPoint = new WeakMap<Float64Array, Int16Array>();
function fixedPointDeviates(z: Float64Array): Int16Array {
  let zq = fixedPoint.get(z);
  if (zq === undefined) {
    zq = new Int16Array(z.length);
    for (let k = 0; k < z.length; k++) zq[k] = Math.round(z[k]! * 64);
    fixedPoint.set(z, zq);
  }
  return zq;
}

/** Means above this many DN saturate whatever the noise. */
const MEAN_CAP = 70000;
/** σ cap, DN: keeps σ·64 × deviate·64 inside 32 bits with the mean. */
const SIGMA_CAP = 2000;

/** One row fully inside the slit, in fixed point (see `fillExtension`). Returns the columns written. */
function slitRow(words: Uint16Array, row: number, meanQ: Int32Array, sigmaQ: Int32Array, zq: Int16Array, idx: Uint16Array,
  table: Uint16Array): number {
  const n = meanQ.length;
  for (let x = 0; x < n; x++) {
    const v = (meanQ[x]! + Math.imul(sigmaQ[x]!, zq[idx[x]!]!)) >> 12;
    words[row + x] = table[v < 0 ? 0 : v > 65535 ? 65535 : v]!;
  }
  return n;
}

interface RowModel {
  slit: Float64Array;
  inSlit: number;
  trace: Float64Array;
  onTrace: number;
  bias: number;
  /** Read noise squared, DN². */
  variance: number;
}

/** One row at the slit's ends or on the trace: the model and its photon noise per pixel. Returns the columns written. */
function modelRow(words: Uint16Array, row: number, m: RowModel, z: Float64Array, idx: Uint16Array, table: Uint16Array): number {
  const { slit, inSlit, trace, onTrace, bias, variance } = m;
  const n = slit.length;
  for (let x = 0; x < n; x++) {
    const s = slit[x]! * inSlit + trace[x]! * onTrace;
    const v = Math.round(bias + s + z[idx[x]!]! * Math.sqrt(variance + s / GAIN_E_PER_DN));
    words[row + x] = table[v < 0 ? 0 : v > 65535 ? 65535 : v]!;
  }
  return n;
}
