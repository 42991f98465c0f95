/**
 * The picture a MODS exposure records, in MERGED coordinates (what dataMan's otmProc builds,
 * §8.2): dispersion along x, the slit along y. It is a sum of two separable parts,
 *
 *   signal(x, y) = slitColumns[x] · slitRows[y] + traceColumns[x] · traceRows[y]   (DN),
 *
 * the light filling the slit (sky lines, arc lines or the flat lamp, uniform along the slit
 * and dark beyond its ends) and the target's spectrum, a Gaussian trace in y. Separable parts
 * let `pixels.ts` fill most rows from two precomputed arrays instead of evaluating a model per
 * pixel (a full frame is 25.8 million pixels).
 *
 * Counts are per binned pixel: a 2x2-binned pixel collects four unbinned pixels' light.
 */
import type { ResolvedOptions } from './options.js';
import { type SceneKind, type TargetKind, columnSpectra } from './spectra.js';

export interface SceneModel {
  /** DN per binned pixel fully inside the slit, per MERGED column (0-based). */
  slitColumns: Float64Array;
  /** Fraction of each MERGED row (0-based) inside the slit, 0..1. */
  slitRows: Float64Array;
  /** DN per binned pixel at the trace's peak (unbinned) row, per MERGED column; undefined without a target. */
  traceColumns: Float64Array | undefined;
  /** The trace's profile summed over each binned row (peak 1 per unbinned row); 0 beyond 6 σ. */
  traceRows: Float64Array;
}

/** A MODS long slit is 5 arcmin long, centred on the CCD. */
const SLIT_LENGTH_ARCSEC = 300;
/** Seeing: 0.7 arcsec FWHM, a good night at the LBT. */
const SEEING_FWHM_ARCSEC = 0.7;
/** The trace sits at 62% of the MERGED height (in Q3/Q4, away from the quadrant seam). */
export const TRACE_ROW_FRACTION = 0.62;

/** What lights the slit for an image type: the sky when the shutter opens on the sky, a lamp for calibrations. */
export function sceneKind(imageType: string): SceneKind {
  switch (imageType.toLowerCase()) {
    case 'object': case 'std': return 'sky';
    case 'comp': return 'arc';
    case 'flat': return 'flat';
    default: return 'dark';
  }
}

/** The scene of a file, or undefined when nothing but bias and read noise is recorded (bias, dark, zero, 0 s). */
export function sceneModel(o: ResolvedOptions): SceneModel | undefined {
  const kind = sceneKind(o.imageType);
  const target: TargetKind | undefined = o.trace ? (o.imageType.toLowerCase() === 'std' ? 'star' : 'galaxy') : undefined;
  if ((kind === 'dark' && target === undefined) || o.exptimeS === 0) return undefined;
  const g = o.geometry;
  const { bin, roi, detector } = g;
  const width = 2 * g.xdata;
  const height = 2 * g.ydata;
  const spectra = columnSpectra(o.channel.color, detector.cols, kind, target);
  const t = o.exptimeS;

  // Columns: sum the unbinned columns of each binned one; a binned pixel also spans bin.row rows of slit light.
  const slitColumns = new Float64Array(width);
  const traceColumns = spectra.trace ? new Float64Array(width) : undefined;
  for (let x = 0; x < width; x++) {
    let slit = 0;
    let trace = 0;
    for (let k = 0; k < bin.col; k++) {
      const c = Math.min(detector.cols - 1, roi.x1 - 1 + x * bin.col + k);
      slit += spectra.slit[c]!;
      if (spectra.trace) trace += spectra.trace[c]!;
    }
    slitColumns[x] = slit * bin.row * t;
    if (traceColumns) traceColumns[x] = trace * t;
  }

  // Rows: the slit in detector rows, the trace relative to the ROI.
  const slitHalf = SLIT_LENGTH_ARCSEC / o.channel.pixscaleArcsec / 2;
  const slitCentre = detector.rows / 2;
  const sigma = SEEING_FWHM_ARCSEC / o.channel.pixscaleArcsec / (2 * Math.sqrt(2 * Math.log(2)));
  const traceCentre = TRACE_ROW_FRACTION * height * bin.row;
  const slitRows = new Float64Array(height);
  const traceRows = new Float64Array(height);
  for (let y = 0; y < height; y++) {
    let inside = 0;
    let profile = 0;
    for (let k = 0; k < bin.row; k++) {
      const u = y * bin.row + k + 0.5; // unbinned row centre from the ROI start
      // Slit ends soft over about two pixels.
      inside += Math.min(1, Math.max(0, slitHalf - Math.abs(roi.y1 - 1 + u - slitCentre) + 0.5));
      const d = (u - traceCentre) / sigma;
      if (traceColumns && Math.abs(d) <= 6) profile += Math.exp(-0.5 * d * d);
    }
    slitRows[y] = inside / bin.row;
    traceRows[y] = profile;
  }
  return { slitColumns, slitRows, traceColumns, traceRows };
}
