/**
 * Pixel data of the four raw extensions: bias + Gaussian read noise everywhere, a spectrum
 * trace and four fiducial marks in the data columns, the 32 overscan columns last (§7).
 *
 * The scene is defined in MERGED coordinates (what dataMan's otmProc builds, §8.2) and mapped
 * back into each IMx through the inverse quadrant mapping, so that a correct merge shows the
 * trace as one straight horizontal band and each mark near the outer corner of its quadrant.
 *
 * Speed: a full frame is 25.8 million pixels. Box–Muller per pixel costs over a second on a
 * small VM, so 65,536 Box–Muller deviates are drawn once per file and each pixel picks one with
 * 16 random bits (two pixels per 32-bit draw). The noise is still Gaussian to the resolution
 * that matters after rounding to whole DN, and stays deterministic for a seed.
 */
import type { ReadoutGeometry } from '../mods/geometry.js';
import { type PixelBox, type QuadrantNumber, mergedBoxToRaw, quadrantBySource } from '../mods/merged.js';
import { type Prng, fillUint32 } from './prng.js';

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

/** The spectrum: a Gaussian row profile times a brightness along the dispersion axis (MERGED x). */
export interface TraceModel {
  /** Centre row, 0-based MERGED row coordinate. */
  centerRow: number;
  /** Profile σ in binned rows. */
  sigmaRows: number;
  /** Brightness (DN at the profile peak) per MERGED column, 0-based. */
  brightness: Float64Array;
}

/** The default trace: centred at 62% of the MERGED height, continuum plus emission lines. */
export function traceModel(geometry: ReadoutGeometry): TraceModel {
  const w = 2 * geometry.xdata;
  const h = 2 * geometry.ydata;
  const brightness = new Float64Array(w);
  const lines: Array<[number, number]> = [[0.18, 1.4], [0.31, 0.7], [0.47, 2.2], [0.63, 0.9], [0.78, 1.6], [0.9, 0.6]];
  const lineSigma = Math.max(0.6, 1.5 / geometry.bin.col);
  const peak = 9000;
  for (let x = 0; x < w; x++) {
    const u = (x + 0.5) / w;
    let b = 0.15 + 0.85 * Math.exp(-(((u - 0.55) / 0.3) ** 2));
    for (const [at, amp] of lines) {
      const dx = (x + 0.5 - at * w) / lineSigma;
      if (Math.abs(dx) < 8) b += amp * Math.exp(-0.5 * dx * dx);
    }
    brightness[x] = peak * b;
  }
  return { centerRow: 0.62 * h, sigmaRows: Math.max(0.8, 2.5 / geometry.bin.row), brightness };
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

export interface ExtensionPixels {
  /** Raw extension position 1..4. */
  ext: number;
  bias: number;
  readNoiseDn: number;
  /** First two overscan columns 4 and 2 DN high. */
  warmOverscan: boolean;
  /** Normal deviates, length 65536. */
  z: Float64Array;
  trace: TraceModel | undefined;
  marks: readonly FiducialMark[];
}

/**
 * Fills one extension's data unit (`naxis1 × naxis2` BITPIX 16 values, no padding) in place.
 * `out` must start at an even byte offset of its ArrayBuffer (FITS data units start on
 * 2880-byte blocks, so a fresh Buffer always qualifies).
 */
export function fillExtension(out: Uint8Array, geometry: ReadoutGeometry, p: ExtensionPixels, prng: Prng): void {
  const nx = geometry.naxis1;
  const ny = geometry.naxis2;
  const xdata = geometry.xdata;
  const count = nx * ny;
  if (out.length !== count * 2) throw new RangeError(`data unit is ${out.length} bytes, expected ${count * 2}`);
  if (out.byteOffset % 2 !== 0) throw new RangeError('data unit must start at an even byte offset');
  const words = new Uint16Array(out.buffer, out.byteOffset, count);
  const sigma = p.readNoiseDn;
  // Encoded bias + rounded noise, one entry per deviate.
  const enc = new Uint16Array(p.z.length);
  for (let k = 0; k < enc.length; k++) enc[k] = word(clampRound(p.bias + sigma * p.z[k]!));
  const mask = p.z.length - 1;

  // 1. Bias and noise everywhere, two pixels per 32-bit draw.
  const scratch = new Uint32Array(32768);
  for (let i = 0; i < count; ) {
    const pairs = Math.min(scratch.length, Math.ceil((count - i) / 2));
    const r = pairs === scratch.length ? scratch : scratch.subarray(0, pairs);
    fillUint32(prng, r);
    const end = Math.min(count, i + 2 * pairs);
    let k = 0;
    for (; i + 1 < end; i += 2) {
      const x = r[k++]!;
      words[i] = enc[x & mask]!;
      words[i + 1] = enc[(x >>> 16) & mask]!;
    }
    if (i < end) {
      words[i] = enc[r[k]! & mask]!;
      i += 1;
    }
  }

  // 2. Optionally, the first two overscan columns read a little high (seen in real files;
  //    dataMan skips them).
  for (let y = 0; p.warmOverscan && y < ny; y++) {
    const row = y * nx;
    const x = prng.nextUint32();
    words[row + xdata] = word(clampRound(p.bias + 4 + sigma * p.z[x & mask]!));
    if (nx > xdata + 1) words[row + xdata + 1] = word(clampRound(p.bias + 2 + sigma * p.z[(x >>> 16) & mask]!));
  }

  // 3. The spectrum trace, through the inverse MERGED mapping.
  const q = quadrantBySource(p.ext);
  if (p.trace !== undefined) {
    const t = p.trace;
    for (let y = 0; y < ny; y++) {
      const my = q.rowBlock * ny + (q.flipRows ? ny - 1 - y : y);
      const d = (my + 0.5 - t.centerRow) / t.sigmaRows;
      if (Math.abs(d) > 6) continue;
      const profile = Math.exp(-0.5 * d * d);
      const row = y * nx;
      const colBase = q.colBlock * xdata;
      for (let x = 0; x < xdata; x++) {
        const mx = colBase + (q.flipCols ? xdata - 1 - x : x);
        const n = p.z[prng.nextUint32() & mask]!;
        words[row + x] = word(clampRound(p.bias + profile * t.brightness[mx]! + sigma * n));
      }
    }
  }

  // 4. The fiducial marks: solid, noise-free bias + level.
  for (const m of p.marks) {
    if (m.ext !== p.ext) continue;
    const w = word(clampRound(p.bias + m.level));
    for (let y = m.raw.y1; y <= m.raw.y2; y++) {
      words.fill(w, (y - 1) * nx + m.raw.x1 - 1, (y - 1) * nx + m.raw.x2);
    }
  }
}
