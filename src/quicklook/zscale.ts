/**
 * IRAF's zscale display limits, as ds9 and astropy compute them.
 *
 * Purpose: the limits z1, z2 between which a linear grey ramp shows the noise of the sky or
 * bias, with bright features (spectra, lines, cosmic rays) saturated — what ds9 users know as
 * "zscale".
 *
 * Algorithm (IRAF `images.tv.display` zscale; astropy `visualization.ZScaleInterval`, 5.2):
 * 1. Sample about `nSamples` finite pixels and sort them; `vmin`, `vmax` are the extremes.
 * 2. Fit a straight line to the sorted values against their index, by least squares over the
 *    samples not yet rejected. Reject samples further than `krej`·σ from the line (σ: the
 *    population standard deviation of the residuals of the retained samples), grow every
 *    rejected sample by a window of max(1, ⌊0.01·N⌋) neighbours, and iterate up to
 *    `maxIterations` times, until no more samples are rejected or fewer than
 *    max(`minPixels`, ⌊`maxReject`·N⌋) remain.
 * 3. If enough samples remain: slope ← slope / `contrast`;
 *    z1 = max(vmin, median − (c − 1)·slope), z2 = min(vmax, median + (N − c)·slope),
 *    c = ⌊(N − 1)/2⌋. Otherwise z1 = vmin, z2 = vmax.
 *
 * Sampling differs from astropy on purpose: astropy takes every k-th pixel of the flattened
 * array, which for some image widths falls on a few columns only (a 1000-wide image sampled
 * with stride 1000 is one column). We sample a regular 2-D grid, as IRAF does. Given the same
 * samples (`zscaleFromSamples`), the result equals astropy's.
 *
 * References: IRAF `pkg/images/tv/display/zscale.x`; astropy `visualization/interval.py`.
 */
import type { PixelGrid } from './pixel-grid.js';

export interface ZscaleOptions {
  /** Pixels to sample (about; a grid is used). @default 1000 (astropy's default) */
  nSamples?: number;
  /** Contrast: the fitted slope is divided by it; smaller widens the limits. @default 0.25 */
  contrast?: number;
  /** Fall back to min/max when more than this fraction of the samples is rejected. @default 0.5 */
  maxReject?: number;
  /** Fall back to min/max when fewer samples than this remain. @default 5 */
  minPixels?: number;
  /** Rejection threshold in standard deviations of the residuals. @default 2.5 */
  krej?: number;
  /** Rejection iterations at most. @default 5 */
  maxIterations?: number;
}

export interface ZscaleLimits {
  /** Lower display limit (same unit as the pixels). */
  z1: number;
  /** Upper display limit. */
  z2: number;
  /** Finite samples used; 0 when the image has no finite pixel (then z1 = z2 = 0). */
  samples: number;
}

const DEFAULTS: Required<ZscaleOptions> = {
  nSamples: 1000, contrast: 0.25, maxReject: 0.5, minPixels: 5, krej: 2.5, maxIterations: 5,
};

/** zscale limits of an image, sampled on a regular grid (see the module notes). */
export function zscale(image: PixelGrid, options: ZscaleOptions = {}): ZscaleLimits {
  return zscaleFromSamples(gridSamples(image, options.nSamples ?? DEFAULTS.nSamples), options);
}

/**
 * About `nSamples` pixels on a regular grid of nx × ny points, nx/ny close to the image's
 * aspect ratio, each point at the centre of its cell. Every pixel when the image has no more
 * than `nSamples`. Non-finite values are included (the fit drops them).
 */
export function gridSamples(image: PixelGrid, nSamples: number): Float64Array {
  const { width, height } = image;
  if (!(nSamples >= 1)) throw new RangeError(`nSamples must be at least 1, got ${nSamples}`);
  const step = Math.sqrt((width * height) / nSamples);
  const nx = Math.max(1, Math.min(width, Math.round(width / step)));
  const ny = Math.max(1, Math.min(height, Math.round(height / step)));
  const out = new Float64Array(nx * ny);
  let k = 0;
  for (let j = 0; j < ny; j++) {
    const y = Math.floor(((j + 0.5) * height) / ny);
    for (let i = 0; i < nx; i++) out[k++] = image.at(Math.floor(((i + 0.5) * width) / nx), y);
  }
  return out;
}

