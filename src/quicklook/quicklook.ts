/**
 * The quick look of a processed file: its MERGED image as a small greyscale PNG, shown the way
 * ds9 shows it with "zscale" and "linear" — sky and bias as grey noise, the spectrum and bright
 * lines white, FITS row 1 at the BOTTOM of the picture (PNG rows run top-down, so the rows are
 * flipped).
 *
 * Made once per delivered file (the status page serves the PNG; nothing is computed per page
 * view). Memory: the MERGED data unit is read once (98 MB for a full frame, 8292 × 3088 float32)
 * and decoded on the fly; zscale samples it and the block average reads it row by row, so no
 * second full-size array is made. The PNG is about 1/80 of a full frame's pixels.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DatamanError } from '../errors.js';
import { findHdu, readDataBytes, readHdus, withFileSource } from '../fits/index.js';
import { DEFAULT_MAX_SIZE, downsampleYielding, type Downsampled } from './downsample.js';
import { fitsBytesGrid } from './pixel-grid.js';
import { encodeGrayPng } from './png.js';
import { zscale, type ZscaleOptions } from './zscale.js';

/** The processed file has no MERGED extension (makeOTM off, or a raw file). */
export class MissingMergedError extends DatamanError {
  readonly path: string;
  constructor(path: string) {
    super('quicklook-no-merged', `${path}: no MERGED extension, so no quick look`, {
      hint: 'quick looks are made from processed files with the MERGED preview (processing.makeOTM: Y)',
    });
    this.path = path;
  }
}

/** The MERGED extension is not a 2-D image the quick look can show. */
export class QuickLookImageError extends DatamanError {
  readonly path: string;
  constructor(path: string, detail: string) {
    super('quicklook-bad-image', `${path}: MERGED ${detail}`);
    this.path = path;
  }
}

export interface QuickLookOptions {
  /** Longest side of the PNG, pixels; the image is block-averaged by an integer factor to fit. @default 1024 */
  maxSize?: number;
  /** zscale parameters (sampling, contrast…), computed on the full-resolution image. */
  zscale?: ZscaleOptions;
  /** Fixed display limits instead of zscale (ds9's "user" limits), MERGED pixel units. */
  limits?: { z1: number; z2: number };
}

export interface QuickLook {
  /** The PNG file's bytes. */
  png: Buffer;
  /** PNG width and height, pixels. */
  width: number;
  height: number;
  /** Block size: each PNG pixel is the mean of factor × factor MERGED pixels. */
  factor: number;
  /** Display limits, MERGED pixel units (DN above bias): z1 is black, z2 white. */
  z1: number;
  z2: number;
  /** MERGED width (NAXIS1) and height (NAXIS2). */
  source: { width: number; height: number };
}

/**
 * The quick look of a processed file's MERGED image: zscale limits from the full-resolution
 * image, block average to fit `maxSize`, linear grey ramp from z1 (black) to z2 (white), NaN
 * blocks white (ds9's default NaN colour).
 *
 * Throws `MissingMergedError` for a file without MERGED, `QuickLookImageError` for a MERGED
 * that is not a 2-D image, and the codec's `FitsError`s for a file that is not sound FITS.
 */
export async function makeQuickLook(processedPath: string, options: QuickLookOptions = {}): Promise<QuickLook> {
  const maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
  return withFileSource(processedPath, async (source) => {
    const hdus = await readHdus(source);
    const merged = findHdu(hdus, 'MERGED');
    if (merged === undefined) throw new MissingMergedError(processedPath);
    const [width, height] = merged.axes;
    if (merged.axes.length !== 2 || width === undefined || height === undefined || width < 1 || height < 1) {
      throw new QuickLookImageError(processedPath, `is not a 2-D image (NAXIS = ${merged.axes.length}, axes ${merged.axes.join('x') || 'none'})`);
    }
    if (merged.gcount !== 1 || merged.pcount !== 0) {
      throw new QuickLookImageError(processedPath, `has PCOUNT = ${merged.pcount}, GCOUNT = ${merged.gcount}; an image has 0 and 1`);
    }
    const bytes = await readDataBytes(source, merged);
    const grid = fitsBytesGrid(width, height, bytes, merged.bitpix, merged.header.number('BZERO') ?? 0, merged.header.number('BSCALE') ?? 1);
    const { z1, z2 } = options.limits ?? zscale(grid, options.zscale);
    // The service makes quick looks on its main thread: the 26-million-pixel pass yields.
    const small = await downsampleYielding(grid, maxSize);
    const png = encodeGrayPng(small.width, small.height, stretchToGray(small, z1, z2));
    return { png, width: small.width, height: small.height, factor: small.factor, z1, z2, source: { width, height } };
  });
}

/**
 * 8-bit grey levels, top PNG row first: round(255 · (v − z1)/(z2 − z1)) clipped to 0…255, the
 * last image row (the top in ds9) first. With z2 ≤ z1 (a flat image) a pixel is black unless
 * it is above z1. NaN is white.
 */
export function stretchToGray(image: Downsampled, z1: number, z2: number): Uint8Array {
  const { width, height, values } = image;
  const out = new Uint8Array(width * height);
  const scale = z2 > z1 ? 255 / (z2 - z1) : 0;
  for (let y = 0; y < height; y++) {
    const from = y * width;
    const to = (height - 1 - y) * width;
    for (let x = 0; x < width; x++) {
      const v = values[from + x]!;
      let level: number;
      if (Number.isNaN(v)) level = 255;
      else if (scale === 0) level = v > z1 ? 255 : 0;
      else level = Math.min(255, Math.max(0, Math.round((v - z1) * scale)));
      out[to + x] = level;
    }
  }
  return out;
}

/**
 * Makes the quick look of a processed file and writes it to `outPng` atomically: a temporary
 * file beside it (dot-prefixed, not ending in `.png`), flushed, then renamed over `outPng`, so
 * that the status page never serves half a picture. Resolves to what `makeQuickLook` returns.
 */
export async function writeQuickLook(processedPath: string, outPng: string, options: QuickLookOptions = {}): Promise<QuickLook> {
  const look = await makeQuickLook(processedPath, options);
  const temp = join(dirname(outPng), `.${basename(outPng)}.tmp-${randomBytes(6).toString('hex')}`);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(look.png);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, outPng);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  return look;
}