/**
 * zscale limits from samples already taken (the fit of the module notes, steps 2–3). The
 * non-finite samples are dropped, the rest sorted (on a copy).
 */
export function zscaleFromSamples(values: ArrayLike<number>, options: ZscaleOptions = {}): ZscaleLimits {
  const o = { ...DEFAULTS, ...options };
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) finite.push(values[i]!);
  const samples = Float64Array.from(finite).sort();
  const npix = samples.length;
  if (npix === 0) return { z1: 0, z2: 0, samples: 0 };
  let vmin = samples[0]!;
  let vmax = samples[npix - 1]!;

  const minpix = Math.max(o.minPixels, Math.trunc(npix * o.maxReject));
  const ngrow = Math.max(1, Math.trunc(npix * 0.01));
  let bad: Uint8Array = new Uint8Array(npix);
  let ngood = npix;
  let lastNgood = npix + 1;
  let fit: { slope: number; intercept: number } | undefined;
  const flat = new Float64Array(npix);
  for (let iteration = 0; iteration < o.maxIterations; iteration++) {
    if (ngood >= lastNgood || ngood < minpix) break;
    fit = fitLine(samples, bad);
    let sum = 0;
    let count = 0;
    for (let i = 0; i < npix; i++) {
      flat[i] = samples[i]! - (fit.intercept + fit.slope * i);
      if (bad[i] === 0) {
        sum += flat[i]!;
        count++;
      }
    }
    const mean = sum / count;
    let sq = 0;
    for (let i = 0; i < npix; i++) if (bad[i] === 0) sq += (flat[i]! - mean) ** 2;
    const threshold = o.krej * Math.sqrt(sq / count);
    for (let i = 0; i < npix; i++) if (flat[i]! < -threshold || flat[i]! > threshold) bad[i] = 1;
    bad = grow(bad, ngrow);
    lastNgood = ngood;
    ngood = 0;
    for (let i = 0; i < npix; i++) if (bad[i] === 0) ngood++;
  }

  if (fit !== undefined && ngood >= minpix) {
    const slope = o.contrast > 0 ? fit.slope / o.contrast : fit.slope;
    const center = Math.trunc((npix - 1) / 2);
    const median = npix % 2 === 1 ? samples[center]! : (samples[center]! + samples[center + 1]!) / 2;
    vmin = Math.max(vmin, median - (center - 1) * slope);
    vmax = Math.min(vmax, median + (npix - center) * slope);
  }
  return { z1: vmin, z2: vmax, samples: npix };
}

/** Least-squares line through (i, y[i]) over the samples with bad[i] = 0, in centred sums. */
function fitLine(y: Float64Array, bad: Uint8Array): { slope: number; intercept: number } {
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < y.length; i++) {
    if (bad[i] !== 0) continue;
    n++;
    sx += i;
    sy += y[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < y.length; i++) {
    if (bad[i] !== 0) continue;
    const dx = i - mx;
    sxx += dx * dx;
    sxy += dx * (y[i]! - my);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { slope, intercept: my - slope * mx };
}

/**
 * Dilates the rejection mask as numpy's `convolve(mask, ones(n), mode='same')` does: sample i
 * becomes bad when any of samples i − ⌊n/2⌋ … i + ⌊(n−1)/2⌋ is bad.
 */
function grow(bad: Uint8Array, n: number): Uint8Array {
  if (n <= 1) return bad;
  const before = Math.floor(n / 2);
  const after = Math.floor((n - 1) / 2);
  const out = new Uint8Array(bad.length);
  for (let j = 0; j < bad.length; j++) {
    if (bad[j] === 0) continue;
    const from = Math.max(0, j - after);
    const to = Math.min(bad.length - 1, j + before);
    for (let i = from; i <= to; i++) out[i] = 1;
  }
  return out;
}
